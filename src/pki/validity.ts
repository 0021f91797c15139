/**
 * The validity window, as the in-tree signer computes it (signer.go duration,
 * authority/policies.go): backdate 5 minutes, short-lived certificates keep
 * their full lifetime, and NotAfter never passes the CA's NotAfter.
 */
import { csrError } from '../errors.js';
import { asciiBytes, encode, Tag } from './der.js';

const MINUTE = 60_000;
export const BACKDATE_MS = 5 * MINUTE;
export const SHORT_LIVED_MS = 8 * 60 * MINUTE;
export const MIN_TTL_MS = 10 * MINUTE;

/**
 * The lifetime a request gets: the default (itself at most the maximum; the
 * maximum when there is none) when it asks for nothing, else what it asks for,
 * capped at the maximum and raised to 10 minutes (the maximum wins).
 */
export function effectiveTtlMs(maxDurationMs: number, expirationSeconds?: number, defaultDurationMs?: number): number {
  if (expirationSeconds === undefined) return Math.min(defaultDurationMs ?? maxDurationMs, maxDurationMs);
  const requested = expirationSeconds * 1000;
  if (requested > maxDurationMs) return maxDurationMs;
  if (requested < MIN_TTL_MS) return MIN_TTL_MS;
  return requested;
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Computes the window for a TTL at `now`, against a CA valid until `caNotAfter`. */
export function validityWindow(now: Date, ttlMs: number, caNotAfter: Date): Validity {
  const t = now.getTime();
  const notBefore = t - BACKDATE_MS;
  let notAfter = ttlMs < SHORT_LIVED_MS ? t + ttlMs : t + ttlMs - BACKDATE_MS;
  const caEnd = caNotAfter.getTime();
  if (notAfter >= caEnd) notAfter = caEnd;
  if (notBefore >= caEnd) throw csrError('SignerExpired', formatGoTime(caNotAfter));
  if (t >= caEnd) throw csrError('CertificateExpiredInPast', formatGoTime(caNotAfter));
  return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Go's time.Time.String() for a UTC time: `2025-01-01 00:00:00 +0000 UTC`. */
export function formatGoTime(d: Date): string {
  const ms = d.getUTCMilliseconds();
  const fraction = ms === 0 ? '' : `.${pad(ms, 3).replace(/0+$/, '')}`;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction} +0000 UTC`;
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function encodeTime(d: Date): Uint8Array {
  const year = d.getUTCFullYear();
  if (year >= 1950 && year < 10000) {
    // The usual case, written digit by digit: Tag, length, [YY]YY MM DD hh mm ss Z.
    const utc = year < 2050;
    const out = new Uint8Array(utc ? 15 : 17);
    out[0] = utc ? Tag.utcTime : Tag.generalizedTime;
    out[1] = out.length - 2;
    let at = 2;
    const two = (n: number): void => {
      out[at++] = 0x30 + Math.floor(n / 10);
      out[at++] = 0x30 + (n % 10);
    };
    if (!utc) two(Math.floor(year / 100));
    two(year % 100);
    two(d.getUTCMonth() + 1);
    two(d.getUTCDate());
    two(d.getUTCHours());
    two(d.getUTCMinutes());
    two(d.getUTCSeconds());
    out[at] = 0x5a; // Z
    return out;
  }
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return encode(Tag.generalizedTime, asciiBytes(`${pad(year, 4)}${rest}`));
}
