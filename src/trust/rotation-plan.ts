/**
 * Where a signer is in a CA rotation, from its trust bundle and the record of
 * what each CA issued. Pure: the CAs, the record and `now` come in.
 *
 * - prepare: a CA newer than the signing one is trusted but has signed nothing;
 * - switch: a CA other than the signing one has signed certificates still valid;
 * - retire: such a CA is still in the bundle though nothing it signed is valid;
 * - steady: the signing CA alone.
 * A previous CA's certificates end at the latest NotAfter recorded for it, and
 * never after its own NotAfter (issuance is capped there), so a CA the record does
 * not know is kept until its own expiry: late, never early.
 *
 * A CA that has signed nothing recorded is the next one when it is newer than the
 * signing CA: a later NotBefore, or the same one (NotBefore has one-second
 * resolution, and two CAs made in the same second are common in a lab) and a later
 * NotAfter. With the record, a CA that did sign is always a previous one. A CA with
 * no record and the very same NotBefore and NotAfter as the signing CA may be either
 * (the next one, or the previous one just after the switch): its role is `unknown`,
 * and rather than guess — and advise switching back — the phase is `switch` (keep
 * both in the bundle) and the advice says the order cannot be told.
 *
 * A CA the record names but the bundle no longer holds, whose certificates are still
 * valid, was removed too early: whoever re-reads the bundle rejects those
 * certificates. The phase stays what the bundle says; the advice says the danger.
 */
import { rfc3339Seconds } from '../time.js';
import type { CaCertificate } from '../pki/index.js';

export const rotationPhases = ['steady', 'prepare', 'switch', 'retire'] as const;
export type RotationPhase = (typeof rotationPhases)[number];
export type CaRole = 'signing' | 'next' | 'previous' | 'unknown';

export interface RotationCa {
  readonly fingerprint: string;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly role: CaRole;
  /** The latest NotAfter it issued, as recorded (absent: no record). */
  readonly lastIssuedNotAfter?: Date;
  /** previous CAs: when the last certificate it signed expires; from then on it may leave the bundle. */
  readonly retireAfter?: Date;
}

export interface RotationStatus {
  readonly signer: string;
  readonly phase: RotationPhase;
  readonly cas: readonly RotationCa[];
  /** One sentence per CA that is not the signing one: what to do next. */
  readonly advice: readonly string[];
  /** CAs the record names that are not in the bundle any more, with certificates still valid until `validUntil`. */
  readonly removedEarly?: readonly { readonly fingerprint: string; readonly validUntil: Date }[];
}

const short = (fp: string): string => fp.slice(0, 16);

/** `trust`: the signing CA first (as the CA store keeps it); `issued`: latest NotAfter per fingerprint. */
export function rotationStatus(
  signer: string, trust: readonly CaCertificate[], issued: ReadonlyMap<string, Date>, now: Date, fingerprintOf: (cert: CaCertificate) => string,
): RotationStatus {
  const [signing, ...others] = trust;
  if (!signing) return { signer, phase: 'steady', cas: [], advice: ['no CA is loaded'] };
  const cas: RotationCa[] = [];
  const advice: string[] = [];
  const base = (c: CaCertificate, fp: string): Pick<RotationCa, 'fingerprint' | 'subject' | 'notBefore' | 'notAfter'> =>
    ({ fingerprint: fp, subject: c.subject, notBefore: c.notBefore, notAfter: c.notAfter });
  const signingFp = fingerprintOf(signing);
  const signingIssued = issued.get(signingFp);
  cas.push({ ...base(signing, signingFp), role: 'signing', ...(signingIssued ? { lastIssuedNotAfter: signingIssued } : {}) });
  let prepare = false;
  let pending = false;
  let retirable = false;
  for (const ca of others) {
    const fp = fingerprintOf(ca);
    const last = issued.get(fp);
    const name = `${ca.subject} (${short(fp)})`;
    const sameNotBefore = ca.notBefore.getTime() === signing.notBefore.getTime();
    const newer = ca.notBefore.getTime() > signing.notBefore.getTime() || (sameNotBefore && ca.notAfter.getTime() > signing.notAfter.getTime());
    if (!last && sameNotBefore && ca.notAfter.getTime() === signing.notAfter.getTime()) {
      pending = true;
      cas.push({ ...base(ca, fp), role: 'unknown' });
      advice.push(`${name} has the same NotBefore and NotAfter as the signing CA ${signing.subject} (${short(signingFp)}) and no issuance record, `
        + 'so which of the two is newer cannot be told: keep both in the bundle and switch nothing on this account; '
        + 'the rotation record tells them apart (a CA that signed is the previous one), or give a new CA a later NotAfter');
      continue;
    }
    if (!last && newer) {
      prepare = true;
      cas.push({ ...base(ca, fp), role: 'next' });
      advice.push(`${name} is trusted but does not sign: once every relying party trusts it, make it the signing CA and move ${signing.subject} (${short(signingFp)}) to the trust file`);
      continue;
    }
    const retireAfter = new Date(Math.min(last?.getTime() ?? Infinity, ca.notAfter.getTime()));
    cas.push({ ...base(ca, fp), role: 'previous', ...(last ? { lastIssuedNotAfter: last } : {}), retireAfter });
    // A certificate is still valid at its NotAfter (RFC 5280 §4.1.2.5): the CA may go only after it.
    if (retireAfter.getTime() >= now.getTime()) {
      pending = true;
      advice.push(last
        ? `${name} signed certificates valid until ${rfc3339Seconds(retireAfter)}: keep it in the bundle until then`
        : `${name} has no issuance record: keep it in the bundle until its own expiry, ${rfc3339Seconds(retireAfter)}, unless you know it signed nothing still valid`);
    } else {
      retirable = true;
      advice.push(`${name} signed nothing still valid (the last expired ${rfc3339Seconds(retireAfter)}): remove it from the trust file`);
    }
  }
  const phase: RotationPhase = prepare ? 'prepare' : pending ? 'switch' : retirable ? 'retire' : 'steady';
  const inBundle = new Set(cas.map((c) => c.fingerprint));
  // A certificate is still valid at its NotAfter, as above.
  const removedEarly = [...issued].filter(([fp, last]) => !inBundle.has(fp) && last.getTime() >= now.getTime())
    .map(([fp, last]) => ({ fingerprint: fp, validUntil: last }));
  for (const { fingerprint, validUntil } of removedEarly) {
    advice.push(`a CA no longer in the trust bundle (sha256 ${short(fingerprint)}…) signed certificates valid until ${rfc3339Seconds(validUntil)}: `
      + 'relying parties that re-read the bundle reject them; put that CA back in the trust file until then');
  }
  return {
    signer, phase, cas,
    advice: advice.length > 0 ? advice : ['the signing CA alone is trusted: nothing to rotate'],
    ...(removedEarly.length > 0 ? { removedEarly } : {}),
  };
}
