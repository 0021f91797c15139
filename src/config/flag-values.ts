/** Values of flags: numbers, Go durations, an address, a choice. Errors name the flag. */
import { isIPv6 } from 'node:net';
import { parseDuration } from '../duration.js';
import { csrError, csrErrorWithCause, isCsrSignerError } from '../errors.js';
import { integerFlag, parseInteger, type IntegerRange } from '../numbers.js';
import type { RunFlags } from './flags.js';

/** A TCP port, as every port flag takes it. */
export const portRange: IntegerRange = { min: 0, max: 65535 };

type Values = RunFlags['values'];

/** A Go duration longer than zero, in milliseconds. */
export function durationFlag(values: Values, name: string, fallback: string): number {
  const text = values[name] ?? fallback;
  let ms;
  try {
    ms = parseDuration(text);
  } catch (e) {
    if (isCsrSignerError(e)) throw csrErrorWithCause(e, 'InvalidArgument', `--${name}: ${e.message}`);
    throw e;
  }
  if (ms <= 0) throw csrError('InvalidArgument', `--${name} must be longer than 0s, not ${JSON.stringify(text)}`);
  return ms;
}

/** A whole number of at least 1, in decimal digits (src/numbers.ts decides). */
export function countFlag(values: Values, name: string, fallback: string): number {
  return integerFlag(name, values[name] ?? fallback, { min: 1 });
}

/** A number greater than zero, decimals allowed. */
export function rateFlag(values: Values, name: string, fallback: string): number {
  const text = values[name] ?? fallback;
  const n = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw csrError('InvalidArgument', `--${name} must be a number greater than 0, not ${JSON.stringify(text)}`);
  return n;
}

/** One of `choices`. */
export function choiceFlag<T extends string>(values: Values, name: string, choices: readonly T[], fallback: T): T {
  const text = values[name] ?? fallback;
  if (!(choices as readonly string[]).includes(text)) throw csrError('InvalidArgument', `--${name} must be one of ${choices.join(', ')}, not ${JSON.stringify(text)}`);
  return text as T;
}

const hostName = /^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$/;

/** `host:port`, `[ipv6]:port` or `:port` (every address), port 0–65535. */
export function addressFlag(values: Values, name: string, fallback: string): string {
  const text = values[name] ?? fallback;
  const bad = (why: string): never => {
    throw csrError('InvalidArgument', `--${name} must be HOST:PORT, as 0.0.0.0:8080 or [::]:8080, not ${JSON.stringify(text)}: ${why}`);
  };
  const colon = text.lastIndexOf(':');
  if (colon < 0) bad('the port is missing');
  const host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (!('value' in parseInteger(port, portRange))) bad('the port must be a number from 0 to 65535');
  if (host.startsWith('[') && host.endsWith(']')) {
    if (!isIPv6(host.slice(1, -1))) bad(`${host} is not an IPv6 address`);
  } else if (host !== '' && !hostName.test(host)) {
    bad(host.includes(':') ? 'put an IPv6 address in brackets' : `${JSON.stringify(host)} is not a host name or address`);
  }
  return text;
}
