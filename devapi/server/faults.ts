/**
 * Fault injection for tests, driven through devapi's admin-only control API
 * (docs/devapi.md): fail the next N matching requests with a status, add
 * latency, and (through the server) close watches and compact history.
 */
import { ApiError } from '../api/errors.js';

export interface FaultRule {
  /** HTTP method to match (GET, PUT, …); any when absent. */
  readonly method?: string;
  /** Substring of the request path to match; any when absent. */
  readonly path?: string;
  readonly status: number;
  /** How many matching requests fail; then the rule is spent. */
  count: number;
  readonly retryAfterSeconds?: number;
}

const reasons: Record<number, string> = { 409: 'Conflict', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };

export class Faults {
  readonly rules: FaultRule[] = [];
  latencyMs = 0;
  injected = 0;

  add(rule: FaultRule): void {
    if (![409, 429, 500, 503, 504].includes(rule.status)) throw new ApiError(400, 'BadRequest', `status must be one of 409, 429, 500, 503, 504, not ${rule.status}`);
    if (!Number.isSafeInteger(rule.count) || rule.count < 1) throw new ApiError(400, 'BadRequest', 'count must be a positive integer');
    this.rules.push(rule);
  }

  clear(): void {
    this.rules.length = 0;
    this.latencyMs = 0;
  }

  /** The error to answer this request with, if a rule takes it. */
  take(method: string, path: string): ApiError | undefined {
    const rule = this.rules.find((r) => r.count > 0 && (!r.method || r.method === method) && (!r.path || path.includes(r.path)));
    if (!rule) return undefined;
    rule.count--;
    if (rule.count === 0) this.rules.splice(this.rules.indexOf(rule), 1);
    this.injected++;
    const reason = reasons[rule.status] ?? 'InternalError';
    const headers: Record<string, string> = rule.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(rule.retryAfterSeconds) };
    return new ApiError(rule.status, reason, `devapi: injected fault (${rule.status} ${reason})`, rule.retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: rule.retryAfterSeconds }, headers);
  }
}
