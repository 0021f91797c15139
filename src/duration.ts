/**
 * Go's duration syntax, as Kubernetes flags use it: `8760h`, `1h30m`, `1.5h`,
 * `300ms`. Values are kept in milliseconds; finer units are accepted and rounded
 * down to the millisecond.
 */
import { csrError } from './errors.js';

const unitMs: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

const term = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Go's largest duration, 2^63-1 ns (2562047h47m16.854775807s), in milliseconds. */
const goMaxMs = 9_223_372_036_854.775;

/**
 * Parses a non-negative Go duration into milliseconds. Accepts what Go's
 * time.ParseDuration accepts (kube-controller-manager's duration flags), except a
 * negative one; refuses what it refuses, a duration beyond Go's range included.
 */
export function parseDuration(text: string): number {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (text === '') throw csrError('InvalidDuration', text, 'it is empty');
  const negative = text.startsWith('-');
  const body = negative || text.startsWith('+') ? text.slice(1) : text;
  if (body === '') throw csrError('InvalidDuration', text, 'a sign needs a number and a unit after it');
  let total = 0;
  term.lastIndex = 0;
  while (term.lastIndex < body.length) {
    const at = term.lastIndex;
    const match = term.exec(body);
    if (!match) {
      const hint = /^\d+(\.\d+)?$/.test(body.slice(at)) ? 'a number needs a unit (ns, us, ms, s, m, h)' : `unexpected "${body.slice(at)}"`;
      throw csrError('InvalidDuration', text, hint);
    }
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
  }
  if (!Number.isFinite(total) || total > goMaxMs) throw csrError('InvalidDuration', text, 'it is too large: Go durations end at 2562047h47m16.854775807s');
  // Go reads "-0s" as 0; any other negative duration is refused (no lifetime is negative).
  if (negative && total > 0) throw csrError('InvalidDuration', text, 'it is negative');
  return Math.floor(total);
}

/** Go's rendering of a duration: `8760h0m0s`, `1h30m0s`, `500ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
