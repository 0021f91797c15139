/**
 * Certificates issued whose status write is not confirmed, in memory, by CSR
 * name: the write failed in a way that does not say whether it was stored (a
 * 504, a 500, a reset connection), so the next sight of the CSR decides
 * (signer/delivery.ts). Bounded: past `max` the oldest is given up and returned.
 */
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

export class PendingCertificates {
  private readonly byName = new Map<string, PendingCertificate[]>();
  /** Every entry, oldest first. */
  private readonly order = new Set<PendingCertificate>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.order.size;
  }

  /** Adds `entry`; returns the oldest entry given up to stay within the bound, if one was. */
  add(entry: PendingCertificate): PendingCertificate | undefined {
    const name = entry.csr.metadata.name;
    this.byName.set(name, [...(this.byName.get(name) ?? []), entry]);
    this.order.add(entry);
    if (this.order.size <= this.max) return undefined;
    const oldest = this.order.values().next().value;
    if (oldest) this.remove(oldest);
    return oldest;
  }

  remove(entry: PendingCertificate): void {
    const name = entry.csr.metadata.name;
    const rest = (this.byName.get(name) ?? []).filter((e) => e !== entry);
    if (rest.length > 0) this.byName.set(name, rest);
    else this.byName.delete(name);
    this.order.delete(entry);
  }

  /** The CSR names with entries, as a copy. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  forName(name: string): readonly PendingCertificate[] {
    return this.byName.get(name) ?? [];
  }
}
