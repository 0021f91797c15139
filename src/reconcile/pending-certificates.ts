/**
 * Certificates issued whose status write is not confirmed, in memory, by CSR
 * name: the write failed in a way that does not say whether it was stored (a
 * 504, a 500, a reset connection), so the next sight of the CSR decides
 * (signer/delivery.ts). Bounded: past `max` the oldest is given up and returned.
 */
import { KubeApiError } from '../kube/http.js';
import type { CaCertificate, IssuedCertificate } from '../pki/index.js';
import type { Csr, SignerConfig } from '../signer/types.js';

/** What the audit record, the Event, the metrics and the rotation record need once delivery is known. */
export interface PendingCertificate {
  /** The CSR as it was decided on. */
  readonly csr: Csr;
  readonly signer: SignerConfig;
  readonly ca: CaCertificate;
  readonly issued: IssuedCertificate;
  /** status.certificate as written, before the API's base64. */
  readonly written: Uint8Array;
  readonly subject: string;
  readonly sans: object;
  readonly signSeconds: number;
}

/**
 * Entries awaiting word, in memory, by the key of the object they were written to
 * (`keyOf`), oldest first and bounded: past `max` the oldest is given up and returned.
 * The CSR signer's are PendingCertificates; the PodCertificateRequest signer keeps its
 * own entries (reconcile/pcr-signing.ts) keyed namespace/name.
 */
export class PendingWrites<E> {
  private readonly byKey = new Map<string, E[]>();
  /** Every entry, oldest first. */
  private readonly order = new Set<E>();

  constructor(private readonly max: number, private readonly keyOf: (entry: E) => string) {}

  get size(): number {
    return this.order.size;
  }

  /** Adds `entry`; returns the oldest entry given up to stay within the bound, if one was. */
  add(entry: E): E | undefined {
    const key = this.keyOf(entry);
    this.byKey.set(key, [...(this.byKey.get(key) ?? []), entry]);
    this.order.add(entry);
    if (this.order.size <= this.max) return undefined;
    const oldest = this.order.values().next().value;
    if (oldest !== undefined) this.remove(oldest);
    return oldest;
  }

  remove(entry: E): void {
    const key = this.keyOf(entry);
    const rest = (this.byKey.get(key) ?? []).filter((e) => e !== entry);
    if (rest.length > 0) this.byKey.set(key, rest);
    else this.byKey.delete(key);
    this.order.delete(entry);
  }

  /** The keys with entries, as a copy. */
  names(): string[] {
    return [...this.byKey.keys()];
  }

  forName(key: string): readonly E[] {
    return this.byKey.get(key) ?? [];
  }

  /**
   * Before the loop lets go (shutdown, lost leadership), for each key with entries: `read`
   * the object as now seen (undefined, or a 404: gone) and `settle` the entries against it;
   * what is still undecided was not delivered by now and this process will not look again
   * (`abandoned`). A read that fails otherwise gives the key's entries up as `unknown`.
   */
  async settleAll<T>(how: {
    read: (key: string) => Promise<T | undefined>;
    settle: (key: string, current: T | undefined) => void;
    unknown: (entry: E, err: unknown) => void;
    abandoned: (entry: E) => void;
  }): Promise<void> {
    for (const key of this.names()) {
      let current: T | undefined;
      try {
        current = await how.read(key);
      } catch (e) {
        if (!(e instanceof KubeApiError && e.status === 404)) {
          for (const entry of this.forName(key)) {
            this.remove(entry);
            how.unknown(entry, e);
          }
          continue;
        }
      }
      how.settle(key, current);
      for (const entry of this.forName(key)) {
        this.remove(entry);
        how.abandoned(entry);
      }
    }
  }
}

/** The CSR signer's certificates awaiting word, by CSR name. */
export class PendingCertificates extends PendingWrites<PendingCertificate> {
  constructor(max: number) {
    super(max, (entry) => entry.csr.metadata.name);
  }
}
