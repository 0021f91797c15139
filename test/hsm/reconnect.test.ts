/**
 * A token that goes away and comes back, with a real SoftHSM2: its token directory moves
 * aside (SoftHSM2 then fails every operation on it) and returns. Signing rejects at once
 * with the transient Pkcs11Unreachable, problem() says why, onError counts, and the same
 * provider signs again once the token is back, with no new provider. Also: many signatures
 * at once share a small session pool.
 */
import { generateKeyPairSync, X509Certificate, verify } from 'node:crypto';
import { cpSync } from 'node:fs';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { openPkcs11Key, parsePkcs11Uri, type Pkcs11Key } from '../../src/hsm/index.js';
import type { KeyProviderOperation } from '../../src/pki/index.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, removeToken, softhsmTools } from '../helpers/softhsm.js';
import { needTool } from '../helpers/tools.js';

for (const tool of softhsmTools) if (!needTool(t, tool)) process.exit(0);

const token = makeSoftToken();
process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
const ca = makeTokenCa(token, generateTokenKey(token, 'p256', 'cakey', '01'), 'reconnect');
const other = makeTokenCa(token, generateTokenKey(token, 'ed25519', 'otherkey', '02'), 'other');
const caKey = new X509Certificate(ca.certPem).publicKey;
const otherKey = new X509Certificate(other.certPem).publicKey;

async function open(uri: string, errors: KeyProviderOperation[], sessions = 3, probeMs = 0): Promise<Pkcs11Key> {
  return openPkcs11Key({ uri: parsePkcs11Uri(uri), module: token.module, pin: token.pin, sessions, probeMs,
    backoff: { initialMs: 20, maxMs: 200 }, onError: (op) => errors.push(op) });
}

/** Waits (polling, up to a minute: SoftHSM2 under load can be slow) until `done` holds. */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

void t.test('50 signatures at once on 3 sessions all verify', async (t) => {
  const errors: KeyProviderOperation[] = [];
  const key = await open(ca.key.uri, errors);
  t.teardown(() => key.provider.close());
  const messages = Array.from({ length: 50 }, (_, i) => Buffer.from(`message ${i}`));
  let done = 0;
  const pending = messages.map((m) => key.provider.sign(m, 'sha256').then((s) => {
    done++;
    return s;
  }));
  // The token signs off the JavaScript thread: the event loop turns while the signatures are
  // made (a session goes to the next waiting signature only in a callback on this thread).
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(done < 50, `the event loop ran before the 50 signatures were done (${done} were)`);
  const signatures = await Promise.all(pending);
  t.equal(signatures.filter((s, i) => verify('sha256', messages[i] as Buffer, caKey, s)).length, 50, 'every signature verifies with the CA certificate');
  t.same(errors, []);
});

void t.test('the token removed: unreachable at once; restored: the same providers sign again', async (t) => {
  const errors: KeyProviderOperation[] = [];
  const otherErrors: KeyProviderOperation[] = [];
  const key = await open(ca.key.uri, errors);
  const second = await open(other.key.uri, otherErrors, 1);
  t.teardown(async () => {
    await key.provider.close();
    await second.provider.close();
  });
  const message = Buffer.from('before');
  t.ok(verify('sha256', message, caKey, await key.provider.sign(message, 'sha256')), 'signs while the token is there');
  t.equal(key.provider.problem(), undefined);

  const restore = removeToken(token);
  let restored = false;
  t.teardown(() => {
    if (!restored) restore();
  });
  const failure = await key.provider.sign(Buffer.from('while away'), 'sha256').then(() => undefined, (e: unknown) => e);
  t.ok(isCsrSignerError(failure), 'a CsrSignerError');
  if (!isCsrSignerError(failure)) return;
  t.equal(failure.code, 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE');
  t.equal(failure.permanent, false, 'transient: the request is retried');
  t.match(failure.message, /^pkcs11:token=csr-signer-ca;object=cakey;id=%01;type=private: the token does not answer \(CKR_[A-Z_]+\); signing waits, requests are retried, and the token is reconnected with backoff$/);
  t.equal(key.provider.problem(), failure.message, 'problem() says the same');
  t.ok(errors.includes('sign'), 'onError counted the failed sign');
  // While away: every signature is refused at once and counted (an alert on the error rate
  // stays firing while requests fail), and the reconnection keeps failing (and counting).
  for (const i of [1, 2, 3]) await t.rejects(key.provider.sign(Buffer.from(`still away ${i}`), 'sha256'), { code: 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE' });
  t.equal(errors.filter((op) => op === 'sign').length, 4, 'each signature refused at once counted as sign');
  await until('a reconnection attempt failed', () => errors.filter((op) => op !== 'sign').length >= 2);
  t.ok(key.provider.problem(), 'still unreachable');
  t.same(new Set(errors.filter((op) => op !== 'sign')), new Set(['open_session']), 'each failed reconnection counted: the token cannot be found');

  restore();
  restored = true;
  await until('the provider reconnected', () => key.provider.problem() === undefined);
  const after = Buffer.from('after');
  t.ok(verify('sha256', after, caKey, await key.provider.sign(after, 'sha256')), 'the same provider signs again');
  const signatures = await Promise.all(Array.from({ length: 10 }, (_, i) => key.provider.sign(Buffer.from(`again ${i}`), 'sha256')));
  t.equal(signatures.filter((s, i) => verify('sha256', Buffer.from(`again ${i}`), caKey, s)).length, 10, 'and keeps signing on its pool');

  // The other provider on the same module: its handles died with the module's re-initialisation
  // (SoftHSM2 finds a returned token only so); its next signature finds that out and it reconnects too.
  await t.rejects(second.provider.sign(Buffer.from('other'), null), { code: 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE' }, 'the other provider: unreachable once');
  t.same(otherErrors, ['sign'], 'counted once');
  await until('the other provider reconnected', () => second.provider.problem() === undefined);
  const otherMessage = Buffer.from('other, after');
  t.ok(verify(null, otherMessage, otherKey, await second.provider.sign(otherMessage, null)), 'the other provider signs again');
});

void t.test('after a re-initialisation, a provider never touches the handles of its old generation', async (t) => {
  // SoftHSM2 numbers sessions from 1 again after C_Finalize + C_Initialize: a provider that
  // closed its old sessions then would close another provider's new ones.
  const p2Errors: KeyProviderOperation[] = [];
  const p1Errors: KeyProviderOperation[] = [];
  const p2 = await open(other.key.uri, p2Errors);
  const p1 = await open(ca.key.uri, p1Errors);
  t.teardown(async () => {
    await p1.provider.close();
    await p2.provider.close();
  });
  await Promise.all([1, 2, 3].map((i) => p2.provider.sign(Buffer.from(`p2 ${i}`), null)));
  const restore = removeToken(token);
  let restored = false;
  t.teardown(() => {
    if (!restored) restore();
  });
  await t.rejects(p1.provider.sign(Buffer.from('away'), 'sha256'), { code: 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE' });
  restore();
  restored = true;
  await until('P1 reconnected (re-initialising the module)', () => p1.provider.problem() === undefined);
  await Promise.all([1, 2, 3].map((i) => p1.provider.sign(Buffer.from(`p1 ${i}`), 'sha256')));
  await t.rejects(p2.provider.sign(Buffer.from('p2 after'), null), { code: 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE' }, 'P2 finds its handles old');
  const counted = p1Errors.length;
  const messages = [1, 2, 3].map((i) => Buffer.from(`p1 again ${i}`));
  const results = await Promise.allSettled(messages.map((m) => p1.provider.sign(m, 'sha256')));
  t.same(results.map((r) => (r.status === 'fulfilled' ? 'signed' : String(r.reason))), ['signed', 'signed', 'signed'], "P1's sessions were not closed by P2");
  t.ok(results.every((r, i) => r.status === 'fulfilled' && verify('sha256', messages[i] as Buffer, caKey, r.value)), 'with its own key');
  t.equal(p1Errors.length, counted, 'no new error on P1');
  await until('P2 reconnected', () => p2.provider.problem() === undefined);
  const message = Buffer.from('p2 again');
  t.ok(verify(null, message, otherKey, await p2.provider.sign(message, null)), 'P2 signs with its own key again');
});

void t.test('a signature that does not verify with the bound certificate key is never returned', async (t) => {
  const errors: KeyProviderOperation[] = [];
  const key = await open(ca.key.uri, errors);
  t.teardown(() => key.provider.close());
  // As if loading had chosen a certificate for another key: the token's signatures do not verify with it.
  key.provider.bindPublicKey?.(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  const failure = await key.provider.sign(Buffer.from('x'), 'sha256').then(() => undefined, (e: unknown) => e);
  t.ok(isCsrSignerError(failure) && failure.code === 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE', 'refused with Pkcs11Unreachable, no signature returned');
  t.match(key.provider.problem(), /the token's signature does not verify with the CA certificate's public key/);
  t.same(errors, ['sign'], 'counted as sign');
  await until('a reconnection refused the key', () => errors.includes('find_key'));
  t.ok(key.provider.problem(), 'and the reconnection does not take the key for the bound one');
  key.provider.bindPublicKey?.(caKey);
  await until('the provider reconnected', () => key.provider.problem() === undefined);
  const message = Buffer.from('bound to the right key');
  t.ok(verify('sha256', message, caKey, await key.provider.sign(message, 'sha256')), 'signs again once the key is the bound one');
});

void t.test('a different key where the key was: not taken for it; the right token back: signs again', async (t) => {
  const errors: KeyProviderOperation[] = [];
  const key = await open(ca.key.uri, errors);
  t.teardown(() => key.provider.close());
  // An impostor: a token with the same label, PIN, key label, id and kind, but another key.
  const impostor = makeSoftToken({ label: token.label, pin: token.pin });
  generateTokenKey(impostor, 'p256', 'cakey', '01');
  const restore = removeToken(token);
  cpSync(impostor.tokenDir, token.tokenDir, { recursive: true });
  let restored = false;
  t.teardown(() => {
    if (!restored) restore();
  });
  await t.rejects(key.provider.sign(Buffer.from('x'), 'sha256'), { code: 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE' });
  await until('a test signature was refused', () => key.provider.problem()?.includes('the key found is not the key loaded') === true);
  t.match(key.provider.problem(), /^pkcs11:token=csr-signer-ca;object=cakey;id=%01;type=private: the token does not answer \(the key found is not the key loaded \(its test signature does not verify\)\);/);
  t.ok(errors.includes('find_key'), 'counted as find_key');
  await t.rejects(key.provider.sign(Buffer.from('y'), 'sha256'), { code: 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE' }, 'and it does not sign');
  restore();
  restored = true;
  await until('the provider reconnected to its own key', () => key.provider.problem() === undefined);
  const message = Buffer.from('own key again');
  t.ok(verify('sha256', message, caKey, await key.provider.sign(message, 'sha256')));
});

void t.test('an idle provider notices a removed token by itself, and its return', async (t) => {
  const errors: KeyProviderOperation[] = [];
  const key = await open(ca.key.uri, errors, 2, 20);
  t.teardown(() => key.provider.close());
  const restore = removeToken(token);
  let restored = false;
  t.teardown(() => {
    if (!restored) restore();
  });
  await until('the probe found the token gone', () => key.provider.problem() !== undefined);
  t.match(key.provider.problem(), /^pkcs11:token=csr-signer-ca;object=cakey;id=%01;type=private: the token does not answer \(CKR_[A-Z_]+\);/);
  t.equal(errors[0], 'find_key', 'counted as find_key, with no signature asked');
  restore();
  restored = true;
  await until('the provider reconnected', () => key.provider.problem() === undefined);
  const message = Buffer.from('after the probe');
  t.ok(verify('sha256', message, caKey, await key.provider.sign(message, 'sha256')));
});

void t.test('close: waiting signatures are refused, the provider refuses to sign', async (t) => {
  const key = await open(ca.key.uri, [], 1);
  const inFlight = Array.from({ length: 5 }, (_, i) => key.provider.sign(Buffer.from(`m${i}`), 'sha256'));
  const closed = key.provider.close();
  const results = await Promise.allSettled(inFlight);
  await closed;
  t.ok(results.some((r) => r.status === 'fulfilled'), 'the signature in flight finished');
  t.ok(results.every((r) => r.status === 'fulfilled' || (isCsrSignerError(r.reason) && r.reason.code === 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE')), 'the waiting ones were refused with Pkcs11Unreachable');
  await t.rejects(key.provider.sign(Buffer.from('late'), 'sha256'), /the provider is closed/);
  await key.provider.close();
  t.pass('close twice is fine');
});
