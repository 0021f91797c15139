/**
 * The regular expressions of the approver's `extraDnsRegexes`, checked at start with the
 * compiler the approver runs them with (signer/dns-regex.ts): a linear-time automaton
 * over the subset of JavaScript's and Go's syntax that DNS names need, so what loads is
 * what runs, and no expression can stall the approver on a name a kubelet chose (at
 * most states × name length steps; names of at most 253 characters, at most 10000
 * states). Besides, an expression must be anchored (`^…$`: it always matches the
 * whole name, and says so) and at most 256 characters.
 */
import { compileDnsRegex } from '../signer/dns-regex.js';

/** The longest expression accepted. */
export const maxRegexLength = 256;

/**
 * Whether `source` has a `|` outside every group: `^a|b$` reads in JavaScript and Go
 * as "starts with a, or ends with b", while the approver matches whole names only.
 */
function barOutsideGroups(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/** Why `source` is refused as an extraDnsRegexes entry, or undefined. */
export function dnsRegexProblem(source: string): string | undefined {
  if (source.length > maxRegexLength) return `is ${source.length} characters long; at most ${maxRegexLength} are allowed`;
  if (!source.startsWith('^') || !source.endsWith('$') || source.endsWith('\\$')) {
    return 'must be anchored, starting with ^ and ending with $, so that it reads as what it does: match a whole name';
  }
  try {
    compileDnsRegex(source);
  } catch (e) {
    return `is not an expression the approver runs (literals, ., \\d, \\w, classes, groups, (?:), |, *, +, ?, {n,m}): ${(e as Error).message}`;
  }
  if (barOutsideGroups(source)) return 'has | outside a group, which other engines read as "starts with one, or ends with the other": group the alternatives, as in ^(a|b)\\.example\\.com$';
  return undefined;
}
