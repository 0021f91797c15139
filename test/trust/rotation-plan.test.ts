/**
 * rotationStatus: the phase of a signer's CA rotation, each CA's role, when a
 * previous CA may leave the bundle, and the advice, from the trust bundle, the
 * record of what each CA issued and `now`. Pure: plain values in, no fakes.
 */
import t from 'tap';
import type { CaCertificate } from '../../src/pki/index.js';
import { signerStates } from '../../src/telemetry/snapshot.js';
import { rotationStatus, type CaRole, type RotationPhase } from '../../src/trust/rotation-plan.js';

const SIGNER = 'example.com/serving';
const day = 86_400_000;
const now = new Date('2026-06-01T00:00:00Z');
const at = (days: number): Date => new Date(now.getTime() + days * day);

/** A CA certificate as rotationStatus sees it; `fp` is its fingerprint (64 hex digits). */
function ca(name: string, fpDigit: string, notBefore: Date, notAfter: Date): CaCertificate {
  const der = new Uint8Array([fpDigit.charCodeAt(0)]);
  return {
    der, subjectDer: der, issuerDer: der, spki: der, subject: `CN=${name}`, notBefore, notAfter,
    isCa: true, keyCertSign: true, subjectKeyId: undefined, selfSigned: true,
  };
}
const fpOf = (c: CaCertificate): string => String.fromCharCode(c.der[0] ?? 0).repeat(64);

// The CA of the past, the current one, and the next one.
const old = ca('old', 'a', at(-400), at(300));
const current = ca('current', 'b', at(-30), at(700));
const next = ca('next', 'c', at(-1), at(1000));
const shortLived = ca('short', 'd', at(-500), at(10));
// Two CAs made in the same second, as in a lab: the same NotBefore and NotAfter.
const labOld = ca('lab-old', 'e', at(-1), at(365));
const labNew = ca('lab-new', 'f', at(-1), at(365));
const labLonger = ca('lab-longer', 'g', at(-1), at(366));

interface Case {
  readonly name: string;
  readonly trust: readonly CaCertificate[];
  readonly issued?: Readonly<Record<string, Date>>;
  readonly phase: RotationPhase;
  readonly roles: readonly CaRole[];
  /** Per CA, in order: its retireAfter (undefined for the signing, next and unknown CAs). */
  readonly retireAfter: readonly (Date | undefined)[];
  readonly advice: readonly string[];
}

const cases: Case[] = [
  {
    name: 'the signing CA alone is steady, with nothing to rotate',
    trust: [current], phase: 'steady', roles: ['signing'], retireAfter: [undefined],
    advice: ['the signing CA alone is trusted: nothing to rotate'],
  },
  {
    name: 'a newer CA that never issued is the next one: prepare',
    trust: [current, next], phase: 'prepare', roles: ['signing', 'next'], retireAfter: [undefined, undefined],
    advice: ['CN=next (cccccccccccccccc) is trusted but does not sign: once every relying party trusts it, make it the signing CA and move CN=current (bbbbbbbbbbbbbbbb) to the trust file'],
  },
  {
    name: 'a previous CA whose last certificate expires in the future: switch, retire after that NotAfter',
    trust: [current, old], issued: { [fpOf(old)]: at(20) }, phase: 'switch', roles: ['signing', 'previous'], retireAfter: [undefined, at(20)],
    advice: ['CN=old (aaaaaaaaaaaaaaaa) signed certificates valid until 2026-06-21T00:00:00Z: keep it in the bundle until then'],
  },
  {
    name: 'a previous CA whose last certificate has expired: retire',
    trust: [current, old], issued: { [fpOf(old)]: at(-2) }, phase: 'retire', roles: ['signing', 'previous'], retireAfter: [undefined, at(-2)],
    advice: ['CN=old (aaaaaaaaaaaaaaaa) signed nothing still valid (the last expired 2026-05-30T00:00:00Z): remove it from the trust file'],
  },
  {
    name: 'a previous CA with no record is kept until its own NotAfter',
    trust: [current, old], phase: 'switch', roles: ['signing', 'previous'], retireAfter: [undefined, at(300)],
    advice: ['CN=old (aaaaaaaaaaaaaaaa) has no issuance record: keep it in the bundle until its own expiry, 2027-03-28T00:00:00Z, unless you know it signed nothing still valid'],
  },
  {
    name: 'a record later than the CA\'s own NotAfter is capped at the NotAfter',
    trust: [current, shortLived], issued: { [fpOf(shortLived)]: at(90) }, phase: 'switch', roles: ['signing', 'previous'], retireAfter: [undefined, at(10)],
    advice: ['CN=short (dddddddddddddddd) signed certificates valid until 2026-06-11T00:00:00Z: keep it in the bundle until then'],
  },
  {
    name: 'a capped record whose CA has expired can retire even though the record runs on',
    trust: [current, ca('gone', 'e', at(-900), at(-1))], issued: { ['e'.repeat(64)]: at(30) }, phase: 'retire', roles: ['signing', 'previous'], retireAfter: [undefined, at(-1)],
    advice: ['CN=gone (eeeeeeeeeeeeeeee) signed nothing still valid (the last expired 2026-05-31T00:00:00Z): remove it from the trust file'],
  },
  {
    name: 'no CA loaded: steady, no CAs, and says so',
    trust: [], phase: 'steady', roles: [], retireAfter: [],
    advice: ['no CA is loaded'],
  },
  {
    name: 'a next CA and a previous CA still needed at once: prepare comes first, both are advised on',
    trust: [current, next, old], issued: { [fpOf(old)]: at(20) }, phase: 'prepare', roles: ['signing', 'next', 'previous'], retireAfter: [undefined, undefined, at(20)],
    advice: [
      'CN=next (cccccccccccccccc) is trusted but does not sign: once every relying party trusts it, make it the signing CA and move CN=current (bbbbbbbbbbbbbbbb) to the trust file',
      'CN=old (aaaaaaaaaaaaaaaa) signed certificates valid until 2026-06-21T00:00:00Z: keep it in the bundle until then',
    ],
  },
  {
    name: 'one previous CA still needed and one retirable: switch (the pending one wins)',
    trust: [current, old, shortLived], issued: { [fpOf(old)]: at(20), [fpOf(shortLived)]: at(-3) }, phase: 'switch',
    roles: ['signing', 'previous', 'previous'], retireAfter: [undefined, at(20), at(-3)],
    advice: [
      'CN=old (aaaaaaaaaaaaaaaa) signed certificates valid until 2026-06-21T00:00:00Z: keep it in the bundle until then',
      'CN=short (dddddddddddddddd) signed nothing still valid (the last expired 2026-05-29T00:00:00Z): remove it from the trust file',
    ],
  },
  {
    name: 'a newer CA that has issued is a previous one (a rollback), not the next',
    trust: [current, next], issued: { [fpOf(next)]: at(5) }, phase: 'switch', roles: ['signing', 'previous'], retireAfter: [undefined, at(5)],
    advice: ['CN=next (cccccccccccccccc) signed certificates valid until 2026-06-06T00:00:00Z: keep it in the bundle until then'],
  },
  {
    name: 'an older CA that never issued is a previous one kept until its expiry, not the next',
    trust: [next, current], phase: 'switch', roles: ['signing', 'previous'], retireAfter: [undefined, at(700)],
    advice: ['CN=current (bbbbbbbbbbbbbbbb) has no issuance record: keep it in the bundle until its own expiry, 2028-05-01T00:00:00Z, unless you know it signed nothing still valid'],
  },
  {
    name: 'a CA with the signing one\'s very NotBefore and NotAfter that has signed nothing cannot be ordered: unknown, kept, no switch advised',
    trust: [labOld, labNew], issued: { [fpOf(labOld)]: at(30) }, phase: 'switch', roles: ['signing', 'unknown'], retireAfter: [undefined, undefined],
    advice: ['CN=lab-new (ffffffffffffffff) has the same NotBefore and NotAfter as the signing CA CN=lab-old (eeeeeeeeeeeeeeee) and no issuance record, '
      + 'so which of the two is newer cannot be told: keep both in the bundle and switch nothing on this account; '
      + 'the rotation record tells them apart (a CA that signed is the previous one), or give a new CA a later NotAfter'],
  },
  {
    name: 'after a same-second switch with no record, the old CA is not called the next one (no advice to switch back)',
    trust: [labNew, labOld], phase: 'switch', roles: ['signing', 'unknown'], retireAfter: [undefined, undefined],
    advice: ['CN=lab-old (eeeeeeeeeeeeeeee) has the same NotBefore and NotAfter as the signing CA CN=lab-new (ffffffffffffffff) and no issuance record, '
      + 'so which of the two is newer cannot be told: keep both in the bundle and switch nothing on this account; '
      + 'the rotation record tells them apart (a CA that signed is the previous one), or give a new CA a later NotAfter'],
  },
  {
    name: 'prepare: a CA made in the same second as the signing one with a later NotAfter, that has signed nothing, is the next one',
    trust: [labOld, labLonger], issued: { [fpOf(labOld)]: at(30) }, phase: 'prepare', roles: ['signing', 'next'], retireAfter: [undefined, undefined],
    advice: ['CN=lab-longer (gggggggggggggggg) is trusted but does not sign: once every relying party trusts it, make it the signing CA and move CN=lab-old (eeeeeeeeeeeeeeee) to the trust file'],
  },
  {
    name: 'a CA made in the same second as the signing one with an earlier NotAfter is a previous one',
    trust: [labLonger, labOld], phase: 'switch', roles: ['signing', 'previous'], retireAfter: [undefined, at(365)],
    advice: ['CN=lab-old (eeeeeeeeeeeeeeee) has no issuance record: keep it in the bundle until its own expiry, 2027-06-01T00:00:00Z, unless you know it signed nothing still valid'],
  },
  {
    name: 'switch: after the same-second switch, the record makes the one that signed the previous CA',
    trust: [labNew, labOld], issued: { [fpOf(labOld)]: at(30) }, phase: 'switch', roles: ['signing', 'previous'], retireAfter: [undefined, at(30)],
    advice: ['CN=lab-old (eeeeeeeeeeeeeeee) signed certificates valid until 2026-07-01T00:00:00Z: keep it in the bundle until then'],
  },
  {
    name: 'steady but in danger: a CA removed from the bundle while certificates it signed are still valid is named',
    trust: [current], issued: { [fpOf(old)]: at(20) }, phase: 'steady', roles: ['signing'], retireAfter: [undefined],
    advice: ['a CA no longer in the trust bundle (sha256 aaaaaaaaaaaaaaaa…) signed certificates valid until 2026-06-21T00:00:00Z: relying parties that re-read the bundle reject them; put that CA back in the trust file until then'],
  },
  {
    name: 'steady: a CA removed after the last certificate it signed expired is no danger',
    trust: [current], issued: { [fpOf(old)]: at(-1) }, phase: 'steady', roles: ['signing'], retireAfter: [undefined],
    advice: ['the signing CA alone is trusted: nothing to rotate'],
  },
];

for (const c of cases) {
  void t.test(c.name, (t) => {
    const issued = new Map(Object.entries(c.issued ?? {}));
    const status = rotationStatus(SIGNER, c.trust, issued, now, fpOf);
    t.equal(status.signer, SIGNER);
    t.equal(status.phase, c.phase, 'phase');
    t.same(status.cas.map((x) => x.role), c.roles, 'roles');
    t.same(status.cas.map((x) => x.retireAfter?.toISOString()), c.retireAfter.map((d) => d?.toISOString()), 'retireAfter');
    t.same(status.cas.map((x) => x.fingerprint), c.trust.map(fpOf), 'each CA by its fingerprint, in the bundle\'s order');
    t.same(status.cas.map((x) => [x.subject, x.notBefore, x.notAfter]), c.trust.map((x) => [x.subject, x.notBefore, x.notAfter]), 'subject and validity');
    t.same(status.cas.map((x) => x.lastIssuedNotAfter?.toISOString()), c.trust.map((x) => issued.get(fpOf(x))?.toISOString()), 'the recorded figure, uncapped');
    t.same(status.advice, c.advice, 'advice');
    t.end();
  });
}

void t.test('the signing CA\'s own record is shown but never makes a phase', (t) => {
  const status = rotationStatus(SIGNER, [current], new Map([[fpOf(current), at(3)]]), now, fpOf);
  t.equal(status.phase, 'steady');
  t.same(status.cas.map((x) => [x.role, x.lastIssuedNotAfter, x.retireAfter]), [['signing', at(3), undefined]]);
  t.end();
});

// NotAfter is inclusive (RFC 5280 4.1.2.5; Go's verifier rejects only now.After(NotAfter)),
// so a certificate whose NotAfter is exactly now is still valid and its CA still needed.
void t.test('a previous CA whose last certificate expires exactly now is still needed', (t) => {
  const status = rotationStatus(SIGNER, [current, old], new Map([[fpOf(old), now]]), now, fpOf);
  t.equal(status.phase, 'switch');
  t.end();
});

void t.test('the CAs removed too early are listed for the JSON output too', (t) => {
  const status = rotationStatus(SIGNER, [current], new Map([[fpOf(old), at(20)], [fpOf(shortLived), at(-1)]]), now, fpOf);
  t.same(status.removedEarly, [{ fingerprint: fpOf(old), validUntil: at(20) }], 'only the one whose certificates are still valid');
  t.notOk('removedEarly' in rotationStatus(SIGNER, [current], new Map(), now, fpOf), 'absent when none');
  t.end();
});

void t.test('csr_signer_rotation_phase reads CAs of the very same validity as rotation status does: switch, never prepare', (t) => {
  const phase = (trust: readonly CaCertificate[]): string | undefined => signerStates({
    now, signers: [SIGNER], csrs: [], ca: () => ({}), trust: () => trust, latest: new Map(), watch: () => undefined,
  })[0]?.rotationPhase;
  t.equal(phase([labNew, labOld]), 'switch', 'after the switch');
  t.equal(phase([labOld, labNew]), 'switch', 'before it');
  t.equal(phase([labOld, labLonger]), 'prepare', 'a later NotAfter is a next CA');
  t.end();
});
