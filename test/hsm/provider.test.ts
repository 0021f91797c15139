/**
 * The provider's session pool against a fake PKCS#11 library, for what a SoftHSM2 token
 * cannot be made to do: refuse a session for lack of capacity (a YubiHSM shares 16 among
 * all its clients) and leave a signature unanswered (a network HSM that hangs). The fake
 * is a binding loaded through the module's own loader, so the provider runs unchanged.
 */
import t, { type Test } from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import type { Handle, Pkcs11Library } from '../../src/hsm/binding.js';
import { Pkcs11Module } from '../../src/hsm/module.js';
import { openPkcs11Key } from '../../src/hsm/index.js';
import { TokenKeyProvider } from '../../src/hsm/provider.js';
import { openLoggedInSession } from '../../src/hsm/token.js';
import { parsePkcs11Uri } from '../../src/hsm/uri.js';
import type { KeyProviderOperation } from '../../src/pki/index.js';
import { tempDir, writeTemp } from '../helpers/tools.js';

const dir = tempDir('fake-pkcs11-');
// The binding's PKCS11 constructor returns the library the test put in place.
const binding = writeTemp(dir, 'fake-binding.cjs', 'exports.PKCS11 = class { constructor() { return globalThis.fakePkcs11; } };\n');

const handle = (n: number): Handle => Buffer.of(n, 0, 0, 0, 0, 0, 0, 0);

/** A library whose sessions and signatures the test controls. */
function fakeLibrary(more: Partial<Pkcs11Library>): Pkcs11Library {
  const unexpected = (): never => {
    throw new Error('CKR_FUNCTION_FAILED: not expected in this test');
  };
  return {
    load: () => undefined, close: () => undefined, C_Initialize: () => undefined, C_Finalize: () => undefined,
    C_GetSlotList: unexpected, C_GetTokenInfo: unexpected, C_Login: unexpected, C_FindObjectsInit: unexpected,
    C_FindObjects: unexpected, C_FindObjectsFinal: unexpected, C_GetAttributeValue: unexpected,
    C_OpenSession: () => handle(2), C_CloseSession: () => undefined, C_SignInit: () => undefined,
    C_SignAsync: () => Promise.resolve(Buffer.alloc(64, 1)),
    ...more,
  };
}

function provider(t: Test, library: Pkcs11Library, errors: KeyProviderOperation[], sessions: number, timeoutMs = 60_000): TokenKeyProvider {
  (globalThis as { fakePkcs11?: Pkcs11Library }).fakePkcs11 = library;
  const module = Pkcs11Module.acquire(writeTemp(dir, `module-${Math.random().toString(36).slice(2)}.so`, ''), binding);
  const p = new TokenKeyProvider({
    module, uri: parsePkcs11Uri('pkcs11:token=fake;object=cakey'), pin: '0000', slot: handle(0), session: handle(1), key: handle(9),
    kind: { type: 'ec', curve: 'P-256' }, publicKey: undefined, signatureBytes: 64, sessions,
    // Reconnecting is not what these tests look at: its first attempt is far away.
    backoff: { initialMs: 3_600_000, maxMs: 3_600_000 }, onError: (op) => errors.push(op), probeMs: 0, timeoutMs,
  });
  t.teardown(() => p.close());
  return p;
}

void t.test('no session left on the token (CKR_SESSION_COUNT): the request waits for one of ours, the pool stays', async (t) => {
  const errors: KeyProviderOperation[] = [];
  let release: (() => void) | undefined;
  const first = new Promise<void>((resolve) => {
    release = resolve;
  });
  let signs = 0;
  const p = provider(t, fakeLibrary({
    C_OpenSession: () => {
      throw new Error('CKR_SESSION_COUNT');
    },
    // The first signature is held until the second request has asked for a session.
    C_SignAsync: async () => {
      if (signs++ === 0) await first;
      return Buffer.alloc(64, 1);
    },
  }), errors, 3);
  const a = p.sign(Buffer.from('a'), 'sha256');
  const b = p.sign(Buffer.from('b'), 'sha256');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(errors, ['open_session'], 'the refused session is counted');
  t.equal(p.problem(), undefined, 'not taken for an outage');
  release?.();
  const results = await Promise.allSettled([a, b]);
  t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled'], 'both signed, the second on the first one\'s session');
  t.equal(p.problem(), undefined);
});

void t.test('a signature the token never answers: refused after the bound, the token taken for unreachable', async (t) => {
  const errors: KeyProviderOperation[] = [];
  const p = provider(t, fakeLibrary({ C_SignAsync: () => new Promise<Buffer>(() => undefined) }), errors, 1, 50);
  const signing = p.sign(Buffer.from('a'), 'sha256');
  const waiting = p.sign(Buffer.from('b'), 'sha256'); // waits for the only session
  const results = await Promise.allSettled([signing, waiting]);
  for (const [i, what] of ['the signature', 'the request waiting for a session'].entries()) {
    const result = results[i];
    t.ok(result?.status === 'rejected' && isCsrSignerError(result.reason) && result.reason.code === 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE', `${what}: Pkcs11Unreachable`);
  }
  // Whichever bound ran out first (the wait for the session started first) says why.
  t.match(p.problem(), /\((C_Sign did not answer|no session was free) within 50 ms\)/, 'problem() says so (/readyz fails)');
  t.same(errors, ['sign', 'sign'], 'both counted');
});

void t.test('opening the key: a token that fails the login step (not the PIN) is Pkcs11Unreachable, a session refused is Pkcs11TokenNotFound', async (t) => {
  const errors: KeyProviderOperation[] = [];
  const open = async (more: Partial<Pkcs11Library>): Promise<string> => {
    (globalThis as { fakePkcs11?: Pkcs11Library }).fakePkcs11 = fakeLibrary({
      C_GetSlotList: () => [handle(0)],
      C_GetTokenInfo: () => ({ label: 'fake', serialNumber: '1', manufacturerID: 'test', model: 'fake', flags: 0x400 }),
      ...more,
    });
    const path = writeTemp(dir, `module-${Math.random().toString(36).slice(2)}.so`, '');
    // Held by the test, so that openPkcs11Key finds this module loaded through the fake binding.
    const held = Pkcs11Module.acquire(path, binding);
    t.teardown(() => held.release());
    return openPkcs11Key({ uri: parsePkcs11Uri('pkcs11:token=fake;object=cakey'), module: path, pin: '0000', onError: (op) => errors.push(op) })
      .then(() => 'opened', (e: unknown) => (isCsrSignerError(e) ? `${e.kind}: ${e.message}` : String(e)));
  };
  const login = await open({ C_Login: () => { throw new Error('CKR_DEVICE_ERROR'); } });
  t.match(login, /^Pkcs11Unreachable: pkcs11:token=fake;object=cakey: the token does not answer \(C_Login failed with CKR_DEVICE_ERROR\); signing waits/, 'not re-worded as a session the token does not open');
  t.same(errors, ['login'], 'counted once, as the login step');
  errors.length = 0;
  const session = await open({ C_OpenSession: () => { throw new Error('CKR_TOKEN_NOT_PRESENT'); } });
  t.match(session, /^Pkcs11TokenNotFound: .*the token does not open a session \(.*CKR_TOKEN_NOT_PRESENT/);
  t.same(errors, ['open_session']);
});

void t.test('reconnecting after an outage: a login refused (here: the process is logged in with another PIN) stops the attempts and never re-initialises the module', async (t) => {
  const errors: KeyProviderOperation[] = [];
  let logins = 0;
  let finalized = 0;
  const answer: { login?: string } = {};
  const library = fakeLibrary({
    C_GetSlotList: () => [handle(0)],
    C_GetTokenInfo: () => ({ label: 'fake', serialNumber: '1', manufacturerID: 'test', model: 'fake', flags: 0x400 }),
    C_Login: () => {
      logins++;
      if (answer.login !== undefined) throw new Error(answer.login);
    },
    C_Finalize: () => {
      finalized++;
    },
    C_SignAsync: () => Promise.reject(new Error('CKR_DEVICE_REMOVED')),
  });
  (globalThis as { fakePkcs11?: Pkcs11Library }).fakePkcs11 = library;
  const module = Pkcs11Module.acquire(writeTemp(dir, `module-${Math.random().toString(36).slice(2)}.so`, ''), binding);
  // A newer provider of this process logged in to the token with a new PIN.
  openLoggedInSession(library, handle(0), parsePkcs11Uri('pkcs11:token=fake'), 'the-new-pin');
  answer.login = 'CKR_USER_ALREADY_LOGGED_IN';
  const p = new TokenKeyProvider({
    module, uri: parsePkcs11Uri('pkcs11:token=fake;object=cakey'), pin: 'the-old-pin', slot: handle(0), session: handle(1), key: handle(9),
    kind: { type: 'ec', curve: 'P-256' }, publicKey: undefined, signatureBytes: 64, sessions: 1,
    backoff: { initialMs: 1, maxMs: 1 }, onError: (op) => errors.push(op), probeMs: 0, timeoutMs: 60_000,
  });
  t.teardown(() => p.close());
  const before = logins;
  await t.rejects(p.sign(Buffer.from('a'), 'sha256'), { code: 'CSR_SIGNER_ERR_PKCS11_UNREACHABLE' });
  for (let i = 0; i < 1000 && !/another PIN/.test(p.problem() ?? ''); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  t.match(p.problem(), /cannot log in to the token: .*another PIN/, 'problem() says why it stopped');
  const attempts = logins - before;
  // Had it gone on, a backoff of 1 ms would have logged in again many times over.
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(logins - before, attempts, 'no further login attempt');
  t.equal(attempts, 1, 'one attempt: the refusal is final for this provider');
  t.equal(finalized, 0, 'the module was never re-initialised (that would log out the sessions of the provider with the new PIN)');
  t.same(errors, ['sign', 'login']);
});
