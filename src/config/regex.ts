/**
 * The regular expressions of the approver's `extraDnsRegexes`, checked at start so that
 * one cannot stall the approver. JavaScript's engine backtracks: a repetition of
 * something that can itself repeat or choose, as `(a+)+$` or `(a|aa)*$`, takes time
 * exponential in the name's length on a name that almost matches (a "ReDoS"), and a
 * kubelet chooses the names it asks for. So an expression must be anchored (`^…$`, a
 * whole name), at most 256 characters, valid with the `u` flag (as the approver
 * compiles it), without back-references or lookaround, and no repeated group (`*`, `+`,
 * `{n,m}` after `)`) may hold a repetition or an alternative `|`. What remains is at most
 * polynomial in the name's length, and the names the approver matches are DNS names of
 * at most 253 characters.
 */

/** The longest expression accepted. */
export const maxRegexLength = 256;

/** repeats, chooses: the group holds a repetition, an alternative (at any depth); bar: a `|` of its own. */
interface Group { repeats: boolean; chooses: boolean; bar?: true }

/** Skips a character class starting at `source[start]` (`[`); returns the index after its `]`. */
function skipClass(source: string, start: number): number {
  let i = start + 1;
  if (source[i] === '^') i++;
  if (source[i] === ']') i++;
  while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** The length of the quantifier at `source[i]` (0: none): `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each maybe lazy (`?`). */
function quantifierAt(source: string, i: number): { length: number; repeats: boolean } {
  const c = source[i];
  let length = 0;
  if (c === '*' || c === '+' || c === '?') length = 1;
  else if (c === '{') length = /^\{\d+(,\d*)?\}/.exec(source.slice(i))?.[0].length ?? 0;
  if (length === 0) return { length: 0, repeats: false };
  const text = source.slice(i, i + length);
  return { length: length + (source[i + length] === '?' ? 1 : 0), repeats: c === '*' || c === '+' || (c === '{' && !/^\{(0|1|0,1)\}$/.test(text)) };
}

/** Why `source` is refused as an extraDnsRegexes entry, or undefined. */
export function dnsRegexProblem(source: string): string | undefined {
  if (source.length > maxRegexLength) return `is ${source.length} characters long; at most ${maxRegexLength} are allowed`;
  if (!source.startsWith('^') || !source.endsWith('$') || source.endsWith('\\$')) {
    return 'must be anchored, starting with ^ and ending with $, so that it matches a whole name';
  }
  try {
    new RegExp(source, 'u');
  } catch (e) {
    return `is not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  const stack: Group[] = [{ repeats: false, chooses: false }];
  let i = 0;
  while (i < source.length) {
    const c = source[i] ?? '';
    const top = stack[stack.length - 1] as Group;
    let atom: Group | undefined;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9k]/.test(next)) return 'uses a back-reference, which can take exponential time; csr-signer refuses it';
      i += 2;
      atom = { repeats: false, chooses: false };
    } else if (c === '[') {
      i = skipClass(source, i);
      atom = { repeats: false, chooses: false };
    } else if (c === '(') {
      if (/^\(\?<?[=!]/.test(source.slice(i))) return 'uses a lookahead or lookbehind, which csr-signer refuses (it can hide a costly search)';
      stack.push({ repeats: false, chooses: false });
      i = source.startsWith('(?:', i) ? i + 3 : source.startsWith('(?<', i) ? source.indexOf('>', i) + 1 : i + 1;
      continue;
    } else if (c === ')') {
      // The expression compiled, so its parentheses balance and the root is never popped.
      atom = stack.pop() ?? { repeats: false, chooses: false };
      i += 1;
    } else if (c === '|') {
      top.chooses = true;
      top.bar = true;
      i += 1;
      continue;
    } else {
      i += 1;
      atom = { repeats: false, chooses: false };
    }
    const q = quantifierAt(source, i);
    const owner = stack[stack.length - 1] as Group;
    if (q.repeats && (atom.repeats || atom.chooses)) {
      return `repeats a group that itself ${atom.repeats ? 'repeats' : 'holds alternatives (|)'} (as in (a+)+ or (a|b)*), which can take exponential time on a name that almost matches; write it without the nesting, e.g. [a-z0-9.-]* instead of ([a-z0-9-]+\\.)*`;
    }
    owner.repeats ||= atom.repeats || q.repeats;
    owner.chooses ||= atom.chooses;
    i += q.length;
  }
  if (stack[0]?.bar === true) return 'has | outside a group, so ^ and $ each anchor one alternative only: group the alternatives, as in ^(a|b)\\.example\\.com$';
  return undefined;
}
