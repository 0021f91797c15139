/**
 * How kube-apiserver's JSON decoder reads a request body into a typed Go object
 * (sigs.k8s.io/json, a case-sensitive fork of encoding/json, called by
 * apimachinery/pkg/runtime/serializer/json `Serializer.unmarshal`): the first type error
 * it saves (`json: cannot unmarshal string into Go struct field Event.count of type
 * int32`), the errors that end decoding at once (metav1.Time and MicroTime
 * `UnmarshalJSON`), and the strict errors its strict mode collects (`unknown field
 * "spec.foo"`, `duplicate field "reason"`), each with the path sigs.k8s.io/json builds
 * (`kubernetes_patch.go` `newFieldError`: keys joined by dots, `[i]` for list items).
 * What it hands back is the body with every field the type does not have dropped, as the
 * typed object would re-encode it.
 */
import { goQuote } from '../../src/pki/index.js';
import { goBase64Json } from './encoding.js';

/** A Go type, as far as decoding tells types apart. `name` is how Go prints it in errors. */
export type GoType =
  | { readonly kind: 'string'; readonly name?: string }
  | { readonly kind: 'int'; readonly bits: 32 | 64 }
  | { readonly kind: 'bool' }
  | { readonly kind: 'bytes' }
  /** metav1.Time (RFC 3339) or metav1.MicroTime (RFC 3339 with exactly six fraction digits). */
  | { readonly kind: 'time'; readonly micro: boolean }
  /** Any JSON (FieldsV1, RawExtension). */
  | { readonly kind: 'raw' }
  | { readonly kind: 'struct'; readonly name: string; readonly fields: Readonly<Record<string, GoType>> }
  | { readonly kind: 'slice'; readonly of: GoType; readonly name?: string }
  | { readonly kind: 'map'; readonly of: GoType };

/** A JSON value as written: numbers keep their text, objects their key order and repeated keys. */
export type JsonNode =
  | { readonly t: 'object'; readonly entries: readonly (readonly [string, JsonNode])[] }
  | { readonly t: 'array'; readonly items: readonly JsonNode[] }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'number'; readonly raw: string }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'null' };

/** The tree of JSON text that JSON.parse has accepted (so it is well formed). */
export function jsonTree(text: string): JsonNode {
  let i = 0;
  const space = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i] ?? '')) i++;
  };
  const stringAt = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): JsonNode => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: [string, JsonNode][] = [];
      space();
      if (text[i] === '}') return i++, { t: 'object', entries };
      for (;;) {
        space();
        const key = stringAt();
        space();
        i++; // :
        entries.push([key, value()]);
        space();
        if (text[i++] === '}') return { t: 'object', entries };
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      space();
      if (text[i] === ']') return i++, { t: 'array', items };
      for (;;) {
        items.push(value());
        space();
        if (text[i++] === ']') return { t: 'array', items };
      }
    }
    if (c === '"') return { t: 'string', v: stringAt() };
    if (text.startsWith('true', i)) return i += 4, { t: 'bool', v: true };
    if (text.startsWith('false', i)) return i += 5, { t: 'bool', v: false };
    if (text.startsWith('null', i)) return i += 4, { t: 'null' };
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    const raw = m?.[0] ?? '0';
    i += raw.length;
    return { t: 'number', raw };
  };
  return value();
}

/** The tree of a value decoded some other way (YAML, protobuf): no repeated keys, numbers as JavaScript prints them. */
export function valueTree(v: unknown): JsonNode {
  if (v === null || v === undefined) return { t: 'null' };
  if (Array.isArray(v)) return { t: 'array', items: v.map(valueTree) };
  if (typeof v === 'object') return { t: 'object', entries: Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, valueTree(x)] as const) };
  if (typeof v === 'string') return { t: 'string', v };
  if (typeof v === 'number' || typeof v === 'bigint') return { t: 'number', raw: String(v) };
  if (typeof v === 'boolean') return { t: 'bool', v };
  return { t: 'null' };
}

function plain(node: JsonNode): unknown {
  switch (node.t) {
    case 'object': return Object.fromEntries(node.entries.map(([k, v]) => [k, plain(v)]));
    case 'array': return node.items.map(plain);
    case 'string': return node.v;
    case 'number': return Number(node.raw);
    case 'bool': return node.v;
    default: return null;
  }
}

export const goTypeName = (type: GoType): string => {
  switch (type.kind) {
    case 'string': return type.name ?? 'string';
    case 'int': return `int${type.bits}`;
    case 'bool': return 'bool';
    case 'bytes': return '[]uint8';
    case 'time': return type.micro ? 'v1.MicroTime' : 'v1.Time';
    case 'raw': return 'interface {}';
    case 'struct': return type.name;
    case 'slice': return type.name ?? `[]${goTypeName(type.of)}`;
    default: return `map[string]${goTypeName(type.of)}`;
  }
};

export interface Decoded {
  /** The body as the typed object holds it: unknown fields dropped. */
  readonly value: unknown;
  /** The error decoding ends with (a 400 upstream), if any; strict errors do not count. */
  readonly error?: string;
  /** Unknown and repeated fields, in the order met, each once (at most 100, as upstream). */
  readonly strict: readonly string[];
}

class Fatal extends Error {}

const kindOf = (node: JsonNode): string => (node.t === 'bool' ? 'bool' : node.t === 'null' ? 'null' : node.t);
/**
 * Decodes `node` into `type` as `json.Unmarshal` into the Go type would. `strict` collects
 * unknown and repeated fields (sigs.k8s.io/json `UnmarshalStrict`).
 */
export function decodeGo(node: JsonNode, type: GoType, options: { readonly strict?: boolean } = {}): Decoded {
  let saved: string | undefined;
  const strict: string[] = [];
  const save = (e: string): void => { saved ??= e; };
  const strictError = (e: string): void => {
    if (options.strict && strict.length < 100 && !strict.includes(e)) strict.push(e);
  };
  /** `struct` and `fields`: the innermost struct and the field path, for UnmarshalTypeError. */
  const typeError = (value: string, t: GoType, struct: string, fields: readonly string[]): void => {
    save(struct !== '' || fields.length > 0
      ? `json: cannot unmarshal ${value} into Go struct field ${struct}.${fields.join('.')} of type ${goTypeName(t)}`
      : `json: cannot unmarshal ${value} into Go value of type ${goTypeName(t)}`);
  };
  const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

  const walk = (n: JsonNode, t: GoType, struct: string, fields: readonly string[], path: string): unknown => {
    if (t.kind === 'raw') return plain(n);
    if (t.kind === 'time') {
      if (n.t === 'null') return null;
      if (n.t !== 'string') throw new Fatal(`json: cannot unmarshal ${kindOf(n)} into Go value of type string`);
      const problem = goTimeParseError(n.v, t.micro ? RFC3339_MICRO : RFC3339);
      if (problem !== undefined) throw new Fatal(problem);
      return n.v;
    }
    if (n.t === 'null') return null;
    switch (t.kind) {
      case 'string':
        if (n.t !== 'string') return typeError(kindOf(n), t, struct, fields), undefined;
        return n.v;
      case 'bool':
        if (n.t !== 'bool') return typeError(kindOf(n), t, struct, fields), undefined;
        return n.v;
      case 'int': {
        if (n.t !== 'number') return typeError(kindOf(n), t, struct, fields), undefined;
        const ok = /^-?\d+$/.test(n.raw) && (() => {
          const v = BigInt(n.raw);
          const limit = 1n << BigInt(t.bits - 1);
          return v >= -limit && v < limit;
        })();
        if (!ok) return typeError(`number ${n.raw}`, t, struct, fields), undefined;
        return Number(n.raw);
      }
      case 'bytes': {
        if (n.t !== 'string') return typeError(kindOf(n), t, struct, fields), undefined;
        const r = goBase64Json(n.v);
        if ('error' in r) return save(`illegal base64 data at input byte ${r.error}`), undefined;
        return n.v;
      }
      case 'slice': {
        if (n.t !== 'array') return typeError(kindOf(n), t, struct, fields), undefined;
        return n.items.map((item, i) => walk(item, t.of, struct, fields, `${path}[${i}]`));
      }
      case 'map': {
        if (n.t !== 'object') return typeError(kindOf(n), t, struct, fields), undefined;
        const out: Record<string, unknown> = {};
        const seen = new Set<string>();
        for (const [key, value] of n.entries) {
          if (seen.has(key)) strictError(`duplicate field ${goQuote(join(path, key))}`);
          seen.add(key);
          out[key] = walk(value, t.of, struct, fields, join(path, key));
        }
        return out;
      }
      default: {
        if (n.t !== 'object') return typeError(kindOf(n), t, struct, fields), undefined;
        const out: Record<string, unknown> = {};
        const seen = new Set<string>();
        for (const [key, value] of n.entries) {
          const field = Object.hasOwn(t.fields, key) ? t.fields[key] : undefined;
          if (!field) {
            strictError(`unknown field ${goQuote(join(path, key))}`);
            continue;
          }
          if (seen.has(key)) strictError(`duplicate field ${goQuote(join(path, key))}`);
          seen.add(key);
          const decoded = walk(value, field, t.name.replace(/^.*\./, ''), [...fields, key], join(path, key));
          if (decoded !== undefined) out[key] = decoded;
        }
        return out;
      }
    }
  };

  try {
    const value = walk(node, type, '', [], '');
    return saved === undefined ? { value, strict } : { value, error: saved, strict: [] };
  } catch (e) {
    if (e instanceof Fatal) return { value: undefined, error: e.message, strict: [] };
    throw e;
  }
}

// ------------------------------------------------------------------ Go's time.Parse, for its error messages

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

const isDigit = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;
const daysIn = (month: number, year: number): number => (month === 2 ? ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);

/**
 * The error Go's `time.Parse(layout, value)` gives for the two layouts metav1.Time and
 * MicroTime use, or undefined when it parses (time/format.go: `cannot parse "<rest>" as
 * "<element>"`, `<unit> out of range`, `extra text`).
 */
export function goTimeParseError(value: string, layout: typeof RFC3339 | typeof RFC3339_MICRO): string | undefined {
  const cannot = (rest: string, element: string): string => `parsing time ${goQuote(value)} as ${goQuote(layout)}: cannot parse ${goQuote(rest)} as ${goQuote(element)}`;
  const range = (what: string): string => `parsing time ${goQuote(value)}: ${what} out of range`;
  const elements: readonly string[] = layout === RFC3339
    ? ['2006', '-', '01', '-', '02', 'T', '15', ':', '04', ':', '05', 'Z07:00']
    : ['2006', '-', '01', '-', '02', 'T', '15', ':', '04', ':', '05', '.000000', 'Z07:00'];
  let rest = value;
  let year = 0;
  let month = 0;
  let day = 0;
  /** getnum: one or two digits (exactly two when `fixed`). */
  const num = (fixed: boolean): number | undefined => {
    if (!isDigit(rest, 0)) return undefined;
    if (!isDigit(rest, 1)) {
      if (fixed) return undefined;
      const n = Number(rest[0]);
      rest = rest.slice(1);
      return n;
    }
    const n = Number(rest.slice(0, 2));
    rest = rest.slice(2);
    return n;
  };
  for (let e = 0; e < elements.length; e++) {
    const element = elements[e] ?? '';
    const hold = rest;
    switch (element) {
      case '-': case 'T': case ':':
        if (!rest.startsWith(element)) return cannot(rest, element);
        rest = rest.slice(1);
        break;
      case '2006':
        if (rest.length < 4 || !isDigit(rest, 0) || !/^\d{4}/.test(rest)) return cannot(hold, element);
        year = Number(rest.slice(0, 4));
        rest = rest.slice(4);
        break;
      case '01': {
        const n = num(true);
        if (n === undefined) return cannot(hold, element);
        if (n <= 0 || n > 12) return range('month');
        month = n;
        break;
      }
      case '02': {
        const n = num(true);
        if (n === undefined) return cannot(hold, element);
        day = n;
        break;
      }
      case '15': {
        const n = num(false);
        if (n === undefined) return cannot(hold, element);
        if (n > 23) return range('hour');
        break;
      }
      case '04': case '05': {
        const n = num(true);
        if (n === undefined) return cannot(hold, element);
        if (n > 59) return range(element === '04' ? 'minute' : 'second');
        // A fraction the layout does not name is accepted after the seconds (RFC 3339 only).
        if (element === '05' && layout === RFC3339 && rest.length >= 2 && (rest[0] === '.' || rest[0] === ',') && isDigit(rest, 1)) {
          let i = 1;
          while (isDigit(rest, i)) i++;
          rest = rest.slice(i);
        }
        break;
      }
      case '.000000':
        if (rest.length < 7 || (rest[0] !== '.' && rest[0] !== ',') || !/^\d{6}$/.test(rest.slice(1, 7))) return cannot(hold, element);
        rest = rest.slice(7);
        break;
      default: // Z07:00
        if (rest.startsWith('Z')) {
          rest = rest.slice(1);
          break;
        }
        if (rest.length < 6 || rest[3] !== ':' || (rest[0] !== '+' && rest[0] !== '-') || !/^\d\d$/.test(rest.slice(1, 3)) || !/^\d\d$/.test(rest.slice(4, 6))) return cannot(hold, element);
        if (Number(rest.slice(1, 3)) > 24) return range('time zone offset hour');
        if (Number(rest.slice(4, 6)) > 60) return range('time zone offset minute');
        rest = rest.slice(6);
    }
  }
  if (rest.length > 0) return `parsing time ${goQuote(value)}: extra text: ${goQuote(rest)}`;
  if (day < 1 || day > daysIn(month, year)) return range('day');
  return undefined;
}
