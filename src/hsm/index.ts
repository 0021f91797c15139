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
import type { KeyKind, KeyProvider, KeyProviderOperation } from '../pki/index.js';
import type { Pkcs11Uri } from './uri.js';

export { describePkcs11Uri, isPkcs11Uri, parsePkcs11Uri } from './uri.js';
export type { Pkcs11ObjectType, Pkcs11TokenMatch, Pkcs11Uri } from './uri.js';

export interface Pkcs11Options {
  /** Names the token (token, serial, manufacturer, model, slot-id) and the object (object, id). */
  readonly uri: Pkcs11Uri;
  /** The module, an absolute path (the URI's module-path, when given, must name the same file). */
  readonly module: string;
  /** The user PIN. Never logged, never in a message or an error. */
  readonly pin: string;
  /** Counts a failed operation (csr_signer_key_provider_errors_total{signer,op}); the provider retries by itself. */
  readonly onError?: (op: KeyProviderOperation, error: unknown) => void;
  /** Reconnection backoff after the token stops answering: first delay and cap, milliseconds. Default 500 ms doubling to 30 s. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

export interface Pkcs11KeyOptions extends Pkcs11Options {
  /** Sessions kept open on the token: at most this many signatures at once (default 5, the default worker count). */
  readonly sessions?: number;
}

/** A key provider whose key is on a token. */
export interface Pkcs11KeyProvider extends KeyProvider {
  /** Undefined while the token answers; one sentence (CSR_SIGNER_ERR_PKCS11_UNREACHABLE's) while it does not. */
  problem(): string | undefined;
  /** Closes the sessions; the module stays loaded for other providers and is finalised with the last one. */
  close(): Promise<void>;
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
 * Pkcs11TokenNotFound, Pkcs11LoginFailed, Pkcs11KeyNotFound, CaUnsupportedKey.
 */
export function openPkcs11Key(options: Pkcs11KeyOptions): Promise<Pkcs11Key> {
  void options;
  return Promise.reject(new Error('openPkcs11Key: not implemented yet'));
}

/**
 * The certificates on the token the URI names (CKO_CERTIFICATE objects matching its object
 * and id; type=cert or none), DER each, in the token's order. Throws Pkcs11CertificateNotFound
 * when there are none, and the errors of openPkcs11Key for the module, token and login.
 */
export function readPkcs11Certificates(options: Pkcs11Options): Promise<Uint8Array[]> {
  void options;
  return Promise.reject(new Error('readPkcs11Certificates: not implemented yet'));
}
