/**
 * The key provider seam: the authority decides *what* to sign; a provider holds
 * the key and signs bytes. A PEM file's key lives in memory as a non-extractable
 * CryptoKey; a PKCS#11 token or a cloud KMS can implement the same interface.
 */
import { createPrivateKey, sign, webcrypto, type KeyObject } from 'node:crypto';
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
}

const redacted = '[csr-signer: private key redacted]';

/** A private key held in this process, imported so that nothing can export it again. */
export class InMemoryKeyProvider implements KeyProvider {
  readonly #key: webcrypto.CryptoKey;

  private constructor(key: webcrypto.CryptoKey, readonly description: string) {
    this.#key = key;
  }

  /** Imports `keyObject` as a non-extractable CryptoKey; the caller should drop the KeyObject. */
  static async fromKeyObject(keyObject: KeyObject, description: string): Promise<InMemoryKeyProvider> {
    const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
    try {
      const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, importAlgorithm(keyObject), false, ['sign']);
      return new InMemoryKeyProvider(key, description);
    } finally {
      pkcs8.fill(0);
    }
  }

  sign(data: Uint8Array, hash: Hash | null): Uint8Array {
    // Node's crypto.sign accepts a CryptoKey (documented since v15); @types/node omits it.
    return sign(hash, data, this.#key as unknown as KeyObject);
  }

  signOffThread(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> {
    // The same call in its callback form, which runs on libuv's threadpool.
    return new Promise((resolve, reject) => {
      sign(hash, data, this.#key as unknown as KeyObject, (error, signature) => {
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

function importAlgorithm(key: KeyObject): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'ec':
      return { name: 'ECDSA', namedCurve: curveNames[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'unknown' };
    case 'ed25519':
      return { name: 'Ed25519' };
    default:
      throw new Error(`cannot import a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

/** Parses a PEM or DER private key (PKCS#8, PKCS#1, SEC1, encrypted PKCS#8). Throws Node's error. */
export const parsePrivateKey = (bytes: Uint8Array, passphrase?: string): KeyObject =>
  createPrivateKey(
    passphrase === undefined
      ? { key: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }
      : { key: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), passphrase },
  );
