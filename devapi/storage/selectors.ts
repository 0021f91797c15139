/** Label and field selectors, with the apiserver's syntax and error messages. */
import { badRequest } from '../api/errors.js';

export type Matcher = (object: Record<string, unknown>) => boolean;

const labelsOf = (o: Record<string, unknown>): Record<string, string> =>
  ((o.metadata as Record<string, unknown> | undefined)?.labels as Record<string, string> | undefined) ?? {};

/** Splits on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

const labelKey = /^([a-zA-Z0-9.\-_/]+)$/;

/** k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k; comma is AND. */
export function parseLabelSelector(text: string | null): Matcher {
  if (!text) return () => true;
  const tests: Matcher[] = splitTerms(text).map((term) => {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const [, key = '', op, list = ''] = m;
      const values = new Set(list.split(',').map((v) => v.trim()).filter((v) => v !== ''));
      return op === 'in' ? (o) => values.has(labelsOf(o)[key] ?? '\u0000') : (o) => !values.has(labelsOf(o)[key] ?? '\u0000');
    }
    if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*([^!=\s]*)$/.exec(term))) {
      const [, key = '', op, value = ''] = m;
      return op === '!=' ? (o) => labelsOf(o)[key] !== value : (o) => labelsOf(o)[key] === value;
    }
    if ((m = /^!\s*(\S+)$/.exec(term)) && labelKey.test(m[1] ?? '')) {
      const key = m[1] ?? '';
      return (o) => !(key in labelsOf(o));
    }
    if (labelKey.test(term)) return (o) => term in labelsOf(o);
    throw badRequest(`unable to parse requirement: found '${term}', expected: valid label selector`);
  });
  return (o) => tests.every((t) => t(o));
}

/** Splits a field selector term on its first unescaped operator, unescaping \, \= and \\. */
function parseFieldTerm(term: string): { key: string; op: '=' | '!='; value: string } {
  let i = 0;
  let key = '';
  while (i < term.length) {
    const ch = term[i] as string;
    if (ch === '\\') { key += term[i + 1] ?? ''; i += 2; continue; }
    if (ch === '!' && term[i + 1] === '=') return { key, op: '!=', value: unescape(term.slice(i + 2)) };
    if (ch === '=') return { key, op: '=', value: unescape(term.slice(term[i + 1] === '=' ? i + 2 : i + 1)) };
    key += ch;
    i++;
  }
  throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
}

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

/** Field selectors over the fields a resource supports; anything else is 400. */
export function parseFieldSelector(text: string | null, fields: Readonly<Record<string, (o: Record<string, unknown>) => string>>): Matcher {
  if (!text) return () => true;
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\') { current += ch + (text[i + 1] ?? ''); i++; continue; }
    if (ch === ',') { terms.push(current); current = ''; continue; }
    current += ch;
  }
  terms.push(current);
  const tests = terms.filter((t) => t !== '').map((term) => {
    const { key, op, value } = parseFieldTerm(term);
    const read = fields[key];
    if (!read) throw badRequest(`field label not supported: ${key}`);
    return op === '=' ? (o: Record<string, unknown>) => read(o) === value : (o: Record<string, unknown>) => read(o) !== value;
  });
  return (o) => tests.every((t) => t(o));
}
