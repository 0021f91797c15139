/**
 * Liveness and readiness as lists of named checks computed from a Snapshot, and
 * their report in the Kubernetes components' format (`[+]name ok`,
 * `[-]name failed: reason`, `?verbose`, `?exclude=`). Pure: no HTTP, no clock.
 */
import type { SignerState, Snapshot, WatchState } from '../telemetry/snapshot.js';

export interface Check {
  /** `family` or `family:signer`; `?exclude=` takes either. */
  readonly name: string;
  /** Undefined when the check passes; one line saying what is wrong otherwise. */
  readonly failure?: string;
}

export interface LivenessOptions {
  /** The event loop's recent delay, when the composition root measures it. */
  readonly eventLoopLagMs?: number;
  /** Lag above which the process counts as wedged; 5 s by default. */
  readonly maxEventLoopLagMs?: number;
}

export const defaultMaxEventLoopLagMs = 5000;
const HOUR_MS = 3_600_000;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const pass = (name: string): Check => ({ name });
const check = (name: string, failure: string | undefined): Check => (failure === undefined ? { name } : { name, failure });

/**
 * Alive: the event loop answers (in time, when its lag is measured) and, while we
 * hold the lease, we renew it within the renew deadline — a leader that stopped
 * renewing but still believes it leads must be restarted before another replica
 * takes over and both sign.
 */
export function livenessChecks(s: Snapshot, options: LivenessOptions = {}): Check[] {
  const checks = [pass('ping')];
  const lag = options.eventLoopLagMs;
  if (lag !== undefined) {
    const max = options.maxEventLoopLagMs ?? defaultMaxEventLoopLagMs;
    checks.push(check('event-loop', lag > max ? `event loop lag ${seconds(lag)} exceeds ${seconds(max)}` : undefined));
  }
  const { leader } = s;
  if (leader.enabled) {
    let failure: string | undefined;
    if (leader.leading && leader.sinceRenewMs === undefined) failure = 'leading with no renewal of the lease recorded';
    else if (leader.leading && leader.sinceRenewMs !== undefined && leader.sinceRenewMs > leader.renewDeadlineMs) {
      failure = `lease last renewed ${seconds(leader.sinceRenewMs)} ago, renew deadline ${seconds(leader.renewDeadlineMs)}`;
    }
    checks.push(check('leader-lease', failure));
  }
  return checks;
}

/**
 * Ready: not shutting down, with leader election the API server lets this replica
 * use the Lease (a replica refused for want of a permission or a namespace could
 * never take over), every signer has a CA that has not expired, and — on the
 * replica that signs (leading, or leader election off) — every watch has listed
 * and has not been silent past its own server-side timeout by more than the quiet
 * timeout (ListWatch.quietSince: the measure its watchdog restarts a watch by); so must the approver's
 * and the cleaner's watches, when they run; and no PodCertificateRequest of a signer with
 * podCertificates has waited more than 5 minutes, nor has its CA less than the hour a pod
 * certificate needs. A replica that is not leading does not watch; with valid
 * CAs it is ready to take over. While start-up still asks the API server which
 * PodCertificateRequest versions it serves (retrying), `pod-certificate-api` says why. A signer
 * whose CA key is on a PKCS#11 token has `key-provider:<signer>`, failing while the token does not answer. With signing off (`signing: false`) no CA is loaded and none is checked.
 */
export function readinessChecks(s: Snapshot): Check[] {
  const checks = [check('shutdown', s.stopping ? 'shutting down' : undefined)];
  if (s.leader.enabled) checks.push(check('leader-lease', s.leader.leaseError));
  if (s.podCertificateApiError !== undefined) checks.push(check('pod-certificate-api', s.podCertificateApiError));
  const watching = !s.leader.enabled || s.leader.leading;
  for (const signer of s.signers) {
    const missing = signer.caError === undefined ? 'no CA loaded' : `no CA loaded: ${signer.caError}`;
    checks.push(check(`ca-loaded:${signer.name}`, signer.ca ? undefined : missing));
    const left = signer.ca ? signer.ca.notAfter.getTime() - s.now.getTime() : 0;
    // A pod certificate lasts at least an hour (the API's minimum): a CA with less left signs none, and every request waits.
    const expired = !signer.ca ? undefined : left <= 0 ? `CA expired at ${signer.ca.notAfter.toISOString()}`
      : signer.podCertificatesPending !== undefined && left < HOUR_MS
        ? `CA expires at ${signer.ca.notAfter.toISOString()}, less than the one hour a pod certificate needs: PodCertificateRequests wait`
        : signer.ca.podCertificateChainTooLong !== undefined
          ? signer.ca.podCertificateChainTooLong
          : undefined;
    checks.push(check(`ca-valid:${signer.name}`, signer.ca ? expired : 'no CA loaded'));
    // A CA key on a PKCS#11 token: the token answers (while it does not, requests wait and are retried).
    if (signer.keyProvider) checks.push(check(`key-provider:${signer.name}`, signer.keyProvider.problem));
    if (watching) checks.push(...watchChecks(signer, s.watchQuietTimeoutMs));
    if (watching && signer.podCertificatesPending !== undefined) checks.push(check(`pod-certificate-backlog:${signer.name}`, podCertificateBacklog(signer)));
  }
  // The approver's and the cleaner's watches, named `approver:<signerName>` and `cleaner`.
  if (watching) for (const watch of s.watches ?? []) checks.push(...watchChecks(watch, s.watchQuietTimeoutMs));
  return checks;
}

/**
 * A PodCertificateRequest waiting longer than this fails readiness: kube-controller-manager's
 * PodCertificateRequest cleaner deletes requests at 15 minutes, and the kubelet makes a new one
 * only after 10, so a signer this far behind leaves pods without their volume.
 */
export const podCertificateBacklogSeconds = 300;

function podCertificateBacklog(signer: SignerState): string | undefined {
  const oldest = signer.podCertificatesOldestPendingSeconds ?? 0;
  if (oldest <= podCertificateBacklogSeconds) return undefined;
  const count = signer.podCertificatesPending ?? 0;
  return `${count} PodCertificateRequest${count === 1 ? '' : 's'} pending, the oldest for ${seconds(oldest * 1000)} (more than ${podCertificateBacklogSeconds / 60} minutes; the controller manager deletes them at 15)`;
}

/** `watch-synced:<name>` and `watch-active:<name>` of one watch. */
function watchChecks(watch: WatchState, watchQuietTimeoutMs: number): Check[] {
  const since = watch.sinceWatchActivityMs;
  // Silence until the end a watch asked the server for is normal (no changes, no bookmarks promised):
  // only silence past it counts, the same measure the watchdog restarts a watch by.
  const quietMs = watch.watchQuietMs ?? since;
  let quiet: string | undefined;
  if (since === undefined || quietMs === undefined) quiet = 'no list, event or bookmark received yet';
  else if (quietMs > watchQuietTimeoutMs) {
    quiet = `no event or bookmark for ${seconds(since)}, silent ${seconds(quietMs)} past the watch's own timeout, limit ${seconds(watchQuietTimeoutMs)}`;
  }
  return [
    check(`watch-synced:${watch.name}`, watch.watchSynced ? undefined : 'the watch has not completed its first list'),
    check(`watch-active:${watch.name}`, quiet),
  ];
}

export interface ReportQuery {
  readonly verbose: boolean;
  /** Check names, or families (the part before `:`) to leave out. */
  readonly exclude: readonly string[];
}

export interface Report {
  readonly ok: boolean;
  readonly body: string;
}

/** Reasons come from our own code, but a CA error may quote a file: one line, bounded. */
const oneLine = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
};

const excludedBy = (name: string, exclude: readonly string[]): boolean =>
  exclude.some((e) => e === name || name.startsWith(`${e}:`));

/**
 * `ok` when every check not excluded passes. The body is `ok` for a passing,
 * non-verbose request; otherwise one line per check and a verdict, as
 * kube-apiserver's /livez, /readyz and /healthz answer (k8s.io/apiserver pkg/server/healthz
 * handleRootHealth: `[+]name ok`, `[-]name failed: reason`, then `<kind> check passed|failed`).
 */
export function report(kind: 'healthz' | 'livez' | 'readyz', checks: readonly Check[], query: ReportQuery): Report {
  const considered = checks.filter((c) => !excludedBy(c.name, query.exclude));
  const ok = considered.every((c) => c.failure === undefined);
  if (ok && !query.verbose) return { ok, body: 'ok' };
  const lines = checks.map((c) => {
    if (excludedBy(c.name, query.exclude)) return `[+]${c.name} excluded: ok`;
    return c.failure === undefined ? `[+]${c.name} ok` : `[-]${c.name} failed: ${oneLine(c.failure)}`;
  });
  const unmatched = query.exclude.filter((e) => !checks.some((c) => excludedBy(c.name, [e]))).length;
  // The names are not repeated back: the count is enough to spot a typo.
  if (unmatched > 0) lines.push(`warn: some health checks cannot be excluded: ${unmatched} ${unmatched === 1 ? 'name matches' : 'names match'} no check`);
  lines.push(`${kind} check ${ok ? 'passed' : 'failed'}`);
  return { ok, body: `${lines.join('\n')}\n` };
}
