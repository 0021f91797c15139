/**
 * Whole numbers from text, decided in one place for every integer flag and
 * config field: decimal digits 0-9 only. `Number()` would also take "" (0),
 * "0x258", "1e3", " 5", "+5" and round 9007199254740993; Go's flag package
 * (strconv.ParseInt with base 0, as kube-controller-manager's flags use) and
 * YAML 1.1 read "010" as octal 8. So: no sign, no spaces, no decimal point or
 * exponent, no prefix, no leading zero, no digits of other scripts, and nothing
 * beyond Number.MAX_SAFE_INTEGER.
 */
import { csrError } from './errors.js';

/** The value of `text`, or why it is not a whole number in decimal digits. */
export function parseWholeNumber(text: string): { value: number } | { problem: string } {
  if (text === '') return { problem: 'it is empty' };
  if (!/^[0-9]+$/.test(text)) return { problem: 'only the decimal digits 0-9 are allowed (no sign, space, decimal point, exponent or 0x)' };
  if (text.length > 1 && text.startsWith('0')) return { problem: 'a leading zero is not allowed (Go and YAML 1.1 read 010 as octal)' };
  const value = Number(text);
  if (!Number.isSafeInteger(value)) return { problem: `it is larger than ${Number.MAX_SAFE_INTEGER}` };
  return { value };
}

export interface IntegerRange {
  readonly min: number;
  /** Default: Number.MAX_SAFE_INTEGER. */
  readonly max?: number;
  /** What is counted, for the message: "seconds" gives "a whole number of seconds". */
  readonly unit?: string;
}

/** What a value in `range` is, for messages: "a whole number of at least 1", "a whole number from 0 to 65535". */
export function describeRange(range: IntegerRange): string {
  const what = `a whole number${range.unit === undefined ? '' : ` of ${range.unit}`}`;
  return range.max === undefined ? `${what} of at least ${range.min}` : `${what} from ${range.min} to ${range.max}`;
}

/** The value of `text` within `range`, or why not. */
export function parseInteger(text: string, range: IntegerRange): { value: number } | { problem: string } {
  const parsed = parseWholeNumber(text);
  if (!('value' in parsed)) return parsed;
  if (parsed.value < range.min) return { problem: `it is less than ${range.min}` };
  if (range.max !== undefined && parsed.value > range.max) return { problem: `it is more than ${range.max}` };
  return parsed;
}

/** The integer flag `--flag` given as `text`; an InvalidArgument error (exit 2) naming the flag otherwise. */
export function integerFlag(flag: string, text: string, range: IntegerRange): number {
  const parsed = parseInteger(text, range);
  if ('value' in parsed) return parsed.value;
  throw csrError('InvalidArgument', `--${flag} must be ${describeRange(range)}, not ${JSON.stringify(text)}: ${parsed.problem}`);
}
