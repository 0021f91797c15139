/**
 * CA hot reload: a valid new pair replaces the old atomically; a broken,
 * half-written or mismatched pair keeps the old CA signing and is counted.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { CaStore } from '../../src/controller/ca-store.js';
import type { Observer } from '../../src/controller/observer.js';
import type { SignerConfig } from '../../src/signer/types.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { until } from '../helpers/csr-min.js';
import { installPair, secretDir } from '../helpers/secret-dir.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const keys = tempDir('ca-store-');
const caA = makeOpensslCa(keys, 'a', 'p256');
const caB = makeOpensslCa(keys, 'b', 'p256');
const expired = makeOpensslCa(keys, 'old', 'p256', { days: 1 });

function signerIn(dir: string): SignerConfig {
  return {
    name: 'example.com/serving', source: 'test', ca: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') },
    defaultDurationMs: 3_600_000, maxDurationMs: 3_600_000, includeChain: false,
  };
}

function recorder(): { observer: Observer; results: string[] } {
  const results: string[] = [];
  const ignore = (): void => undefined;
  return {
    results,
    observer: { issued: ignore, failed: ignore, conflict: ignore, retried: ignore, watchRestarted: ignore, caReloaded: (_s, r) => { results.push(r); } },
  };
}

const logger = pino({ level: 'silent' });
const subject = (store: CaStore): string => store.lookup('example.com/serving').certificate.subject;

void t.test('a new valid pair replaces the old one; unchanged files are only compared', async (t) => {
  const dir = secretDir(caA.certPem, caA.keyPem);
  const { observer, results } = recorder();
  const store = new CaStore([signerIn(dir)], { logger, observer });
  await store.loadAll();
  t.match(subject(store), /CN=a test CA/);
  await store.check();
  t.same(results, ['unchanged']);
  installPair(dir, caB.certPem, caB.keyPem);
  await store.check();
  t.match(subject(store), /CN=b test CA/);
  t.same(results, ['unchanged', 'success']);
});

void t.test('a broken, half-written or mismatched pair keeps the old CA and counts an error', async (t) => {
  const dir = secretDir(caA.certPem, caA.keyPem);
  const { observer, results } = recorder();
  const store = new CaStore([signerIn(dir)], { logger, observer });
  await store.loadAll();
  const cases: [string, string | Buffer, string | Buffer, RegExp][] = [
    ['garbage certificate', 'not a certificate', caB.keyPem, /CERTIFICATE/],
    ['half-written key', caB.certPem, caB.keyPem.slice(0, 60), /key/i],
    ['key of another CA', caB.certPem, caA.keyPem, /matches none/],
    ['empty files', '', '', /./],
  ];
  for (const [name, cert, key, error] of cases) {
    installPair(dir, cert, key);
    await store.check();
    t.match(subject(store), /CN=a test CA/, `${name}: the old CA still signs`);
    t.match(store.state('example.com/serving').error, error, `${name}: the reason is kept`);
  }
  t.same(results, ['error', 'error', 'error', 'error']);
  installPair(dir, caB.certPem, caB.keyPem);
  await store.check();
  t.match(subject(store), /CN=b test CA/, 'a good pair afterwards is taken');
  t.equal(store.state('example.com/serving').error, undefined, 'and clears the error');
});

void t.test('a bundle of old and new CA with the new key: the certificate matching the key signs', async (t) => {
  const dir = secretDir(caA.certPem, caA.keyPem);
  const store = new CaStore([signerIn(dir)], { logger });
  await store.loadAll();
  installPair(dir, caA.certPem + caB.certPem, caB.keyPem);
  await store.check();
  t.match(subject(store), /CN=b test CA/);
  t.equal(store.lookup('example.com/serving').extraTrust.length, 1, 'the old CA is kept as extra trust');
});

void t.test('an expired CA at start does not stop the process: no CA until a valid one arrives', async (t) => {
  const dir = secretDir(expired.certPem, expired.keyPem);
  const store = new CaStore([signerIn(dir)], { logger, now: () => new Date(Date.now() + 3 * 86_400_000) });
  await store.loadAll();
  t.throws(() => store.lookup('example.com/serving'), /has no valid CA: .*expired/);
  t.match(store.state('example.com/serving').error, /expired/);
  t.end();
});

void t.test('any other bad CA at start is fatal, naming the signer and the file', async (t) => {
  const dir = tempDir('bad-');
  copyFileSync(caA.certPath, join(dir, 'tls.crt'));
  writeFileSync(join(dir, 'tls.key'), caB.keyPem);
  await t.rejects(new CaStore([signerIn(dir)], { logger }).loadAll(), /signer example\.com\/serving: .*tls\.key/);
  rmSync(join(dir, 'tls.key'));
  await t.rejects(new CaStore([signerIn(dir)], { logger }).loadAll(), /cannot read the CA key .*ENOENT/);
});

void t.test('a symlink swap is noticed without polling', async (t) => {
  const dir = secretDir(caA.certPem, caA.keyPem);
  const store = new CaStore([signerIn(dir)], { logger });
  await store.loadAll();
  store.watch(3_600_000);
  installPair(dir, caB.certPem, caB.keyPem);
  await until(() => /CN=b test CA/.test(subject(store)), 10_000);
  store.close();
  t.pass('reloaded on the change notification');
});
