/**
 * The key provider seam: the authority decides *what* to sign; a provider holds
 * the key and signs bytes. A PEM file's key lives in memory, in a private field of
 * InMemoryKeyProvider; a PKCS#11 token or a cloud KMS can implement the same interface.
 */
import { sign, type KeyObject } from 'node:crypto';
import type { Hash } from './signature.js';

export interface KeyProvider {
  /** For logs and metrics: never key material. */
  readonly description: string;
  /** Signs `data` with `hash` (null for Ed25519); returns the signature as X.509 expects it. */
  sign(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> | Uint8Array;
  /**
   * Optional: sign() computed off the JavaScript thread (libuv's threadpool).
   * When several requests are in flight the authority calls this instead of
   * sign(), so that the key's work overlaps the parsing of other requests.
   */
  signOffThread?(data: Uint8Array, hash: Hash | null): Promise<Uint8Array>;
  /**
   * Optional, for /readyz: one sentence saying why the key cannot sign now (a token
   * that does not answer and is being reconnected), or undefined while it can.
   */
  problem?(): string | undefined;
  /** Optional: releases what the provider holds (sessions, a module); called once no CA uses it any more. */
  close?(): Promise<void>;
  /**
   * Optional: the public key of the CA certificate chosen for this key (its test signature
   * verified with it). A provider whose key is held elsewhere (a token) verifies each signature
   * it returns with it, and checks with it that a key found again after an outage is the same.
   */
  bindPublicKey?(key: KeyObject): void;
}

/** What a key provider was doing when it failed, as csr_signer_key_provider_errors_total{op} counts it. */
export const keyProviderOperations = ['load', 'open_session', 'login', 'find_key', 'sign', 'read_certificate'] as const;
export type KeyProviderOperation = (typeof keyProviderOperations)[number];

const redacted = '[csr-signer: private key redacted]';

/**
 * A private key held in this process, in a private field that nothing outside this
 * class can reach (no accessor; redacted in JSON, inspect and toString). It stays a
 * KeyObject: node:crypto signs with it on the calling thread or the threadpool. A
 * WebCrypto CryptoKey would add nothing here: handing one to node:crypto is
 * deprecated (DEP0203), and KeyObject.from turns even a non-extractable one into an
 * exportable KeyObject (DEP0204).
 */
export class InMemoryKeyProvider implements KeyProvider {
  readonly #key: KeyObject;

  private constructor(key: KeyObject, readonly description: string) {
    this.#key = key;
  }

  /** Takes `keyObject`, a private key of a type a CA may have; the caller should drop its reference. */
  static fromKeyObject(keyObject: KeyObject, description: string): InMemoryKeyProvider {
    if (keyObject.type !== 'private') throw new Error(`cannot sign with a ${keyObject.type} key`);
    supportedKey(keyObject);
    return new InMemoryKeyProvider(keyObject, description);
  }

  sign(data: Uint8Array, hash: Hash | null): Uint8Array {
    return sign(hash, data, this.#key);
  }

  signOffThread(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> {
    // The same call in its callback form, which runs on libuv's threadpool.
    return new Promise((resolve, reject) => {
      sign(hash, data, this.#key, (error, signature) => {
        if (error) reject(error);
        else resolve(signature);
      });
    });
  }

  toJSON(): string {
    return redacted;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return redacted;
  }

  toString(): string {
    return redacted;
  }
}

/** OpenSSL's curve names as WebCrypto and JOSE name them. */
export const curveNames: Readonly<Record<string, 'P-256' | 'P-384' | 'P-521'>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** The key types a CA may have (those signatureAlgorithmFor knows); throws for any other. */
function supportedKey(key: KeyObject): void {
  const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'ed25519') return;
  if (key.asymmetricKeyType === 'ec' && curveNames[curve] !== undefined) return;
  throw new Error(`cannot sign with a ${key.asymmetricKeyType ?? 'unknown'}${curve === '' ? '' : ` ${curve}`} key`);
}
