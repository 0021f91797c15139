/**
 * CA hot reload: a valid new pair replaces the old atomically; a broken,
 * half-written or mismatched pair keeps the old CA signing and is counted.
 */
import { chmodSync, copyFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import t from 'tap';
import { systemClock } from '../../src/clock.js';
import { CaStore } from '../../src/trust/ca-store.js';
import type { Observer } from '../../src/telemetry/observer.js';
import type { SignerConfig } from '../../src/signer/types.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { until } from '../helpers/wait.js';
import { installFiles, installPair, secretDir, secretDirWith } from '../helpers/secret-dir.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const keys = tempDir('ca-store-');
const caA = makeOpensslCa(keys, 'a', 'p256');
const caB = makeOpensslCa(keys, 'b', 'p256');
const expired = makeOpensslCa(keys, 'old', 'p256', { days: 1 });

/** A signer with its CA files (signing on). */
type SignerWithCa = SignerConfig & { readonly ca: NonNullable<SignerConfig['ca']> };

function signerIn(dir: string): SignerWithCa {
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
  const store = new CaStore([signerIn(dir)], { logger, clock: { ...systemClock, now: () => Date.now() + 3 * 86_400_000 } });
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

void t.test('a signer without CA files (its config left ca out: signing off) is refused in one sentence, not read from undefined paths', async (t) => {
  const withoutCa: SignerConfig = { name: 'example.com/serving', source: 'test', defaultDurationMs: 3_600_000, maxDurationMs: 3_600_000, includeChain: false };
  await t.rejects(new CaStore([withoutCa], { logger }).loadAll(), {
    kind: 'InvalidArgument',
    message: 'signer example.com/serving: has no CA files (ca: is left out because signing is off), so no CA is loaded for it',
  });
});

void t.test('a symlink swap is noticed without polling', async (t) => {
  const dir = secretDir(caA.certPem, caA.keyPem);
  const store = new CaStore([signerIn(dir)], { logger });
  await store.loadAll();
  store.watch(3_600_000);
  installPair(dir, caB.certPem, caB.keyPem);
  await until(() => /CN=b test CA/.test(subject(store)), 10_000);
  await store.close();
  t.pass('reloaded on the change notification');
});

// ----------------------------------------------------------------- the trust bundle

const caC = makeOpensslCa(keys, 'c', 'p256');
const caD = makeOpensslCa(keys, 'd', 'p256');
const leaf = makeOpensslCa(keys, 'leaf', 'p256', { extensions: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature'] });

/** A Secret-like directory with tls.crt, tls.key and trust.pem, and a signer reading all three. */
function withTrust(cert: string, key: string, trust: string): { dir: string; signer: SignerWithCa } {
  const dir = secretDirWith({ 'tls.crt': cert, 'tls.key': key, 'trust.pem': trust });
  const signer = signerIn(dir);
  return { dir, signer: { ...signer, ca: { ...signer.ca, trustFile: join(dir, 'trust.pem') } } };
}
const trusted = (store: CaStore): string[] => store.trust('example.com/serving').map((c) => c.subject.replace(/^CN=(\w+) test CA.*$/, '$1'));

void t.test('the trust bundle is the signing CA first, then the other CAs of the certificate file, then the trust file\'s, each once', async (t) => {
  const { signer } = withTrust(caC.certPem + caA.certPem + caB.certPem, caA.keyPem, caD.certPem + caA.certPem + caB.certPem + caC.certPem);
  const store = new CaStore([signer], { logger });
  await store.loadAll();
  t.match(subject(store), /CN=a test CA/, 'the certificate matching the key signs');
  t.same(trusted(store), ['a', 'c', 'b', 'd']);
  t.same(store.trust('example.com/serving').map((c) => Buffer.from(c.der).toString('base64')),
    [caA, caC, caB, caD].map((c) => c.certPem.replace(/-----[A-Z ]+-----|\s/g, '')), 'the certificates themselves, byte for byte');
  t.same(store.trust('example.com/unknown'), [], 'a signer the store does not know has an empty bundle');
});

void t.test('without a trust file the bundle is the CAs of the certificate file alone', async (t) => {
  const store = new CaStore([signerIn(secretDir(caA.certPem + caB.certPem, caB.keyPem))], { logger });
  await store.loadAll();
  t.same(trusted(store), ['b', 'a']);
  const single = new CaStore([signerIn(secretDir(caA.certPem, caA.keyPem))], { logger });
  await single.loadAll();
  t.same(trusted(single), ['a']);
});

void t.test('a certificate file\'s non-CA certificate is left out of the bundle', async (t) => {
  const store = new CaStore([signerIn(secretDir(caA.certPem + leaf.certPem, caA.keyPem))], { logger });
  await store.loadAll();
  t.same(trusted(store), ['a']);
});

void t.test('a non-CA certificate in the trust file is fatal at start, naming the file and the certificate', async (t) => {
  const { signer } = withTrust(caA.certPem, caA.keyPem, caB.certPem + leaf.certPem);
  await t.rejects(new CaStore([signer], { logger }).loadAll(), {
    kind: 'CaCertificateInvalid', message: /signer example\.com\/serving: .*trust\.pem.*certificate 2 \(CN=leaf test CA.*\) is not a CA/,
  });
});

void t.test('a non-CA certificate in the trust file on reload rejects the pair: the old CA and bundle stay, no listener is told', async (t) => {
  const { dir, signer } = withTrust(caA.certPem, caA.keyPem, caB.certPem);
  const { observer, results } = recorder();
  const changed: string[] = [];
  const store = new CaStore([signer], { logger, observer });
  store.onChange((name) => changed.push(name));
  await store.loadAll();
  installFiles(dir, { 'tls.crt': caC.certPem, 'tls.key': caC.keyPem, 'trust.pem': leaf.certPem + caA.certPem });
  await store.check();
  t.match(subject(store), /CN=a test CA/, 'the old CA still signs');
  t.same(trusted(store), ['a', 'b'], 'and the old bundle is still published');
  t.match(store.state('example.com/serving').error, /trust\.pem.*certificate 1 \(CN=leaf test CA.*\) is not a CA/);
  t.same(results, ['error']);
  t.same(changed, []);
  installFiles(dir, { 'tls.crt': caC.certPem, 'tls.key': caC.keyPem, 'trust.pem': caA.certPem });
  await store.check();
  t.same(trusted(store), ['c', 'a'], 'a good set afterwards is taken');
  t.same(changed, ['example.com/serving']);
});

void t.test('a change to the trust file alone is a reload and tells the listeners, once', async (t) => {
  const { dir, signer } = withTrust(caA.certPem, caA.keyPem, caB.certPem);
  const { observer, results } = recorder();
  const changed: string[] = [];
  const store = new CaStore([signer], { logger, observer });
  store.onChange((name) => changed.push(name));
  await store.loadAll();
  t.same(trusted(store), ['a', 'b']);
  installFiles(dir, { 'tls.crt': caA.certPem, 'tls.key': caA.keyPem, 'trust.pem': caB.certPem + caD.certPem });
  await store.check();
  t.same(trusted(store), ['a', 'b', 'd'], 'the new CA is trusted (prepare)');
  await store.check();
  installFiles(dir, { 'tls.crt': caA.certPem, 'tls.key': caA.keyPem, 'trust.pem': '' });
  await store.check();
  t.same(trusted(store), ['a'], 'an emptied trust file leaves the signing CA alone (retire)');
  t.same(results, ['success', 'unchanged', 'success']);
  t.same(changed, ['example.com/serving', 'example.com/serving']);
});

void t.test('a missing trust file is an error naming it: fatal at start, the old CA kept on reload', async (t) => {
  const { signer } = withTrust(caA.certPem, caA.keyPem, caB.certPem);
  const missing = { ...signer, ca: { ...signer.ca, trustFile: join(keys, 'no-such-trust.pem') } };
  await t.rejects(new CaStore([missing], { logger }).loadAll(), /signer example\.com\/serving: cannot read the trust file .*no-such-trust\.pem: ENOENT/);
  const { dir, signer: present } = withTrust(caA.certPem, caA.keyPem, caB.certPem);
  const store = new CaStore([present], { logger });
  await store.loadAll();
  installFiles(dir, { 'tls.crt': caA.certPem, 'tls.key': caA.keyPem });
  await store.check();
  t.match(subject(store), /CN=a test CA/);
  t.same(trusted(store), ['a', 'b']);
  t.match(store.state('example.com/serving').error, /cannot read the trust file .*trust\.pem: ENOENT/);
});

// ----------------------------------------------------------------- key file permissions

/** A logger that keeps its warn-and-above lines. */
function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } }) };
}

/** A Secret-like directory whose key (the symlink's target) has `mode`. */
function keyWithMode(mode: number): { dir: string; target: string } {
  const dir = secretDir(caA.certPem, caA.keyPem);
  const target = realpathSync(join(dir, 'tls.key'));
  chmodSync(target, mode);
  return { dir, target };
}

const permissionCases: [string, number, boolean, 'loads' | 'warns' | 'refused'][] = [
  ['an owner-only key (0600) loads without a warning', 0o600, false, 'loads'],
  ['a group-readable key (0640) is normal: no warning', 0o640, false, 'loads'],
  ['a Secret mounted with defaultMode 0440 is normal, even when strict', 0o440, true, 'loads'],
  ['a world-readable key (0644) loads with a warning naming the file and mode', 0o644, false, 'warns'],
  ['a world-readable key (0604) is refused with --strict-key-permissions', 0o604, true, 'refused'],
  ['a world-readable key (0444) is refused with --strict-key-permissions', 0o444, true, 'refused'],
];

for (const [name, mode, strict, outcome] of permissionCases) {
  void t.test(name, async (t) => {
    const { dir, target } = keyWithMode(mode);
    const { logger, lines } = capture();
    const store = new CaStore([signerIn(dir)], { logger, strictKeyPermissions: strict });
    const octal = `0${mode.toString(8)}`;
    if (outcome === 'refused') {
      await t.rejects(store.loadAll(), { kind: 'InvalidArgument', message: new RegExp(`signer example\\.com/serving: the CA key .*tls\\.key is readable by everyone \\(mode ${octal}\\)`) });
      t.throws(() => store.lookup('example.com/serving'), /no valid CA/, 'no CA');
      return;
    }
    await store.loadAll();
    t.match(subject(store), /CN=a test CA/, 'the CA is loaded');
    const warnings = lines.filter((l) => l['msg'] === 'CA key file is world-readable');
    if (outcome === 'loads') {
      t.same(warnings, [], 'no warning');
    } else {
      t.match(warnings, [{ level: 40, signer: 'example.com/serving', file: join(dir, 'tls.key'), mode: octal }], 'one warning: signer, file, mode');
      t.notOk(lines.some((l) => JSON.stringify(l).includes(target) && l['msg'] !== 'CA key file is world-readable'), 'nothing else');
    }
  });
}

void t.test('the mode checked is the symlink target\'s, not the link\'s (a link is always 0777)', async (t) => {
  const { dir } = keyWithMode(0o640);
  const { logger, lines } = capture();
  await new CaStore([signerIn(dir)], { logger, strictKeyPermissions: true }).loadAll();
  t.same(lines, [], 'a 0640 target behind a 0777 symlink loads, strict, without a warning');
});

void t.test('with --strict-key-permissions a world-readable key on reload is rejected and the old CA stays', async (t) => {
  const { dir } = keyWithMode(0o600);
  const { observer, results } = recorder();
  const store = new CaStore([signerIn(dir)], { logger, observer, strictKeyPermissions: true });
  await store.loadAll();
  installPair(dir, caB.certPem, caB.keyPem);
  chmodSync(realpathSync(join(dir, 'tls.key')), 0o644);
  await store.check();
  t.match(subject(store), /CN=a test CA/, 'the old CA still signs');
  t.same(results, ['error']);
  t.match(store.state('example.com/serving').error, /readable by everyone \(mode 0644\)/);
  chmodSync(realpathSync(join(dir, 'tls.key')), 0o640);
  await store.check();
  t.match(subject(store), /CN=b test CA/, 'taken once the mode is fixed');
});

// ----------------------------------------------------------------- validity and ambiguous keys

void t.test('a CA not yet valid at start does not stop the process: no CA until it becomes valid, then it signs', async (t) => {
  const dir = secretDir(caA.certPem, caA.keyPem);
  let at = Date.now() - 3 * 86_400_000;
  const { observer, results } = recorder();
  const store = new CaStore([signerIn(dir)], { logger, observer, clock: { ...systemClock, now: () => at } });
  await store.loadAll();
  t.throws(() => store.lookup('example.com/serving'), /has no valid CA: .*tls\.crt: the CA certificate ".*" is not valid before /);
  t.match(store.state('example.com/serving').error, /not valid before/);
  await store.check();
  t.throws(() => store.lookup('example.com/serving'), /not valid before/, 'still not valid on the next poll');
  at = Date.now();
  await store.check();
  t.match(subject(store), /CN=a test CA/, 'the same files are taken once the CA is valid');
  t.equal(store.state('example.com/serving').error, undefined);
  t.same(results, ['error', 'success']);
});

void t.test('a new pair that is not yet valid keeps the old CA signing until it is', async (t) => {
  const dir = secretDir(caA.certPem, caA.keyPem);
  let at = Date.now();
  const store = new CaStore([signerIn(dir)], { logger, clock: { ...systemClock, now: () => at } });
  await store.loadAll();
  const future = makeOpensslCa(keys, 'future', 'p256');
  installPair(dir, future.certPem, future.keyPem);
  at = Date.now() - 86_400_000;
  await store.check();
  t.match(subject(store), /CN=a test CA/, 'the old CA still signs');
  t.match(store.state('example.com/serving').error, /not valid before/, 'and the reason is kept');
  at = Date.now();
  await store.check();
  t.match(subject(store), /CN=future test CA/, 'the new pair is taken once it is valid');
});

void t.test('a key file with two private keys is fatal at start and rejected on reload', async (t) => {
  const twoKeys = caA.keyPem + caB.keyPem;
  await t.rejects(new CaStore([signerIn(secretDir(caA.certPem, twoKeys))], { logger }).loadAll(),
    { kind: 'CaKeyAmbiguous', message: /signer example\.com\/serving: .*tls\.key: the key file holds 2 private keys/ });
  const dir = secretDir(caA.certPem, caA.keyPem);
  const store = new CaStore([signerIn(dir)], { logger });
  await store.loadAll();
  installPair(dir, caB.certPem, caB.keyPem + caA.keyPem);
  await store.check();
  t.match(subject(store), /CN=a test CA/, 'the old CA still signs');
  t.match(store.state('example.com/serving').error, /holds 2 private keys/);
});
