/**
 * Fault injection for tests, driven through devapi's admin-only control API
 * (docs/devapi.md): fail the next N matching requests with a status, add
 * latency, and (through the server) close watches and compact history.
 *
 * A fault answers either instead of handling the request (`fail`, the default)
 * or after a write was carried out: `apply-then-fail` answers an error although
 * the write is stored, `apply-then-drop` closes the connection without an
 * answer. Upstream both happen: the timeout filter
 * (staging/src/k8s.io/apiserver/pkg/server/filters/timeout.go,
 * `timeoutHandler.ServeHTTP`) answers 504 `Timeout` while the handler goes on
 * and stores the write, and once the handler has begun its answer it aborts
 * the connection instead (`baseTimeoutWriter.timeout`, `http.ErrAbortHandler`);
 * an etcd timeout after the commit answers 500.
 */
import { ApiError } from '../api/errors.js';

export const faultModes = ['fail', 'apply-then-fail', 'apply-then-drop'] as const;
export type FaultMode = (typeof faultModes)[number];

/** The methods that write: the only ones an `apply-then-…` fault takes. */
const WRITES: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface FaultRule {
  /** HTTP method to match (GET, PUT, …); any when absent (any write for an `apply-then-…` mode). */
  readonly method?: string;
  /** Substring of the request path to match; any when absent. */
  readonly path?: string;
  /** The status answered; not used by `apply-then-drop`. */
  readonly status?: number;
  /** Default `fail`. */
  readonly mode?: FaultMode;
  /** How many matching requests fail; then the rule is spent. For `apply-then-…`, only writes that succeeded count. */
  count: number;
  readonly retryAfterSeconds?: number;
}

const reasons: Record<number, string> = { 409: 'Conflict', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };

/** What becomes of a write an `apply-then-…` rule took, once it succeeded. */
export type LostReply = { readonly drop: true } | { readonly drop: false; readonly error: ApiError };

export class Faults {
  readonly rules: FaultRule[] = [];
  latencyMs = 0;
  injected = 0;

  add(rule: FaultRule): void {
    const mode = rule.mode ?? 'fail';
    if (!faultModes.includes(mode)) throw new ApiError(400, 'BadRequest', `mode must be one of ${faultModes.join(', ')}, not ${String(mode)}`);
    if (mode !== 'fail' && rule.method !== undefined && !WRITES.has(rule.method)) {
      throw new ApiError(400, 'BadRequest', `mode ${mode} takes writes only (POST, PUT, PATCH, DELETE), not ${rule.method}`);
    }
    const statuses = mode === 'fail' ? [409, 429, 500, 503, 504] : mode === 'apply-then-fail' ? [500, 504] : undefined;
    if (statuses && !statuses.includes(rule.status ?? 0)) throw new ApiError(400, 'BadRequest', `status must be one of ${statuses.join(', ')}, not ${String(rule.status)}`);
    if (!Number.isSafeInteger(rule.count) || rule.count < 1) throw new ApiError(400, 'BadRequest', 'count must be a positive integer');
    this.rules.push(rule);
  }

  clear(): void {
    this.rules.length = 0;
    this.latencyMs = 0;
  }

  /** The error to answer this request with instead of handling it, if a `fail` rule takes it. */
  take(method: string, path: string): ApiError | undefined {
    const rule = this.find(method, path, (mode) => mode === 'fail');
    if (!rule) return undefined;
    this.spend(rule);
    return errorOf(rule.status ?? 500, 'devapi: injected fault', rule.retryAfterSeconds);
  }

  /** The `apply-then-…` rule this write would be taken by, if it succeeds; not spent yet. */
  afterWrite(method: string, path: string): FaultRule | undefined {
    return WRITES.has(method) ? this.find(method, path, (mode) => mode !== 'fail') : undefined;
  }

  /**
   * The write `rule` matched succeeded: spends the rule and says what the client
   * gets instead of the answer; undefined when another write spent it meanwhile.
   */
  loseReply(rule: FaultRule): LostReply | undefined {
    if (rule.count < 1) return undefined;
    this.spend(rule);
    if (rule.mode === 'apply-then-drop') return { drop: true };
    // The timeout filter's answer: apierrors.NewTimeoutError("request did not complete within the allotted timeout", 0).
    return rule.status === 504
      ? { drop: false, error: new ApiError(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout', { retryAfterSeconds: 0 }) }
      : { drop: false, error: errorOf(rule.status ?? 500, 'devapi: injected fault after the write was stored', rule.retryAfterSeconds) };
  }

  private find(method: string, path: string, mode: (mode: FaultMode) => boolean): FaultRule | undefined {
    return this.rules.find((r) => r.count > 0 && mode(r.mode ?? 'fail') && (!r.method || r.method === method) && (!r.path || path.includes(r.path)));
  }

  private spend(rule: FaultRule): void {
    rule.count--;
    if (rule.count === 0) this.rules.splice(this.rules.indexOf(rule), 1);
    this.injected++;
  }
}

function errorOf(status: number, what: string, retryAfterSeconds: number | undefined): ApiError {
  const reason = reasons[status] ?? 'InternalError';
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) };
  return new ApiError(status, reason, `${what} (${status} ${reason})`, retryAfterSeconds === undefined ? undefined : { retryAfterSeconds }, headers);
}
