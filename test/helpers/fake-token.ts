/**
 * A PKCS#11 token in memory, for the CA store's tests of what it does with a token key
 * (reuse, close after signings in flight, errors kept, readiness): keys by URI object
 * label, a PIN, a switch that makes the token stop answering, and a record of every
 * open and close. Signing is real (node:crypto through InMemoryKeyProvider). The
 * PKCS#11 side itself is tested against SoftHSM2 (test/hsm/, test/trust/ca-store-softhsm.test.ts).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { csrError } from '../../src/errors.js';
import type { Pkcs11Key, Pkcs11KeyOptions, Pkcs11KeyProvider, Pkcs11Options } from '../../src/hsm/index.js';
import { caKeyKind } from '../../src/pki/ca.js';
import { InMemoryKeyProvider, type KeyProviderOperation } from '../../src/pki/index.js';
import type { Hash } from '../../src/pki/index.js';
import type { TokenAccess } from '../../src/trust/ca-store.js';

const unreachable = (uri: string): Error => csrError('Pkcs11Unreachable', uri, 'CKR_DEVICE_REMOVED');

export class FakeProvider implements Pkcs11KeyProvider {
  closed = false;
  /** Resolves the signatures held back with `hold`, in order. */
  private held: (() => void)[] = [];
  holding = false;

  constructor(private readonly token: FakeToken, private readonly inner: InMemoryKeyProvider, readonly description: string,
    private readonly onError: ((op: KeyProviderOperation, error: unknown) => void) | undefined, readonly sessions: number | undefined) {}

  async sign(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> {
    if (this.closed) throw new Error('signing with a closed provider');
    if (this.token.removed) {
      const error = unreachable(this.description);
      this.onError?.('sign', error);
      throw error;
    }
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.closed) throw new Error('closed while signing');
    return this.inner.sign(data, hash);
  }

  signOffThread(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> {
    return this.sign(data, hash);
  }

  signPss(): Promise<Uint8Array> {
    return Promise.reject(new Error('the fake token does not sign RSASSA-PSS'));
  }

  toJSON(): string {
    return `[${this.description}]`;
  }

  toString(): string {
    return this.toJSON();
  }

  /** Lets the held signatures finish. */
  release(): void {
    this.holding = false;
    for (const resolve of this.held.splice(0)) resolve();
  }

  problem(): string | undefined {
    return this.token.removed ? unreachable(this.description).message : undefined;
  }

  close(): Promise<void> {
    this.closed = true;
    this.token.closes.push(this.description);
    return Promise.resolve();
  }
}

export class FakeToken implements TokenAccess {
  removed = false;
  /** Every open: the URI text, the PIN's length (not the PIN), the sessions asked for. */
  readonly opens: { uri: string; module: string; sessions: number | undefined }[] = [];
  readonly closes: string[] = [];
  readonly providers: FakeProvider[] = [];
  /** Certificates (PEM) by object label, for ca.cert. */
  readonly certificates = new Map<string, string>();

  /** `keys`: PEM private keys by object label. */
  constructor(public pin: string, private readonly keys: Map<string, string>) {}

  private check(options: Pkcs11Options, op: KeyProviderOperation): void {
    if (this.removed) {
      const error = unreachable(options.uri.text);
      options.onError?.(op, error);
      throw error;
    }
    if (options.pin !== this.pin) {
      const error = csrError('Pkcs11LoginFailed', options.uri.text, 'CKR_PIN_INCORRECT');
      options.onError?.('login', error);
      throw error;
    }
  }

  openKey = (options: Pkcs11KeyOptions): Promise<Pkcs11Key> => {
    this.check(options, 'open_session');
    this.opens.push({ uri: options.uri.text, module: options.module, sessions: options.sessions });
    const pem = this.keys.get(options.uri.objectLabel ?? '');
    if (pem === undefined) return Promise.reject(csrError('Pkcs11KeyNotFound', options.uri.text, 'no private key matches'));
    const key = createPrivateKey(pem);
    const provider = new FakeProvider(this, InMemoryKeyProvider.fromKeyObject(key, 'fake'), `fake ${options.uri.objectLabel ?? ''}`, options.onError, options.sessions);
    this.providers.push(provider);
    return Promise.resolve({ provider, keyKind: caKeyKind(key, 'fake'), publicKey: createPublicKey(key) });
  };

  readCertificates = (options: Pkcs11Options): Promise<Uint8Array[]> => {
    this.check(options, 'read_certificate');
    const pem = this.certificates.get(options.uri.objectLabel ?? '');
    if (pem === undefined) return Promise.reject(csrError('Pkcs11CertificateNotFound', options.uri.text, 'no certificate matches'));
    const ders = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => new Uint8Array(Buffer.from(m[1] ?? '', 'base64')));
    return Promise.resolve(ders);
  };
}
