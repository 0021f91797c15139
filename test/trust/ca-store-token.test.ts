/**
 * The CA store with keys on a token, through an in-memory token (test/helpers/fake-token.ts):
 * what the store decides — when a key is opened, reused, replaced and closed, which PIN it
 * reads, what a failure keeps and reports. The same paths against a real SoftHSM2 token:
 * ca-store-softhsm.test.ts.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateKeyPairSync } from 'node:crypto';
import { pino, type Logger } from 'pino';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { signRequest } from '../../src/pki/index.js';
import type { SignerConfig } from '../../src/signer/types.js';
import type { Observer } from '../../src/telemetry/observer.js';
import type { Pkcs11Library } from '../../src/hsm/binding.js';
import { openLoggedInSession } from '../../src/hsm/token.js';
import { CaStore, type TokenAccess } from '../../src/trust/ca-store.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { rawRequest } from '../helpers/der-build.js';
import { FakeToken } from '../helpers/fake-token.js';
import { installFiles, secretDirWith } from '../helpers/secret-dir.js';
import { needTool, opensslVerify, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir('ca-store-token-');
const fileCa = makeOpensslCa(dir, 'file', 'p256');
const tokenCa = makeOpensslCa(dir, 'token', 'p384');
const otherTokenCa = makeOpensslCa(dir, 'token-two', 'rsa2048');
const pin = '4711-secret-pin';
const module = '/usr/lib/softhsm/libsofthsm2.so';
const keyUri = 'pkcs11:token=ca;object=cakey;type=private';
const name = 'example.com/serving';

const newToken = (): FakeToken => new FakeToken(pin, new Map([['cakey', tokenCa.keyPem], ['cakey2', otherTokenCa.keyPem]]));
const pinFileIn = (where: string, value = `${pin}\n`): string => {
  const file = join(where, 'pin');
  writeFileSync(file, value, { mode: 0o600 });
  return file;
};

function signer(ca: NonNullable<SignerConfig['ca']>): SignerConfig {
  return { name, source: '/etc/csr-signer/signers.yaml', ca, defaultDurationMs: 3_600_000, maxDurationMs: 3_600_000, includeChain: false };
}

/** Every log line, as text, to check that the PIN is never in one. */
function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, done) { lines.push(chunk.toString()); done(); } });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function recorder(): { observer: Observer; reloads: string[]; errors: string[] } {
  const reloads: string[] = [];
  const errors: string[] = [];
  const ignore = (): void => undefined;
  return {
    reloads, errors,
    observer: {
      issued: ignore, failed: ignore, conflict: ignore, retried: ignore, watchRestarted: ignore,
      caReloaded: (_s, r) => { reloads.push(r); }, keyProviderError: (s, op) => { errors.push(`${s} ${op}`); },
    },
  };
}

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const profile = { usages: ['digital signature', 'client auth'], maxDurationMs: 3_600_000 };
const issueWith = async (store: CaStore): Promise<string> =>
  (await signRequest(rawRequest({ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }), profile, store.lookup(name), { now: new Date(), random })).pem;
const message = async (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (isCsrSignerError(e) ? `${e.kind}: ${e.message}` : String(e)));

void t.test('a key URI in the configuration: the token signs, the PIN file is read, sessions default to the worker count', async (t) => {
  const secrets = secretDirWith({ 'tls.crt': tokenCa.certPem });
  const token = newToken();
  const { logger, lines } = capture();
  const store = new CaStore([signer({ certFile: join(secrets, 'tls.crt'), keyUri, pkcs11: { module, pinFile: pinFileIn(dir) } })], { logger, tokens: token, defaultSessions: 7 });
  await store.loadAll();
  t.match(store.lookup(name).certificate.subject, /CN=token test CA/);
  t.same(token.opens, [{ uri: keyUri, module, sessions: 7 }], 'opened once, with the workers as sessions');
  t.equal(opensslVerify(dir, tokenCa.certPem, await issueWith(store)).code, 0, 'what it signs verifies with the certificate');
  t.same(store.state(name).keyProvider, {}, 'the token answers');
  await store.check();
  t.equal(token.opens.length, 1, 'unchanged: the key is reused, not opened again');
  installFiles(secrets, { 'tls.crt': tokenCa.certPem + fileCa.certPem });
  await store.check();
  t.equal(store.trust(name).length, 2, 'a new certificate file is taken');
  t.equal(token.opens.length, 1, 'with the same key: the key is still not opened again');
  t.same(token.closes, [], 'nor closed');
  t.notOk(lines.some((l) => l.includes(pin)), 'the PIN is in no log line');
  await store.close();
  t.same(token.closes, ['fake cakey'], 'closing the store closes the key');
});

void t.test('a key file whose only line is a URI, and the certificate on the token (ca.cert); sessions from ca.pkcs11', async (t) => {
  const secrets = secretDirWith({ 'tls.key': `${keyUri}\n` });
  const token = newToken();
  token.certificates.set('cacert', tokenCa.certPem + fileCa.certPem);
  const store = new CaStore([signer({
    certUri: 'pkcs11:token=ca;object=cacert;type=cert', keyFile: join(secrets, 'tls.key'), pkcs11: { module, pinEnv: 'CA_PIN', sessions: 2 },
  })], { logger: pino({ level: 'silent' }), tokens: token, env: { CA_PIN: pin } });
  await store.loadAll();
  t.match(store.lookup(name).certificate.subject, /CN=token test CA/, 'the key\'s certificate among those on the token');
  t.equal(store.trust(name).length, 2, 'the other CA certificate on the token is trusted too');
  t.equal(token.opens[0]?.sessions, 2);
  t.equal(opensslVerify(dir, tokenCa.certPem, await issueWith(store)).code, 0);
  await store.close();
});

void t.test('a rotation from a file key to a token key: the Secret\'s key file comes to hold a URI, both CAs stay trusted', async (t) => {
  const secrets = secretDirWith({ 'tls.crt': fileCa.certPem, 'tls.key': fileCa.keyPem });
  const token = newToken();
  const { observer, reloads } = recorder();
  const store = new CaStore([signer({ certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key'), pkcs11: { module, pinFile: pinFileIn(dir) } })],
    { logger: pino({ level: 'silent' }), observer, tokens: token });
  await store.loadAll();
  t.match(store.lookup(name).certificate.subject, /CN=file test CA/);
  t.equal(token.opens.length, 0, 'a file key opens no token');
  // Staged rotation: the new CA first trusted (both certificates in the bundle), then signing.
  installFiles(secrets, { 'tls.crt': tokenCa.certPem + fileCa.certPem, 'tls.key': `${keyUri}\n` });
  await store.check();
  t.same(reloads, ['success']);
  t.match(store.lookup(name).certificate.subject, /CN=token test CA/, 'the token key signs now');
  t.same(store.trust(name).map((c) => c.subject), ['CN=token test CA,O=csr-signer tests', 'CN=file test CA,O=csr-signer tests'], 'the trust bundle holds both');
  t.equal(opensslVerify(dir, tokenCa.certPem, await issueWith(store)).code, 0);
  // And back: the token key is closed once no CA uses it.
  installFiles(secrets, { 'tls.crt': fileCa.certPem + tokenCa.certPem, 'tls.key': fileCa.keyPem });
  await store.check();
  t.match(store.lookup(name).certificate.subject, /CN=file test CA/);
  await store.close();
  t.same(token.closes, ['fake cakey']);
});

void t.test('a wrong PIN at start is one sentence naming the signer, the field and where the PIN came from', async (t) => {
  const token = newToken();
  const { observer, errors } = recorder();
  const pinFile = pinFileIn(tempDir('pin-'), 'not-the-pin\n');
  const store = new CaStore([signer({ certFile: tokenCa.certPath, keyUri, pkcs11: { module, pinFile } })], { logger: pino({ level: 'silent' }), observer, tokens: token });
  t.equal(await message(store.loadAll()),
    `Pkcs11LoginFailed: signer ${name}: ca.key: ${keyUri}: cannot log in to the token: CKR_PIN_INCORRECT (the PIN is the first line of ${pinFile}, ca.pkcs11.pinFile)`);
  t.same(errors, [`${name} login`], 'counted');
  const unset = new CaStore([signer({ certFile: tokenCa.certPath, keyUri, pkcs11: { module, pinEnv: 'CA_PIN' } })], { logger: pino({ level: 'silent' }), tokens: token, env: {} });
  t.equal(await message(unset.loadAll()),
    `InvalidArgument: signer ${name}: the environment variable CA_PIN (ca.pkcs11.pinEnv), which holds the token's user PIN, is not set`);
  const flags = new CaStore([{ ...signer({ certFile: tokenCa.certPath, keyUri, pkcs11: { module, pinFile } }), source: 'command line' }], { logger: pino({ level: 'silent' }), tokens: token });
  t.match(await message(flags.loadAll()), /^Pkcs11LoginFailed: signer example\.com\/serving: --cluster-signing-\*-key-file: .*--pkcs11-pin-file\)$/, 'a signer of the command line: the flags named');
  const mismatch = new CaStore([signer({ certFile: fileCa.certPath, keyUri, pkcs11: { module, pinFile: pinFileIn(dir) } })], { logger: pino({ level: 'silent' }), tokens: token });
  t.equal(await message(mismatch.loadAll()),
    `Pkcs11KeyMismatch: signer ${name}: ca.key (pkcs11:token=ca;object=cakey;type=private): a test signature made with the token key verifies with none of the 1 certificate in ${fileCa.certPath}, so none of them is this key's certificate`);
  t.same(token.closes, ['fake cakey'], 'the key opened for a CA that did not load is closed');
});

void t.test('a key file holding a URI while the signer has no ca.pkcs11 is refused with one sentence', async (t) => {
  const secrets = secretDirWith({ 'tls.crt': tokenCa.certPem, 'tls.key': `${keyUri}\n` });
  const store = new CaStore([signer({ certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key') })], { logger: pino({ level: 'silent' }), tokens: newToken() });
  t.equal(await message(store.loadAll()),
    `InvalidArgument: signer ${name}: ${join(secrets, 'tls.key')} holds a PKCS#11 URI (pkcs11:token=ca;object=cakey;type=private), and the signer has no ca.pkcs11 (--pkcs11-module and a PIN flag on the command line) saying which module and PIN reach the token`);
});

void t.test('a token that does not answer at a reload: the old CA keeps signing, the failure is reported and counted', async (t) => {
  const secrets = secretDirWith({ 'tls.crt': tokenCa.certPem, 'tls.key': `${keyUri}\n` });
  const token = newToken();
  const { observer, reloads, errors } = recorder();
  const { logger, lines } = capture();
  const store = new CaStore([signer({ certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key'), pkcs11: { module, pinFile: pinFileIn(dir) } })],
    { logger, observer, tokens: token });
  await store.loadAll();
  token.removed = true;
  t.match(store.state(name).keyProvider?.problem, /^pkcs11:token=ca;object=cakey|^fake cakey: the token does not answer \(CKR_DEVICE_REMOVED\)/, '/readyz has the reason');
  await t.rejects(issueWith(store), /does not answer/, 'a signing fails, transiently');
  t.same(errors, [`${name} sign`]);
  // The Secret moves to another key on the same token while it is away.
  installFiles(secrets, { 'tls.crt': otherTokenCa.certPem + tokenCa.certPem, 'tls.key': 'pkcs11:token=ca;object=cakey2\n' });
  await store.check();
  t.same(reloads, ['error']);
  t.match(store.lookup(name).certificate.subject, /CN=token test CA/, 'the old CA stays');
  t.match(store.state(name).error ?? '', /^signer example\.com\/serving: .*tls\.key: pkcs11:token=ca;object=cakey2: the token does not answer/);
  t.ok(lines.some((l) => l.includes('CA files rejected; the previous CA stays in use')), 'logged');
  t.same(errors, [`${name} sign`, `${name} open_session`]);
  token.removed = false;
  await store.check();
  t.match(store.lookup(name).certificate.subject, /CN=token-two test CA/, 'back: the new key signs');
  t.same(store.state(name), { ca: store.lookup(name), keyProvider: {} }, 'no error, the token answers');
  t.notOk(lines.some((l) => l.includes(pin)), 'the PIN is in no log line');
  await store.close();
});

void t.test('a new PIN opens the key again; the replaced provider closes only after its signing in flight', async (t) => {
  const where = tempDir('pin-change-');
  const pinFile = pinFileIn(where);
  const token = newToken();
  const store = new CaStore([signer({ certFile: tokenCa.certPath, keyUri, pkcs11: { module, pinFile } })], { logger: pino({ level: 'silent' }), tokens: token });
  await store.loadAll();
  const first = token.providers[0];
  if (first === undefined) throw new Error('no provider');
  first.holding = true;
  const inFlight = issueWith(store);
  await new Promise((resolve) => setImmediate(resolve));
  // The token's PIN was changed, and the Secret with it.
  token.pin = 'a-new-pin';
  writeFileSync(pinFile, 'a-new-pin\n');
  await store.check();
  t.equal(token.opens.length, 2, 'opened again with the new PIN');
  t.not(store.lookup(name).keyProvider, undefined);
  t.notOk(first.closed, 'not closed while it signs');
  first.release();
  t.equal(opensslVerify(dir, tokenCa.certPem, await inFlight).code, 0, 'the signing in flight finishes');
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(first.closed, 'closed after');
  await store.close();
});

void t.test('a world-readable PIN file is a warning, or with --strict-key-permissions an error', async (t) => {
  const where = tempDir('pin-mode-');
  const pinFile = pinFileIn(where);
  chmodSync(pinFile, 0o644);
  const { logger, lines } = capture();
  const ca = { certFile: tokenCa.certPath, keyUri, pkcs11: { module, pinFile } };
  const store = new CaStore([signer(ca)], { logger, tokens: newToken() });
  await store.loadAll();
  t.ok(lines.some((l) => l.includes('PKCS#11 PIN file is world-readable') && l.includes('"mode":"0644"')), 'warned');
  await store.close();
  const strict = new CaStore([signer(ca)], { logger, tokens: newToken(), strictKeyPermissions: true });
  t.equal(await message(strict.loadAll()),
    `InvalidArgument: signer ${name}: the PKCS#11 PIN file ${pinFile} is readable by everyone (mode 0644); remove o+r (e.g. chmod 0640, or a Secret defaultMode of 0440) or drop --strict-key-permissions`);
});

void t.test('a key file holding only a URI is not secret: world-readable, it gets no warning and --strict-key-permissions takes it', async (t) => {
  const secrets = secretDirWith({ 'tls.crt': tokenCa.certPem, 'tls.key': `${keyUri}\n` });
  chmodSync(join(secrets, 'tls.key'), 0o644);
  const { logger, lines } = capture();
  const ca = { certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key'), pkcs11: { module, pinFile: pinFileIn(tempDir('uri-mode-')) } };
  const store = new CaStore([signer(ca)], { logger, tokens: newToken() });
  await store.loadAll();
  t.notOk(lines.some((l) => l.includes('world-readable')), 'no warning');
  await store.close();
  const strict = new CaStore([signer(ca)], { logger, tokens: newToken(), strictKeyPermissions: true });
  t.equal(await message(strict.loadAll()), 'resolved', 'loads with --strict-key-permissions');
  t.match(strict.lookup(name).certificate.subject, /CN=token test CA/);
  await strict.close();
  // The same file holding a PEM key again is a key: the warning is back.
  installFiles(secrets, { 'tls.crt': fileCa.certPem, 'tls.key': fileCa.keyPem });
  chmodSync(join(secrets, 'tls.key'), 0o644);
  const plain = new CaStore([signer(ca)], { logger, tokens: newToken() });
  await plain.loadAll();
  t.ok(lines.some((l) => l.includes('CA key file is world-readable')), 'a PEM key file still warns');
  await plain.close();
});

void t.test('the PIN file: its first line only (a CRLF ending too), never more than 4 KiB read, not empty', async (t) => {
  const where = tempDir('pin-file-');
  const store = (pinFile: string): CaStore => new CaStore([signer({ certFile: tokenCa.certPath, keyUri, pkcs11: { module, pinFile } })], { logger: pino({ level: 'silent' }), tokens: newToken() });
  const crlf = store(pinFileIn(where, `${pin}\r\nsecond line\r\n`));
  await crlf.loadAll();
  t.ok(crlf.lookup(name), 'the first line, without its CR, is the PIN');
  await crlf.close();
  const big = join(where, 'big');
  writeFileSync(big, `${pin}\n${'x'.repeat(4096)}`, { mode: 0o600 });
  t.equal(await message(store(big).loadAll()),
    `FileTooLarge: signer ${name}: ${big}: the PKCS#11 PIN file is larger than 4 KiB (4096 bytes), the most csr-signer reads of it; nothing past that was read`);
  const empty = join(where, 'empty');
  writeFileSync(empty, '\n', { mode: 0o600 });
  t.equal(await message(store(empty).loadAll()),
    `InvalidArgument: signer ${name}: the PKCS#11 PIN file ${empty} (ca.pkcs11.pinFile) is empty; its first line is the token's user PIN`);
});

void t.test('a PIN the token refused is not tried again until it changes: a token locks itself after a few', async (t) => {
  const where = tempDir('pin-refused-');
  const pinFile = pinFileIn(where);
  const secrets = secretDirWith({ 'tls.crt': tokenCa.certPem, 'tls.key': `${keyUri}\n` });
  const token = newToken();
  const { observer, reloads } = recorder();
  const store = new CaStore([signer({ certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key'), pkcs11: { module, pinFile } })],
    { logger: pino({ level: 'silent' }), observer, tokens: token });
  await store.loadAll();
  t.equal(token.logins, 1);
  // The Secret moves to another key, and its PIN to a wrong one.
  installFiles(secrets, { 'tls.crt': otherTokenCa.certPem, 'tls.key': 'pkcs11:token=ca;object=cakey2\n' });
  writeFileSync(pinFile, 'wrong\n');
  await store.check();
  await store.check();
  await store.check();
  t.same(reloads, ['error', 'error', 'error']);
  t.equal(token.logins, 2, 'the wrong PIN was tried once');
  t.match(store.state(name).error ?? '', /cannot log in to the token: CKR_PIN_INCORRECT/, 'and the refusal stays reported');
  t.match(store.lookup(name).certificate.subject, /CN=token test CA/, 'the old CA signs');
  writeFileSync(pinFile, `${pin}\n`);
  await store.check();
  t.equal(token.logins, 3, 'a new PIN is tried');
  t.match(store.lookup(name).certificate.subject, /CN=token-two test CA/);
  await store.close();
});

void t.test('a device error at login during a rotation to a token key is transient: a later reload takes the key', async (t) => {
  const secrets = secretDirWith({ 'tls.crt': fileCa.certPem, 'tls.key': fileCa.keyPem });
  const token = newToken();
  // A module whose C_Login fails once with CKR_DEVICE_ERROR (a token blip), through the real login step.
  const blip = {
    C_GetTokenInfo: () => ({ label: 'ca', serialNumber: '1', manufacturerID: 'test', model: 'blip', flags: 0x400 }),
    C_OpenSession: () => Buffer.alloc(8),
    C_CloseSession: () => undefined,
    C_Login: () => { throw new Error('CKR_DEVICE_ERROR'); },
  } as unknown as Pkcs11Library;
  let blips = 1;
  const tokens: TokenAccess = {
    openKey: async (options) => {
      if (blips-- > 0) openLoggedInSession(blip, Buffer.alloc(8), options.uri, options.pin);
      return token.openKey(options);
    },
    readCertificates: token.readCertificates,
  };
  const { observer, reloads } = recorder();
  const store = new CaStore([signer({ certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key'), pkcs11: { module, pinFile: pinFileIn(tempDir('pin-blip-')) } })],
    { logger: pino({ level: 'silent' }), observer, tokens });
  t.teardown(() => store.close());
  await store.loadAll();
  installFiles(secrets, { 'tls.crt': tokenCa.certPem + fileCa.certPem, 'tls.key': `${keyUri}\n` });
  await store.check();
  t.same(reloads, ['error'], 'the blip fails the reload');
  t.match(store.state(name).error ?? '', /the token does not answer \(C_Login failed with CKR_DEVICE_ERROR\)/);
  t.match(store.lookup(name).certificate.subject, /CN=file test CA/, 'the file CA stays');
  await store.check();
  t.same(reloads, ['error', 'success'], 'the next reload tries the token again');
  t.match(store.lookup(name).certificate.subject, /CN=token test CA/, 'and the token key is in use');
  t.equal(opensslVerify(dir, tokenCa.certPem, await issueWith(store)).code, 0);
});

void t.test('close() while a reload is opening a token key: the key it opens is closed too', async (t) => {
  const secrets = secretDirWith({ 'tls.crt': fileCa.certPem, 'tls.key': fileCa.keyPem });
  const token = newToken();
  let open: () => void = () => undefined;
  const opening = new Promise<void>((resolve) => { open = resolve; });
  const tokens: TokenAccess = {
    openKey: async (options) => {
      await opening;
      return token.openKey(options);
    },
    readCertificates: token.readCertificates,
  };
  const store = new CaStore([signer({ certFile: join(secrets, 'tls.crt'), keyFile: join(secrets, 'tls.key'), pkcs11: { module, pinFile: pinFileIn(tempDir('pin-close-')) } })],
    { logger: pino({ level: 'silent' }), tokens });
  await store.loadAll();
  installFiles(secrets, { 'tls.crt': tokenCa.certPem + fileCa.certPem, 'tls.key': `${keyUri}\n` });
  const checking = store.check();
  await new Promise((resolve) => setImmediate(resolve));
  const closing = store.close();
  open();
  await checking;
  await closing;
  t.equal(token.providers.length, 1, 'the reload opened the key');
  t.ok(token.providers.every((p) => p.closed), 'and close() closed it');
  await store.check();
  t.equal(token.providers.length, 1, 'no check runs after close()');
});
