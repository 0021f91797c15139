/**
 * A CA key on a token, as a KeyProvider: signatures are made by the token on a pool of
 * sessions (a PKCS#11 session runs one operation at a time), each through C_SignAsync,
 * which waits on libuv's threadpool, so the JavaScript thread does not wait for C_Sign.
 * pkcs11js has asynchronous forms of only some calls, and csr-signer uses only that one:
 * everything else is synchronous on the JavaScript thread — on the signing path C_SignInit
 * and, while the pool grows, C_OpenSession; the idle probe's C_GetAttributeValue; every step
 * of a reconnection (C_Finalize, C_Initialize, C_GetSlotList, C_GetTokenInfo, C_Login,
 * C_FindObjects*, C_GetAttributeValue, C_CloseSession); and all of openPkcs11Key and
 * readPkcs11Certificates. Each is a quick call to a local token, but on a network HSM it
 * takes a round trip, and one that hangs holds the thread.
 *
 * When the token stops answering (removed, unplugged, a network HSM gone) the provider is
 * unreachable: sign() rejects at once with Pkcs11Unreachable (a transient error: the request
 * is retried), problem() says why, onError counts each failed operation, and a reconnection
 * runs in the background with backoff until the same key answers again.
 */
import { constants, createHash, randomBytes, verify, type KeyObject } from 'node:crypto';
import { csrError, csrErrorWithCause, isCsrSignerError, type CsrSignerError } from '../errors.js';
import { digestInfo, ecdsaRawToDer, type Hash, type KeyKind, type KeyProviderOperation } from '../pki/index.js';
import { CK, ckr, describeFailure, type Handle, type Pkcs11Library, type Pkcs11Mechanism } from './binding.js';
import type { Pkcs11Module } from './module.js';
import { closeQuietly, findPrivateKey, findSlot, keyDetails, openLoggedInSession } from './token.js';
import { describePkcs11Uri, type Pkcs11Uri } from './uri.js';

/** Return codes meaning the token, its session or its objects are gone: the provider reconnects. */
export const goneCodes: ReadonlySet<string> = new Set([
  'CKR_DEVICE_REMOVED', 'CKR_TOKEN_NOT_PRESENT', 'CKR_DEVICE_ERROR', 'CKR_SESSION_HANDLE_INVALID', 'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN', 'CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID', 'CKR_GENERAL_ERROR',
  'CKR_CRYPTOKI_NOT_INITIALIZED', 'CKR_SLOT_ID_INVALID', 'CKR_TOKEN_NOT_RECOGNIZED',
]);

const isGone = (error: unknown): boolean => goneCodes.has(ckr(error) ?? '');

/** C_OpenSession codes meaning "no more sessions now" (a YubiHSM shares 16 among all its clients): not an outage. */
const capacityCodes: ReadonlySet<string> = new Set(['CKR_SESSION_COUNT', 'CKR_SESSION_PARALLEL_NOT_SUPPORTED', 'CKR_HOST_MEMORY', 'CKR_DEVICE_MEMORY']);

/** No answer within the provider's bound: the token is taken for unreachable. */
class TimedOut extends Error {}

const hashMechanisms: Readonly<Record<Hash, { hashAlg: number; mgf: number; bytes: number }>> = {
  sha256: { hashAlg: CK.CKM_SHA256, mgf: CK.CKG_MGF1_SHA256, bytes: 32 },
  sha384: { hashAlg: CK.CKM_SHA384, mgf: CK.CKG_MGF1_SHA384, bytes: 48 },
  sha512: { hashAlg: CK.CKM_SHA512, mgf: CK.CKG_MGF1_SHA512, bytes: 64 },
};

export interface ProviderParts {
  readonly module: Pkcs11Module;
  readonly uri: Pkcs11Uri;
  readonly pin: string;
  readonly slot: Handle;
  readonly session: Handle;
  readonly key: Handle;
  readonly kind: KeyKind;
  readonly publicKey: KeyObject | undefined;
  readonly signatureBytes: number;
  readonly sessions: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly onError: ((op: KeyProviderOperation, error: unknown) => void) | undefined;
  readonly probeMs: number;
  readonly timeoutMs: number;
}

interface Waiter {
  readonly resolve: (session: Handle) => void;
  readonly reject: (error: unknown) => void;
}

/** Verifies a signature of the data the caller signed with a public key, on libuv's threadpool (crypto.verify's callback form). */
type Check = (key: KeyObject, signature: Uint8Array, done: (error: Error | null, valid: boolean) => void) => void;

function verifies(check: Check, key: KeyObject, signature: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      // A signature of the wrong shape for the key verifies nothing.
      check(key, signature, (error, valid) => resolve(error === null && valid));
    } catch {
      resolve(false);
    }
  });
}

/** A failed reconnection step: which operation, and why. */
class StepFailed extends Error {
  constructor(readonly op: KeyProviderOperation, readonly error: unknown) {
    super(isCsrSignerError(error) ? error.message : describeFailure(error));
  }
}

export class TokenKeyProvider {
  readonly description: string;
  readonly #name: string;
  readonly #pin: string;
  readonly #module: Pkcs11Module;
  readonly #uri: Pkcs11Uri;
  readonly #kind: KeyKind;
  readonly #publicKey: KeyObject | undefined;
  /** The CA certificate's public key, once loading chose it: every signature returned verifies with it. */
  #expected: KeyObject | undefined;
  readonly #signatureBytes: number;
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly #onError: ((op: KeyProviderOperation, error: unknown) => void) | undefined;
  #slot: Handle;
  #key: Handle;
  #generation: number;
  /** Bumped when the sessions are dropped: a session of an older epoch is closed when it comes back. */
  #epoch = 0;
  #idle: Handle[];
  #open: number;
  #waiters: Waiter[] = [];
  #busy = 0;
  #idleWaiters: (() => void)[] = [];
  #problem: string | undefined;
  /** What the token answered last, for Pkcs11Unreachable's sentence. */
  #detail: string | undefined;
  /** The reconnection loop while it runs: close() waits for it, so no token call outlives the module. */
  #reconnecting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(parts: ProviderParts) {
    this.#name = describePkcs11Uri(parts.uri);
    this.description = `PKCS#11 key ${this.#name}`;
    this.#pin = parts.pin;
    this.#module = parts.module;
    this.#uri = parts.uri;
    this.#kind = parts.kind;
    this.#publicKey = parts.publicKey;
    this.#signatureBytes = parts.signatureBytes;
    this.#size = parts.sessions;
    this.#timeoutMs = parts.timeoutMs;
    this.#backoff = parts.backoff;
    this.#onError = parts.onError;
    this.#slot = parts.slot;
    this.#key = parts.key;
    this.#generation = parts.module.generation;
    this.#idle = [parts.session];
    this.#open = 1;
    if (parts.probeMs > 0) {
      this.#probeTimer = setInterval(() => this.#probe(), parts.probeMs);
      this.#probeTimer.unref();
    }
  }

  /** Asks the token, on a free session, whether the key is still there; a token gone makes the provider unreachable. */
  #probe(): void {
    if (this.#closed !== undefined || this.#problem !== undefined) return;
    if (this.#module.generation !== this.#generation) {
      this.#unreachable('find_key', new Error('CKR_CRYPTOKI_NOT_INITIALIZED: the module was re-initialised'), 0);
      return;
    }
    const session = this.#idle.pop();
    if (session === undefined) return; // every session is signing: a signature will tell.
    const epoch = this.#epoch;
    try {
      this.#library.C_GetAttributeValue(session, this.#key, [{ type: CK.CKA_KEY_TYPE }]);
    } catch (error) {
      if (isGone(error)) {
        this.#release(session, epoch, false);
        this.#unreachable('find_key', error);
        return;
      }
    }
    this.#release(session, epoch, true);
  }

  get #library(): Pkcs11Library {
    return this.#module.library;
  }

  problem(): string | undefined {
    return this.#problem;
  }

  /**
   * The public key of the CA certificate chosen for this key (its test signature verified with
   * it): from now on each signature is verified with it before it is returned, and a key found
   * again after an outage must sign for it.
   */
  bindPublicKey(key: KeyObject): void {
    this.#expected = key;
  }

  /** Signs as X.509 expects: ECDSA over the digest (DER), RSASSA-PKCS1-v1_5 over DigestInfo, Ed25519 over the message. */
  sign(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> {
    const kind = this.#kind;
    const check: Check = (key, signature, done) => verify(hash, data, key, signature, done);
    if (kind.type === 'ed25519') return this.#sign({ mechanism: CK.CKM_EDDSA }, data, false, check);
    if (hash === null) return Promise.reject(new Error(`a ${kind.type === 'ec' ? 'ECDSA' : 'RSA'} signature needs a hash`));
    const digest = createHash(hash).update(data).digest();
    return kind.type === 'ec'
      ? this.#sign({ mechanism: CK.CKM_ECDSA }, digest, true, check)
      : this.#sign({ mechanism: CK.CKM_RSA_PKCS }, digestInfo(hash, digest), false, check);
  }

  /** sign() already waits off the JavaScript thread. */
  signOffThread(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> {
    return this.sign(data, hash);
  }

  /** RSASSA-PSS (CKM_RSA_PKCS_PSS over the digest, MGF1 with the same hash, salt as long as the digest). RSA keys only. */
  signPss(data: Uint8Array, hash: Hash): Promise<Uint8Array> {
    if (this.#kind.type !== 'rsa') return Promise.reject(new Error('RSASSA-PSS needs an RSA key'));
    const h = hashMechanisms[hash];
    const digest = createHash(hash).update(data).digest();
    const check: Check = (key, signature, done) =>
      verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.bytes }, signature, done);
    return this.#sign({ mechanism: CK.CKM_RSA_PKCS_PSS, parameter: { type: CK.CK_PARAMS_RSA_PSS, hashAlg: h.hashAlg, mgf: h.mgf, saltLen: h.bytes } }, digest, false, check);
  }

  /**
   * Every rejected signature is counted as onError('sign'), those refused at once while the
   * token is unreachable too: the error rate stays up for as long as requests fail.
   */
  async #sign(mechanism: Pkcs11Mechanism, input: Uint8Array, der: boolean, check: Check): Promise<Uint8Array> {
    try {
      return await this.#signOnce(mechanism, input, der, check);
    } catch (error) {
      this.#onError?.('sign', error);
      throw error;
    }
  }

  async #signOnce(mechanism: Pkcs11Mechanism, input: Uint8Array, der: boolean, check: Check): Promise<Uint8Array> {
    if (this.#closed !== undefined) throw csrError('Pkcs11Unreachable', this.#name, 'the provider is closed');
    if (this.#module.generation !== this.#generation && this.#problem === undefined) {
      // Another provider re-initialised the module: every handle of ours is invalid.
      this.#markUnreachable(new Error('CKR_CRYPTOKI_NOT_INITIALIZED: the module was re-initialised'), 0);
    }
    if (this.#problem !== undefined) throw this.#unreachableError();
    // Counted from here, waiting for a session included, so that close() waits for it.
    this.#busy++;
    const generation = this.#generation;
    try {
      const session = await this.#acquire();
      const epoch = this.#epoch;
      let raw: Buffer;
      const signing = this.#module.track(generation, () => {
        this.#library.C_SignInit(session, mechanism, this.#key);
        return this.#library.C_SignAsync(session, Buffer.from(input), Buffer.alloc(this.#signatureBytes));
      });
      try {
        raw = await this.#bounded(signing, 'C_Sign');
      } catch (error) {
        if (error instanceof TimedOut) {
          // The session stays busy until the token answers, if ever; then it is closed (its epoch is old).
          signing.then(() => this.#release(session, epoch, false), () => this.#release(session, epoch, false));
          this.#markUnreachable(error);
          throw this.#unreachableError(error);
        }
        const gone = isGone(error);
        this.#release(session, epoch, !gone);
        if (gone) {
          this.#markUnreachable(error);
          throw this.#unreachableError(error);
        }
        throw new Error(`the token refused to sign with ${describeFailure(error)}`, { cause: error });
      }
      this.#release(session, epoch, true);
      const signature = der ? ecdsaRawToDer(raw) : new Uint8Array(raw);
      if (this.#expected !== undefined && !await verifies(check, this.#expected, signature)) {
        // Not the CA's key (a handle that names another key now, a token swapped): never returned.
        const error = new Error("the token's signature does not verify with the CA certificate's public key");
        this.#markUnreachable(error);
        throw this.#unreachableError(error);
      }
      return signature;
    } finally {
      this.#busy--;
      if (this.#busy === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  #unreachableError(cause?: unknown): CsrSignerError {
    return csrErrorWithCause(cause, 'Pkcs11Unreachable', this.#name, this.#detail ?? describeFailure(cause));
  }

  /** `promise`, or TimedOut after the provider's bound. */
  #bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimedOut(`${what} did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * A free session, a new one while fewer than `sessions` are open, or the next one freed
   * (waited for at most the provider's bound: then the token is taken for unreachable).
   */
  #acquire(): Promise<Handle> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.#open < this.#size) {
      this.#open++;
      try {
        return Promise.resolve(this.#library.C_OpenSession(this.#slot, CK.CKF_SERIAL_SESSION));
      } catch (error) {
        this.#open--;
        if (isGone(error)) {
          this.#unreachable('open_session', error);
          return Promise.reject(this.#unreachableError(error));
        }
        this.#onError?.('open_session', error);
        // No more sessions now (the token's limit, shared with other clients), or another
        // refusal: not an outage. Wait for one of ours when there is one, else a transient error.
        if (!capacityCodes.has(ckr(error) ?? '') || this.#open === 0) {
          return Promise.reject(csrErrorWithCause(error, 'Pkcs11Unreachable', this.#name, `the token opens no session (${describeFailure(error)})`));
        }
      }
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (session) => {
          clearTimeout(timer);
          resolve(session);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      };
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter);
        if (index < 0) return;
        this.#waiters.splice(index, 1);
        const error = new TimedOut(`no session was free within ${this.#timeoutMs} ms`);
        this.#markUnreachable(error);
        reject(this.#unreachableError(error));
      }, this.#timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #release(session: Handle, epoch: number, keep: boolean): void {
    if (epoch !== this.#epoch || !keep || this.#closed !== undefined) {
      this.#closeSession(session);
      if (epoch !== this.#epoch) return;
      this.#open--;
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) this.#acquire().then(waiter.resolve, waiter.reject);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(session);
    else this.#idle.push(session);
  }

  /** Counts the failure; the first one drops the sessions and starts reconnecting. */
  #unreachable(op: KeyProviderOperation, error: unknown, firstDelayMs = this.#backoff.initialMs): void {
    this.#onError?.(op, error);
    this.#markUnreachable(error, firstDelayMs);
  }

  /** The first failure drops the sessions and starts reconnecting (counted by the caller). */
  #markUnreachable(error: unknown, firstDelayMs = this.#backoff.initialMs): void {
    if (this.#problem !== undefined || this.#closed !== undefined) return;
    this.#setProblem(describeFailure(error));
    this.#dropSessions();
    const failure = this.#unreachableError(error);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(failure);
    if (this.#reconnecting === undefined) this.#reconnecting = this.#reconnect(firstDelayMs);
  }

  #setProblem(detail: string): void {
    this.#detail = detail;
    this.#problem = csrError('Pkcs11Unreachable', this.#name, detail).message;
  }

  #dropSessions(): void {
    this.#epoch++;
    for (const session of this.#idle.splice(0)) this.#closeSession(session);
    this.#open = 0;
  }

  /**
   * Closes a session of ours, unless the module was re-initialised since it was opened: the
   * handle is then dead, and its number may already be another provider's new session.
   */
  #closeSession(session: Handle, generation = this.#generation): void {
    if (generation === this.#module.generation) closeQuietly(this.#library, session);
  }

  async #reconnect(firstDelayMs: number): Promise<void> {
    let delay = firstDelayMs;
    try {
      while (this.#closed === undefined && this.#problem !== undefined) {
        await this.#sleep(delay);
        if (this.#closed !== undefined) return;
        try {
          await this.#reconnectOnce();
          this.#problem = undefined;
          this.#detail = undefined;
          return;
        } catch (error) {
          if (this.#closed !== undefined) return;
          const failed = error instanceof StepFailed ? error : new StepFailed('load', error);
          this.#onError?.(failed.op, failed.error);
          if (isCsrSignerError(failed.error) && failed.error.kind === 'Pkcs11LoginFailed') {
            // The PIN changed under us (refused, locked, or the process is logged in with another one):
            // trying again could lock the token and would not help. A reload with the new PIN opens a new provider.
            this.#detail = `the PIN is no longer accepted: ${failed.error.message}`;
            this.#problem = failed.error.message;
            return;
          }
          this.#setProblem(failed.message);
        }
        delay = Math.min(Math.max(delay * 2, this.#backoff.initialMs), this.#backoff.maxMs);
      }
    } finally {
      this.#reconnecting = undefined;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
      this.#timer.unref();
    });
  }

  /**
   * One reconnection: find the token (re-initialising the module when it is not there, or
   * when its old handles fail), log in, find the key again, and check with a test signature
   * that it is the same key.
   */
  async #reconnectOnce(): Promise<void> {
    this.#dropSessions();
    const library = this.#library;
    let slot: Handle;
    let session: Handle;
    const seen = this.#module.generation;
    try {
      ({ slot, session } = this.#login());
    } catch (error) {
      // A refused login is not an outage: re-initialising the module would log out every
      // session of the process, those of a provider logged in with a newer PIN included.
      if (error instanceof StepFailed && error.op === 'login' && isCsrSignerError(error.error) && error.error.kind === 'Pkcs11LoginFailed') throw error;
      try {
        await this.#module.reinitialize(seen);
      } catch (reinit) {
        throw new StepFailed('load', reinit);
      }
      ({ slot, session } = this.#login());
    }
    // The generation the new handles belong to, read right after the login that made them: a
    // re-initialisation by another provider during the awaits below makes them old, not ours.
    const generation = this.#module.generation;
    try {
      let key: Handle;
      let kind: KeyKind;
      try {
        key = findPrivateKey(library, session, this.#uri);
        kind = keyDetails(library, session, key, this.#uri).kind;
      } catch (error) {
        throw new StepFailed('find_key', error);
      }
      if (JSON.stringify(kind) !== JSON.stringify(this.#kind)) {
        throw new StepFailed('find_key', new Error(`the token's key is now ${JSON.stringify(kind)}, not the key loaded`));
      }
      await this.#checkSameKey(session, key, generation);
      if (this.#closed !== undefined) throw new StepFailed('load', new Error('closed'));
      if (generation !== this.#module.generation) throw new StepFailed('load', new Error('CKR_CRYPTOKI_NOT_INITIALIZED: the module was re-initialised'));
      this.#slot = slot;
      this.#key = key;
      this.#generation = generation;
      this.#epoch++;
      this.#idle = [session];
      this.#open = 1;
    } catch (error) {
      this.#closeSession(session, generation);
      throw error;
    }
  }

  #login(): { slot: Handle; session: Handle } {
    let slot: Handle;
    try {
      slot = findSlot(this.#library, this.#uri);
    } catch (error) {
      throw new StepFailed('open_session', error);
    }
    try {
      return { slot, session: openLoggedInSession(this.#library, slot, this.#uri, this.#pin) };
    } catch (error) {
      throw new StepFailed(isCsrSignerError(error) && error.kind === 'Pkcs11LoginFailed' ? 'login' : 'open_session', error);
    }
  }

  /** Signs 32 random bytes on the token and verifies them with the public key loaded (when the token showed one). */
  async #checkSameKey(session: Handle, key: Handle, generation: number): Promise<void> {
    const challenge = randomBytes(32);
    const kind = this.#kind;
    const hash: Hash | null = kind.type === 'ed25519' ? null : kind.type === 'rsa' ? 'sha256' : kind.curve === 'P-256' ? 'sha256' : kind.curve === 'P-384' ? 'sha384' : 'sha512';
    const mechanism = kind.type === 'ed25519' ? CK.CKM_EDDSA : kind.type === 'ec' ? CK.CKM_ECDSA : CK.CKM_RSA_PKCS;
    const input = hash === null ? challenge : kind.type === 'ec' ? createHash(hash).update(challenge).digest() : digestInfo(hash, createHash(hash).update(challenge).digest());
    let signature: Uint8Array;
    try {
      const raw = await this.#module.track(generation, () => {
        this.#library.C_SignInit(session, { mechanism }, key);
        return this.#library.C_SignAsync(session, Buffer.from(input), Buffer.alloc(this.#signatureBytes));
      });
      signature = kind.type === 'ec' ? ecdsaRawToDer(raw) : raw;
    } catch (error) {
      throw new StepFailed('sign', error);
    }
    // The CA certificate's key once loading bound it (the public-key object on the token may be
    // missing, or another key's); until then the one the token showed at open, if any.
    const expected = this.#expected ?? this.#publicKey;
    if (expected !== undefined && !await verifies((k, s, done) => verify(hash, challenge, k, s, done), expected, signature)) {
      throw new StepFailed('find_key', new Error('the key found is not the key loaded (its test signature does not verify)'));
    }
  }

  /** Closes the sessions once the signatures in flight are done; the module is finalised with its last provider. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearTimeout(this.#timer);
      clearInterval(this.#probeTimer);
      this.#wake?.();
      const failure = csrError('Pkcs11Unreachable', this.#name, 'the provider is closed');
      for (const waiter of this.#waiters.splice(0)) waiter.reject(failure);
      if (this.#busy > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      await this.#reconnecting;
      for (const session of this.#idle.splice(0)) this.#closeSession(session);
      this.#module.release();
    })();
    return this.#closed;
  }

  toJSON(): string {
    return `[csr-signer: ${this.description}, on the token]`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toJSON();
  }

  toString(): string {
    return this.toJSON();
  }
}
