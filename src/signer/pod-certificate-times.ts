/**
 * The times of a pod certificate: notBefore, notAfter and beginRefreshAt, chosen so that
 * kube-apiserver's status validation (ValidatePodCertificateRequestStatusUpdate,
 * pkg/apis/certificates/validation/validation.go) accepts them:
 *   notBefore strictly within 5 minutes of the apiserver's clock; 1 h ≤ notAfter − notBefore
 *   ≤ spec.maxExpirationSeconds; notBefore + 10 min ≤ beginRefreshAt ≤ notAfter − 10 min;
 *   the status times equal the leaf's, which X.509 and metav1.Time both keep in whole seconds.
 * notBefore is made as Kubernetes' own conformance test makes it
 * (test/e2e/auth/podcertificaterequest.go: `time.Now().Add(-1*time.Minute).Truncate(time.Second)`);
 * the toy signer behind agnhost (test/utils/hermeticpodcertificatesigner) refreshes at
 * notAfter − 30 min, while the design proposal (KEP-4317) asks for about half way, which the
 * default fractions give.
 * Pure: the clock, the CA's validity and the jitter's randomness are parameters.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The shortest lifetime the apiserver accepts (MinMaxExpirationSeconds). */
export const minPodCertificateLifetimeMs = HOUR;
/** spec.maxExpirationSeconds when the request has none (the apiserver defaults it to this). */
export const defaultMaxExpirationSeconds = 86_400;
/** How far notBefore is set back from now, for clocks a little behind ours (the apiserver allows 5 minutes). */
export const podCertificateBackdateMs = MINUTE;
/** beginRefreshAt keeps this far from either end of the validity (the apiserver's bounds). */
export const refreshMarginMs = 10 * MINUTE;

export interface PodCertificateTimesInput {
  readonly now: Date;
  /** spec.maxExpirationSeconds; undefined as the apiserver defaults it (86400). */
  readonly maxExpirationSeconds: number | undefined;
  /** The signer's own cap (podCertificates.maxLifetime). */
  readonly maxLifetimeMs: number;
  /** Fractions of the lifetime after notBefore where beginRefreshAt may fall. */
  readonly refresh: { readonly from: number; readonly to: number };
  readonly ca: { readonly notBefore: Date; readonly notAfter: Date };
  /** In [0, 1): where in [from, to] this certificate's refresh falls. */
  readonly random: () => number;
}

export type PodCertificateTimes =
  | { readonly kind: 'times'; readonly notBefore: Date; readonly notAfter: Date; readonly beginRefreshAt: Date; readonly lifetimeMs: number }
  | { readonly kind: 'wait' | 'fail'; readonly reason: string; readonly message: string };

const floorSeconds = (ms: number): number => Math.floor(ms / SECOND) * SECOND;
const ceilSeconds = (ms: number): number => Math.ceil(ms / SECOND) * SECOND;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
/** A random number kept in [0, 1], whatever the source gives (NaN counts as 0). */
const unit = (x: number): number => (x >= 0 ? Math.min(x, 1) : 0);

/**
 * notBefore = now in whole seconds minus one minute (never before the CA's own notBefore);
 * lifetime = min(maxExpirationSeconds, maxLifetime), cut to end at the CA's notAfter (in whole
 * seconds); under 1 h after the cut: wait (CaExpiresTooSoon), as the CA, not the request, is
 * at fault. beginRefreshAt = notBefore + lifetime × (from + random × (to − from)), in whole
 * seconds, kept inside [notBefore + 10 min, notAfter − 10 min].
 */
export function podCertificateTimes(input: PodCertificateTimesInput): PodCertificateTimes {
  const now = input.now.getTime();
  const caNotBefore = ceilSeconds(input.ca.notBefore.getTime());
  if (caNotBefore > now) {
    return { kind: 'wait', reason: 'CaNotYetValid', message: `the signer's CA is not valid before ${iso(caNotBefore)}` };
  }
  const notBefore = Math.max(floorSeconds(now) - podCertificateBackdateMs, caNotBefore);
  const maxExpirationSeconds = input.maxExpirationSeconds ?? defaultMaxExpirationSeconds;
  const asked = maxExpirationSeconds * SECOND;
  if (!(asked >= minPodCertificateLifetimeMs)) {
    // The apiserver refuses such a request at create; one that got here anyway can never be signed.
    return {
      kind: 'fail', reason: 'InvalidMaxExpiration',
      message: `spec.maxExpirationSeconds is ${maxExpirationSeconds}, less than the 3600 seconds every pod certificate must last`,
    };
  }
  const wanted = Math.min(asked, input.maxLifetimeMs);
  const notAfter = Math.min(notBefore + wanted, floorSeconds(input.ca.notAfter.getTime()));
  const lifetimeMs = notAfter - notBefore;
  if (lifetimeMs < minPodCertificateLifetimeMs) {
    return {
      kind: 'wait', reason: 'CaExpiresTooSoon',
      message: `the signer's CA expires at ${iso(input.ca.notAfter.getTime())}, too soon for a pod certificate of at least one hour from ${iso(notBefore)}; rotate the CA`,
    };
  }
  const { from, to } = input.refresh;
  const r = unit(input.random());
  // Weighted so that 0 gives `from` and 1 gives `to` exactly; the product rounded to the
  // millisecond first, so that binary fractions (0.7 × 86400000 = 60479999.99…) floor as decimals do.
  const fraction = from * (1 - r) + to * r;
  const wantedRefresh = notBefore + floorSeconds(Math.round(lifetimeMs * fraction));
  const beginRefreshAt = Math.min(Math.max(wantedRefresh, notBefore + refreshMarginMs), notAfter - refreshMarginMs);
  return { kind: 'times', notBefore: new Date(notBefore), notAfter: new Date(notAfter), beginRefreshAt: new Date(beginRefreshAt), lifetimeMs };
}
