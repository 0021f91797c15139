/**
 * Lifetimes and refresh times of pod certificates, through the decision itself: the
 * lifetime asked for and the signer's cap, the CA's notAfter, notBefore in whole seconds, the
 * refresh jitter inside its bounds; and a property: every issue decision passes the checks
 * kube-apiserver's ValidatePodCertificateRequestStatusUpdate makes of the times (notBefore
 * strictly within 5 minutes of its clock, 1 h ≤ lifetime ≤ spec.maxExpirationSeconds,
 * notBefore + 10 min ≤ beginRefreshAt ≤ notAfter − 10 min, whole seconds).
 */
import fc from 'fast-check';
import t from 'tap';
import { decidePodCertificate, podCertificateStatus, type PodCertificateInput } from '../../src/signer/pod-certificate.js';
import { podCertificateTimes } from '../../src/signer/pod-certificate-times.js';
import type { PodCertificateDecision } from '../../src/signer/types.js';
import { pcrBuilder, podCertificateKey, podSigner, withMaxExpirationSeconds } from '../helpers/pod-certificates.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const now = new Date('2026-12-07T13:00:00.500Z');
const nb = Date.parse('2026-12-07T12:59:00Z');
const farCa = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2036-01-01T00:00:00Z') };

const decide = (over: Partial<PodCertificateInput> = {}): PodCertificateDecision =>
  decidePodCertificate({ pcr: pcrBuilder(), signer: podSigner(), key: podCertificateKey('p256'), now, ca: farCa, random: () => 0, ...over });

interface Times { readonly notBefore: number; readonly notAfter: number; readonly beginRefreshAt: number; readonly maxDurationMs: number }
const times = (d: PodCertificateDecision): Times | PodCertificateDecision => (d.kind === 'issue'
  ? { notBefore: d.validity.notBefore.getTime(), notAfter: d.validity.notAfter.getTime(), beginRefreshAt: d.beginRefreshAt.getTime(), maxDurationMs: d.profile.maxDurationMs }
  : d);
const expected = (lifetime: number, refreshAfter: number, notBefore = nb): Times =>
  ({ notBefore, notAfter: notBefore + lifetime, beginRefreshAt: notBefore + refreshAfter, maxDurationMs: lifetime });

void t.test('lifetime: min(maxExpirationSeconds, maxLifetime), cut at the CA\'s notAfter, never under an hour', (t) => {
  const cases: [string, Partial<PodCertificateInput>, Times | PodCertificateDecision][] = [
    ['maxExpirationSeconds 3600: exactly one hour', { pcr: pcrBuilder(withMaxExpirationSeconds(3600)) }, expected(HOUR, 30 * MINUTE)],
    ['maxExpirationSeconds absent: the default 86400 s, as the apiserver defaults it', { pcr: pcrBuilder(withMaxExpirationSeconds(undefined)) }, expected(DAY, 12 * HOUR)],
    ['86400 with maxLifetime 24h: one day', { pcr: pcrBuilder(withMaxExpirationSeconds(86_400)) }, expected(DAY, 12 * HOUR)],
    ['7862400 capped by maxLifetime 24h', { pcr: pcrBuilder(withMaxExpirationSeconds(7_862_400)) }, expected(DAY, 12 * HOUR)],
    ['7862400 with maxLifetime 91 days: 91 days', { pcr: pcrBuilder(withMaxExpirationSeconds(7_862_400)), signer: podSigner({ maxLifetimeMs: 91 * DAY }) }, expected(91 * DAY, 45.5 * DAY)],
    ['86400 with maxLifetime 2h: two hours', { signer: podSigner({ maxLifetimeMs: 2 * HOUR }) }, expected(2 * HOUR, HOUR)],
    ['the CA ends 5h30m0.7s after notBefore: cut to 5h30m, in whole seconds', { ca: { ...farCa, notAfter: new Date(nb + 5.5 * HOUR + 700) } }, expected(5.5 * HOUR, 2.75 * HOUR)],
    ['the CA ends exactly an hour after notBefore: one hour', { ca: { ...farCa, notAfter: new Date(nb + HOUR) } }, expected(HOUR, 30 * MINUTE)],
    ['the CA ends 59 minutes after notBefore: wait, not the request\'s fault', { ca: { ...farCa, notAfter: new Date(nb + 59 * MINUTE) } },
      { kind: 'wait', reason: 'CaExpiresTooSoon', message: 'the signer\'s CA expires at 2026-12-07T13:58:00Z, too soon for a pod certificate of at least one hour from 2026-12-07T12:59:00Z; rotate the CA' }],
    ['the CA has expired: wait', { ca: { ...farCa, notAfter: new Date(nb - HOUR) } },
      { kind: 'wait', reason: 'CaExpiresTooSoon', message: 'the signer\'s CA expires at 2026-12-07T11:59:00Z, too soon for a pod certificate of at least one hour from 2026-12-07T12:59:00Z; rotate the CA' }],
    ['the CA valid from 20.3 s ago: notBefore is the CA\'s, in whole seconds', { ca: { ...farCa, notBefore: new Date(now.getTime() - 20_300) } },
      expected(DAY, 12 * HOUR, nb + 41 * SECOND)],
    ['the CA not yet valid: wait', { ca: { ...farCa, notBefore: new Date(now.getTime() + SECOND) } },
      { kind: 'wait', reason: 'CaNotYetValid', message: 'the signer\'s CA is not valid before 2026-12-07T13:00:02Z' }],
    ['maxExpirationSeconds under an hour (the apiserver refuses it): Failed', { pcr: pcrBuilder(withMaxExpirationSeconds(600)) },
      { kind: 'fail', reason: 'InvalidMaxExpiration', message: 'spec.maxExpirationSeconds is 600, less than the 3600 seconds every pod certificate must last' }],
  ];
  for (const [name, over, want] of cases) t.strictSame(times(decide(over)), want, name);
  t.end();
});

void t.test('notBefore: now in whole seconds minus one minute', (t) => {
  for (const at of ['2026-12-07T13:00:00.000Z', '2026-12-07T13:00:00.001Z', '2026-12-07T13:00:00.999Z']) {
    const d = decide({ now: new Date(at) });
    t.equal(d.kind === 'issue' ? d.validity.notBefore.toISOString() : d.kind, '2026-12-07T12:59:00.000Z', at);
  }
  t.end();
});

void t.test('beginRefreshAt: at from + random × (to − from) of the lifetime, inside [notBefore+10m, notAfter−10m]', (t) => {
  const cases: [string, Partial<PodCertificateInput>, number][] = [
    ['24h, random 0: half way', {}, 12 * HOUR],
    ['24h, random 0.999: 0.6998 of the lifetime, floored to the second', { random: () => 0.999 }, 60_462 * SECOND],
    ['1h, random 0: half way', { pcr: pcrBuilder(withMaxExpirationSeconds(3600)) }, 30 * MINUTE],
    ['1h, random 0.999: 0.6998 of an hour', { pcr: pcrBuilder(withMaxExpirationSeconds(3600)), random: () => 0.999 }, 2519 * SECOND],
    ['1h, from 0.05, random 0: 3 minutes, kept to notBefore + 10 min', { pcr: pcrBuilder(withMaxExpirationSeconds(3600)), signer: podSigner({ refresh: { from: 0.05, to: 0.99 } }) }, 10 * MINUTE],
    ['1h, to 0.99, random 0.999: kept to notAfter − 10 min', { pcr: pcrBuilder(withMaxExpirationSeconds(3600)), signer: podSigner({ refresh: { from: 0.05, to: 0.99 } }), random: () => 0.999 }, 50 * MINUTE],
    ['24h, to 0.99, random 0.999: 23h44m, inside the bounds', { signer: podSigner({ refresh: { from: 0.05, to: 0.99 } }), random: () => 0.999 }, 85_454 * SECOND],
    ['a random source out of range is kept in [0, 1]: 1 gives `to` exactly', { random: () => 7 }, 60_480 * SECOND],
    ['NaN counts as 0', { random: () => NaN }, 12 * HOUR],
  ];
  for (const [name, over, after] of cases) {
    const d = decide(over);
    t.equal(d.kind === 'issue' ? d.beginRefreshAt.getTime() - nb : d.kind, after, name);
  }
  t.end();
});

void t.test('status times are the decision\'s validity, as the apiserver compares them with the leaf', (t) => {
  const d = decide({ random: () => 0.3 });
  const status = podCertificateStatus(d, { pem: 'PEM', serialHex: '01' }, now);
  t.ok(d.kind === 'issue' && status !== undefined);
  if (d.kind === 'issue' && status !== undefined) {
    t.equal(Date.parse(status.notBefore ?? ''), d.validity.notBefore.getTime(), 'notBefore');
    t.equal(Date.parse(status.notAfter ?? ''), d.validity.notAfter.getTime(), 'notAfter');
    t.equal(Date.parse(status.beginRefreshAt ?? ''), d.beginRefreshAt.getTime(), 'beginRefreshAt');
  }
  t.end();
});

void t.test('property: every issue decision passes the apiserver\'s status checks of the times', (t) => {
  const key = podCertificateKey('p256');
  const start = Date.parse('2026-01-01T00:00:00Z');
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 365 * DAY }),
    fc.option(fc.integer({ min: 3600, max: 7_862_400 }), { nil: undefined }),
    fc.integer({ min: 3600, max: 7_862_400 }),
    fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.01, max: 0.99, noNaN: true }),
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    fc.integer({ min: -2 * HOUR, max: 100 * DAY }),
    (offset, maxExpirationSeconds, maxLifetimeSeconds, a, b, random, caLeft) => {
      const at = new Date(start + offset);
      const refresh = { from: Math.min(a, b), to: Math.max(a, b) };
      const ca = { notBefore: new Date(start - DAY), notAfter: new Date(at.getTime() + caLeft) };
      const d = decidePodCertificate({
        pcr: pcrBuilder(withMaxExpirationSeconds(maxExpirationSeconds)), signer: podSigner({ maxLifetimeMs: maxLifetimeSeconds * SECOND, refresh }),
        key, now: at, ca, random: () => random,
      });
      const notBefore = Math.floor(at.getTime() / SECOND) * SECOND - MINUTE;
      if (d.kind !== 'issue') {
        // The only other outcome: the CA cannot give an hour.
        return d.kind === 'wait' && d.reason === 'CaExpiresTooSoon' && Math.floor(ca.notAfter.getTime() / SECOND) * SECOND - notBefore < HOUR;
      }
      const nbMs = d.validity.notBefore.getTime();
      const naMs = d.validity.notAfter.getTime();
      const refreshMs = d.beginRefreshAt.getTime();
      const lifetime = naMs - nbMs;
      return [nbMs, naMs, refreshMs].every((ms) => ms % SECOND === 0)
        && nbMs > at.getTime() - 5 * MINUTE && nbMs < at.getTime() + 5 * MINUTE // 6j
        && lifetime >= HOUR // 6l
        && lifetime <= (maxExpirationSeconds ?? 86_400) * SECOND // 6m
        && lifetime <= maxLifetimeSeconds * SECOND
        && naMs <= ca.notAfter.getTime()
        && refreshMs >= nbMs + 10 * MINUTE // 6n
        && refreshMs <= naMs - 10 * MINUTE // 6o
        && d.profile.maxDurationMs === lifetime;
    },
  ), { numRuns: 2000 });
  t.pass('2000 runs');
  t.end();
});

void t.test('podCertificateTimes alone: the same numbers without a request', (t) => {
  const result = podCertificateTimes({
    now, maxExpirationSeconds: 7200, maxLifetimeMs: DAY, refresh: { from: 0.5, to: 0.5 }, ca: farCa, random: () => 0.42,
  });
  t.strictSame(result, { kind: 'times', notBefore: new Date(nb), notAfter: new Date(nb + 2 * HOUR), beginRefreshAt: new Date(nb + HOUR), lifetimeMs: 2 * HOUR });
  t.end();
});
