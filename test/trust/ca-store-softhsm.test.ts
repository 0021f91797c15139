/**
 * The CA store with keys on a real SoftHSM2 token (the keys generated on it, never
 * extractable): a key URI of the configuration, a key file holding a URI, the certificate
 * read from the token, a rotation from a file key to a token key, a wrong PIN at start, and
 * a token that goes away (readiness has the reason, a reload keeps the old CA) and comes back.
 */
import { writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { signRequest } from '../../src/pki/index.js';
import type { SignerConfig } from '../../src/signer/types.js';
import type { Observer } from '../../src/telemetry/observer.js';
import { CaStore } from '../../src/trust/ca-store.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { rawRequest } from '../helpers/der-build.js';
import { installFiles, secretDirWith } from '../helpers/secret-dir.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, removeToken, softhsmTools } from '../helpers/softhsm.js';
import { must } from '../helpers/ca.js';
import { needTool, opensslVerify, run, tempDir } from '../helpers/tools.js';

for (const tool of ['openssl', ...softhsmTools]) if (!needTool(t, tool)) process.exit(0);

const token = makeSoftToken();
// The module reads its configuration from the environment of this process.
process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
const p256 = makeTokenCa(token, generateTokenKey(token, 'p256', 'cakey', '01'), 'p256');
const rsa = makeTokenCa(token, generateTokenKey(token, 'rsa2048', 'rsakey', '02'), 'rsa');
const dir = tempDir('ca-store-softhsm-');
const fileCa = makeOpensslCa(dir, 'file', 'p256');
const name = 'example.com/serving';
const logger = pino({ level: 'silent' });
const pkcs11 = { module: token.module, pinFile: token.pinFile, sessions: 2 };

// The RSA CA's certificate also on the token, as object "rsacert" (for ca.cert).
const der = join(dir, 'rsa.der');
must(run('openssl', ['x509', '-in', rsa.certPath, '-outform', 'DER', '-out', der]), 'openssl x509 -outform DER');
must(run('pkcs11-tool', ['--module', token.module, '--token-label', token.label, '--login', '--pin', token.pin,
  '--write-object', der, '--type', 'cert', '--label', 'rsacert', '--id', '02'], { env: token.env }), 'pkcs11-tool --write-object');

const signer = (ca: NonNullable<SignerConfig['ca']>): SignerConfig =>
  ({ name, source: '/etc/csr-signer/signers.yaml', ca, defaultDurationMs: 3_600_000, maxDurationMs: 3_600_000, includeChain: false });
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const issue = async (store: CaStore): Promise<string> => (await signRequest(rawRequest({ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }),
  { usages: ['digital signature', 'client auth'], maxDurationMs: 3_600_000 }, store.lookup(name), { now: new Date(), random })).pem;
const message = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (isCsrSignerError(e) ? `${e.kind}: ${e.message}` : String(e)));

function recorder(): { observer: Observer; reloads: string[]; errors: string[] } {
  const reloads: string[] = [];
  const errors: string[] = [];
  const ignore = (): void => undefined;
  return {
    reloads, errors,
    observer: { issued: ignore, failed: ignore, conflict: ignore, retried: ignore, watchRestarted: ignore,
      caReloaded: (_s, r) => { reloads.push(r); }, keyProviderError: (_s, op) => { errors.push(op); } },
  };
}

void t.test('a key URI of the configuration signs certificates that verify with openssl', async (t) => {
  const store = new CaStore([signer({ certFile: p256.certPath, keyUri: p256.key.uri, pkcs11 })], { logger });
  t.teardown(() => store.close());
  await store.loadAll();
  t.equal(store.lookup(name).certificate.subject, 'O=csr-signer tests,CN=p256 token CA');
  t.equal(opensslVerify(dir, p256.certPem, await issue(store)).code, 0);
  t.same(store.state(name).keyProvider, {}, 'the token answers');
});

void t.test('the certificate read from the token (ca.cert), the key from a key file holding its URI', async (t) => {
  const secrets = secretDirWith({ 'tls.key': `${rsa.key.uri}\n` });
  const store = new CaStore([signer({ certUri: `pkcs11:token=${token.label};object=rsacert;type=cert`, keyFile: join(secrets, 'tls.key'), pkcs11 })], { logger });
  t.teardown(() => store.close());
  await store.loadAll();
  t.equal(store.lookup(name).certificate.subject, 'O=csr-signer tests,CN=rsa token CA');
  t.equal(opensslVerify(dir, rsa.certPem, await issue(store)).code, 0);
});

void t.test('a wrong PIN, a missing key and a certificate of another key at start: one sentence each', async (t) => {
  const wrong = join(tempDir('pin-'), 'pin');
  writeFileSync(wrong, '9999\n', { mode: 0o600 });
  const cases: [string, NonNullable<SignerConfig['ca']>, RegExp][] = [
    ['a wrong PIN', { certFile: p256.certPath, keyUri: p256.key.uri, pkcs11: { ...pkcs11, pinFile: wrong } },
      new RegExp(`^Pkcs11LoginFailed: signer example\\.com/serving: ca\\.key: .*CKR_PIN_INCORRECT.*\\(the PIN is the first line of ${wrong}, ca\\.pkcs11\\.pinFile\\)$`)],
    ['no such key', { certFile: p256.certPath, keyUri: `pkcs11:token=${token.label};object=nokey`, pkcs11 },
      /^Pkcs11KeyNotFound: signer example\.com\/serving: ca\.key: .*no private key matches/],
    ['the certificate of another key', { certFile: fileCa.certPath, keyUri: p256.key.uri, pkcs11 },
      /^Pkcs11KeyMismatch: signer example\.com\/serving: ca\.key \(pkcs11:token=csr-signer-ca;object=cakey;id=%01;type=private\): a test signature made with the token key verifies with none of the 1 certificate in /],
  ];
  for (const [what, ca, expected] of cases) {
    const store = new CaStore([signer(ca)], { logger });
    t.match(await message(store.loadAll()), expected, what);
    await store.close();
  }
});

void t.test('a wrong PIN at a reload, while the token is logged in with the right one: refused, the old CA keeps signing', async (t) => {
  // SoftHSM2 answers C_Login with CKR_USER_ALREADY_LOGGED_IN, whatever the PIN, while
  // another session of the process is logged in: the new PIN is not checked by the token.
  const pinFile = join(tempDir('ca-store-softhsm-pin-'), 'pin');
  writeFileSync(pinFile, `${token.pin}\n`, { mode: 0o600 });
  const { observer, reloads } = recorder();
  const store = new CaStore([signer({ certFile: p256.certPath, keyUri: p256.key.uri, pkcs11: { ...pkcs11, pinFile } })], { logger, observer });
  t.teardown(() => store.close());
  await store.loadAll();
  writeFileSync(pinFile, 'not-the-pin\n');
  await store.check();
  t.same(reloads, ['error'], 'the reload fails');
  t.match(store.state(name).error ?? '', /cannot log in to the token: the token is already logged in with another PIN in this process \(CKR_USER_ALREADY_LOGGED_IN\).*restart the signer/);
  t.notMatch(store.state(name).error ?? '', /not-the-pin/, 'no PIN in the error');
  t.equal(store.lookup(name).certificate.subject, 'O=csr-signer tests,CN=p256 token CA', 'the old CA stays');
  t.equal(opensslVerify(dir, p256.certPem, await issue(store)).code, 0, 'and signs');
});

void t.test('a rotation from a file key to a token key, and the token away and back', async (t) => {
  const secrets = secretDirWith({ 'tls.crt': fileCa.certPem, 'tls.key': fileCa.keyPem });
  const { observer, reloads, errors } = recorder();
  const store = new CaStore([signer({ certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key'), pkcs11 })],
    { logger, observer, tokenBackoff: { initialMs: 20, maxMs: 200 } });
  t.teardown(() => store.close());
  await store.loadAll();
  t.equal(store.lookup(name).certificate.subject, 'CN=file test CA,O=csr-signer tests');
  // The Secret is rewritten: the token key's URI in tls.key, both certificates in tls.crt.
  installFiles(secrets, { 'tls.crt': p256.certPem + fileCa.certPem, 'tls.key': `${p256.key.uri}\n` });
  await store.check();
  t.same(reloads, ['success']);
  t.equal(store.lookup(name).certificate.subject, 'O=csr-signer tests,CN=p256 token CA', 'the token key signs');
  t.same(store.trust(name).map((c) => c.subject), ['O=csr-signer tests,CN=p256 token CA', 'CN=file test CA,O=csr-signer tests'], 'both trusted');
  t.equal(opensslVerify(dir, p256.certPem, await issue(store)).code, 0);

  const restore = removeToken(token);
  t.teardown(restore);
  t.match(await message(issue(store)), /^SigningFailed: the CA key could not sign the certificate: .*the token does not answer/, 'a signing fails at once, with the transient SigningFailed');
  t.match(store.state(name).keyProvider?.problem ?? '', /the token does not answer/, 'readiness has the reason');
  // The failed signing, or the idle probe if it ran first (find_key): the failure is counted, under whichever step saw it.
  t.ok(errors.length > 0, `counted (${errors.join(', ')})`);
  // A reload to another token key while the token is away keeps the CA in use.
  installFiles(secrets, { 'tls.crt': rsa.certPem + p256.certPem, 'tls.key': `${rsa.key.uri}\n` });
  await store.check();
  t.same(reloads, ['success', 'error']);
  t.equal(store.lookup(name).certificate.subject, 'O=csr-signer tests,CN=p256 token CA', 'the old CA stays');
  t.match(store.state(name).error ?? '', /^signer example\.com\/serving: /, 'and the failure is reported');
  restore();
  // Back: the reload takes the new key; the old provider is closed.
  const deadline = Date.now() + 60_000;
  while (store.lookup(name).certificate.subject !== 'O=csr-signer tests,CN=rsa token CA' && Date.now() < deadline) {
    await store.check();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.equal(store.lookup(name).certificate.subject, 'O=csr-signer tests,CN=rsa token CA');
  t.equal(opensslVerify(dir, rsa.certPem, await issue(store)).code, 0, 'the new token key signs');
  t.equal(store.state(name).error, undefined);
});
