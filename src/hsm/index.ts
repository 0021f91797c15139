/**
 * CA keys on PKCS#11 tokens (hardware HSMs, cloud HSMs with a PKCS#11 library,
 * SoftHSM2): the one place that talks to a token, through the native binding
 * pkcs11js (an optional dependency, loaded only when a signer's key is on a token).
 *
 * The key never leaves the token: csr-signer finds it, logs in with a PIN it is
 * given, and asks the token to sign. Everything here is I/O; the rest of src/ sees a
 * KeyProvider (src/pki/key-provider.ts) and the error catalogue's Pkcs11* errors.
 */
import type { KeyObject } from 'node:crypto';
import type { Hash, KeyKind, KeyProvider, KeyProviderOperation } from '../pki/index.js';
import { csrError, csrErrorWithCause, isCsrSignerError } from '../errors.js';
import { describeFailure, type Handle } from './binding.js';
import { Pkcs11Module } from './module.js';
import { TokenKeyProvider } from './provider.js';
import { closeQuietly, findPrivateKey, findSlot, keyDetails, openLoggedInSession, readCertificates } from './token.js';
import { describePkcs11Uri, type Pkcs11Uri } from './uri.js';

export { describePkcs11Uri, isPkcs11Uri, parsePkcs11Uri } from './uri.js';
export type { Pkcs11ObjectType, Pkcs11TokenMatch, Pkcs11Uri } from './uri.js';

export interface Pkcs11Options {
  /** Names the token (token, serial, manufacturer, model, slot-id) and the object (object, id). */
  readonly uri: Pkcs11Uri;
  /** The module, an absolute path (the URI's module-path, when given, must name the same file). */
  readonly module: string;
  /** The user PIN. Never logged, never in a message or an error. */
  readonly pin: string;
  /**
   * Counts a failed operation (csr_signer_key_provider_errors_total{signer,op}): at open (load,
   * open_session, login, find_key, read_certificate; the error is thrown too), each rejected
   * signature (sign; also those refused at once while the token is unreachable), each failed
   * reconnection step, and a probe that finds the token gone (find_key).
   */
  readonly onError?: (op: KeyProviderOperation, error: unknown) => void;
  /** Reconnection backoff after the token stops answering: first delay and cap, milliseconds. Default 500 ms doubling to 30 s. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

export interface Pkcs11KeyOptions extends Pkcs11Options {
  /** Sessions kept open on the token: at most this many signatures at once (default 5, the default worker count). */
  readonly sessions?: number;
  /**
   * How often (milliseconds) an idle provider asks the token whether its key is still there
   * (C_GetAttributeValue on a free session), so that problem() and /readyz see a removed token
   * without waiting for a signature. Default 10 s; 0 turns it off.
   */
  readonly probeMs?: number;
  /**
   * The longest a signature may take, milliseconds, and the longest a request waits for a free
   * session: past it the request is refused with Pkcs11Unreachable and the token is reconnected
   * (a network HSM that hangs). Default 30 s.
   */
  readonly timeoutMs?: number;
}

/** A key provider whose key is on a token. */
export interface Pkcs11KeyProvider extends KeyProvider {
  /** Returns a promise: C_Sign runs on libuv's threadpool (C_SignInit, and C_OpenSession while the pool grows, run on the calling thread). */
  sign(data: Uint8Array, hash: Hash | null): Promise<Uint8Array>;
  signOffThread(data: Uint8Array, hash: Hash | null): Promise<Uint8Array>;
  /** Undefined while the token answers; one sentence (CSR_SIGNER_ERR_PKCS11_UNREACHABLE's) while it does not. */
  problem(): string | undefined;
  /** Closes the sessions; the module stays loaded for other providers and is finalised with the last one. */
  close(): Promise<void>;
  /** The description, bracketed: JSON, util.inspect and String() show this and nothing else (never the PIN). */
  toJSON(): string;
  toString(): string;
  /**
   * The CA certificate's public key (certificateAuthorityFromKey calls this once its test
   * signature chose the certificate): each later signature is verified with it before it is
   * returned (one that does not verify: Pkcs11Unreachable, counted as sign, and a reconnection),
   * and a reconnection checks with it that the key found is the same.
   */
  bindPublicKey?(key: KeyObject): void;
  /** RSASSA-PSS through CKM_RSA_PKCS_PSS (MGF1 with the same hash, salt as long as the digest); RSA keys only. */
  signPss(data: Uint8Array, hash: Hash): Promise<Uint8Array>;
}

export interface Pkcs11Key {
  readonly provider: Pkcs11KeyProvider;
  /** The key's kind, read from the token (CKA_KEY_TYPE, CKA_EC_PARAMS, CKA_MODULUS_BITS or the modulus). */
  readonly keyKind: KeyKind;
  /**
   * The public key when the token shows it (the public-key object with the same CKA_ID or label,
   * or an RSA private key's modulus and exponent); undefined otherwise. Loading does not trust it
   * alone: a test signature decides which certificate is the key's.
   */
  readonly publicKey: KeyObject | undefined;
}

/**
 * Opens the token the URI names, logs in, finds exactly one private key, and returns a
 * provider for it. Throws a CsrSignerError: Pkcs11BindingMissing, Pkcs11ModuleInvalid,
 * Pkcs11TokenNotFound, Pkcs11LoginFailed, Pkcs11KeyNotFound, CaUnsupportedKey. Nothing is
 * retried here: a wrong PIN tried again may lock the token.
 */
export function openPkcs11Key(options: Pkcs11KeyOptions): Promise<Pkcs11Key> {
  return Promise.resolve().then(() => openKey(options));
}

function openKey(options: Pkcs11KeyOptions): Pkcs11Key {
  const sessions = options.sessions ?? 5;
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 64) throw new RangeError(`sessions must be an integer from 1 to 64, not ${sessions}`);
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  return withToken(options, 'private', ({ module, slot, session }) => {
    const name = describePkcs11Uri(options.uri);
    let key;
    let details;
    try {
      key = findPrivateKey(module.library, session, options.uri);
      details = keyDetails(module.library, session, key, options.uri);
    } catch (error) {
      options.onError?.('find_key', error);
      if (isCsrSignerError(error)) throw error;
      throw csrErrorWithCause(error, 'Pkcs11KeyNotFound', name, `the token cannot be searched (${describeFailure(error)})`);
    }
    const provider = new TokenKeyProvider({
      module, uri: options.uri, pin: options.pin, slot, session, key, kind: details.kind, publicKey: details.publicKey,
      signatureBytes: details.signatureBytes, sessions, backoff, onError: options.onError, probeMs: options.probeMs ?? 10_000,
      timeoutMs: options.timeoutMs ?? 30_000,
    });
    return { keep: true, value: { provider, keyKind: details.kind, publicKey: details.publicKey } };
  });
}

/**
 * The certificates on the token the URI names (CKO_CERTIFICATE objects matching its object
 * and id; type=cert or none), DER each, in the token's order. Throws Pkcs11CertificateNotFound
 * when there are none, and the errors of openPkcs11Key for the module, token and login.
 */
export function readPkcs11Certificates(options: Pkcs11Options): Promise<Uint8Array[]> {
  return Promise.resolve().then(() => withToken(options, 'cert', ({ module, session }) => {
    try {
      return { keep: false, value: readCertificates(module.library, session, options.uri) };
    } catch (error) {
      options.onError?.('read_certificate', error);
      if (isCsrSignerError(error)) throw error;
      throw csrErrorWithCause(error, 'Pkcs11CertificateNotFound', describePkcs11Uri(options.uri), `the token cannot be searched (${describeFailure(error)})`);
    }
  }));
}

interface OpenToken {
  readonly module: Pkcs11Module;
  readonly slot: Handle;
  readonly session: Handle;
}

/**
 * Loads the module, finds the token and logs in, then runs `use`; the module and session
 * are released unless `use` keeps them (a provider does), and on any failure.
 */
function withToken<T>(options: Pkcs11Options, type: 'private' | 'cert', use: (token: OpenToken) => { keep: boolean; value: T }): T {
  const { uri } = options;
  const name = describePkcs11Uri(uri);
  if (uri.type !== undefined && uri.type !== type) {
    throw csrError(type === 'private' ? 'Pkcs11KeyNotFound' : 'Pkcs11CertificateNotFound', name, `the URI names type=${uri.type} objects, not type=${type}`);
  }
  if (uri.modulePath !== undefined && uri.modulePath !== options.module) {
    throw csrError('Pkcs11ModuleInvalid', options.module, `the URI's module-path names ${uri.modulePath}, a different file`);
  }
  let module: Pkcs11Module;
  try {
    module = Pkcs11Module.acquire(options.module);
  } catch (error) {
    options.onError?.('load', error);
    throw error;
  }
  let session: Handle | undefined;
  try {
    let slot: Handle;
    try {
      slot = findSlot(module.library, uri);
    } catch (error) {
      options.onError?.('load', error);
      throw error;
    }
    try {
      session = openLoggedInSession(module.library, slot, uri, options.pin);
    } catch (error) {
      // openLoggedInSession words its own failures of the login step (a PIN refused, or
      // the token not answering C_Login); anything else is C_OpenSession's.
      const login = isCsrSignerError(error) && (error.kind === 'Pkcs11LoginFailed' || error.kind === 'Pkcs11Unreachable');
      options.onError?.(login ? 'login' : 'open_session', error);
      if (login) throw error;
      throw csrErrorWithCause(error, 'Pkcs11TokenNotFound', name, `the token does not open a session (${describeFailure(error)})`);
    }
    const { keep, value } = use({ module, slot, session });
    if (!keep) {
      closeQuietly(module.library, session);
      module.release();
    }
    return value;
  } catch (error) {
    if (session !== undefined) closeQuietly(module.library, session);
    module.release();
    throw error;
  }
}
