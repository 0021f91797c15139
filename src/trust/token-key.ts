/**
 * A CA key on a PKCS#11 token as the CA store holds it: the provider the token module
 * gave, opened once per module, URI and PIN, shared by every CA loaded from it, and
 * closed only after the signings in flight on it finished (a CA replaced in a reload may
 * still be signing).
 */
import type { Pkcs11Key, Pkcs11KeyProvider } from '../hsm/index.js';
import type { Hash, KeyProvider } from '../pki/index.js';

export class TrackedKeyProvider implements KeyProvider {
  readonly description: string;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #closed: Promise<void> | undefined;

  readonly #inner: Pkcs11KeyProvider;

  constructor(inner: Pkcs11KeyProvider) {
    this.#inner = inner;
    this.description = inner.description;
  }

  async sign(data: Uint8Array, hash: Hash | null): Promise<Uint8Array> {
    this.#inFlight++;
    try {
      return await this.#inner.sign(data, hash);
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  problem(): string | undefined {
    return this.#inner.problem();
  }

  /** JSON, util.inspect and String() show the provider's own redacted form, never what it holds. */
  toJSON(): string {
    return this.#inner.toJSON();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.#inner.toJSON();
  }

  toString(): string {
    return this.#inner.toJSON();
  }

  /** Signings in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Waits for the signings in flight, then closes the provider's sessions; once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
      await this.#inner.close();
    })();
    return this.#closed;
  }
}

/** An opened token key: which module, URI and PIN it was opened with (a digest), and the provider. */
export interface OpenTokenKey {
  readonly identity: string;
  readonly key: Pkcs11Key;
  readonly provider: TrackedKeyProvider;
}
