/**
 * A CA that leaves a signer's trust bundle while certificates it signed are still
 * valid is an outage for whoever re-reads the bundle. From the bundle before and
 * after a change and the rotation record's latest issuance per CA, which CAs left
 * too early. Pure: the caller logs.
 */
import type { CaIssuance } from './rotation-record.js';

export interface EarlyRetirement {
  /** The CA's SHA-256 fingerprint. */
  readonly ca: string;
  readonly issued: CaIssuance;
}

export function retiredEarly(
  signer: string, before: ReadonlySet<string>, after: ReadonlySet<string>, latest: ReadonlyMap<string, CaIssuance>, now: Date,
): EarlyRetirement[] {
  const out: EarlyRetirement[] = [];
  for (const ca of before) {
    const issued = latest.get(ca);
    if (after.has(ca) || !issued || issued.signer !== signer || issued.notAfter.getTime() <= now.getTime()) continue;
    out.push({ ca, issued });
  }
  return out;
}
