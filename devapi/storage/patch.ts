/**
 * JSON patch (RFC 6902) and JSON merge patch (RFC 7386) over parsed JSON values.
 * Neither mutates its inputs. A malformed patch is 400 `error decoding patch: …`; a patch that does
 * not apply to the document is 422 Invalid. Keys that could reach Object.prototype are refused.
 * (k8s.io/apiserver pkg/endpoints/handlers/patch.go, with evanphx/json-patch's messages)
 */
import { ApiError, badRequest } from '../api/errors.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };

/** The apiserver's cap on JSON patch operations. */
const maxOperations = 10_000;
const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

const decodeError = (detail: string): ApiError => badRequest(`error decoding patch: ${detail}`);
const doesNotApply = (detail: string): ApiError => new ApiError(422, 'Invalid', detail);

const notJson = (detail: string): ApiError => new ApiError(500, 'InternalError', `the stored object is not JSON: ${detail}`);

const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A deep copy that also checks `v` is JSON. Object.fromEntries defines own properties, so even a
 * stored `__proto__` key stays inert; `refuse` is undefined for the stored document, which may hold
 * any key, and set for patch content, where the forbidden keys are refused.
 */
function clone(v: unknown, refuse: ((detail: string) => ApiError) | undefined, where: string): Json {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
    throw (refuse ?? notJson)(`${where} holds a number JSON cannot represent`);
  }
  // As JSON.stringify: an undefined array element is null, an undefined member is absent.
  if (Array.isArray(v)) return v.map((item: unknown, i) => (item === undefined ? null : clone(item, refuse, `${where}/${i}`)));
  if (isObject(v)) {
    return Object.fromEntries(Object.entries(v).filter(([, item]) => item !== undefined).map(([k, item]) => {
      if (refuse !== undefined && forbiddenKeys.has(k)) throw refuse(`the key "${k}" is not allowed`);
      return [k, clone(item, refuse, `${where}/${k}`)];
    }));
  }
  throw (refuse ?? notJson)(`${where || 'the document'} is not a JSON value`);
}

const equal = (a: Json, b: Json): boolean => {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => equal(v, b[i] ?? null));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k] ?? null, b[k] ?? null));
  }
  return a === b;
};

/** RFC 6901: `""` is the whole document; otherwise `/`-separated tokens with `~1` → `/` and `~0` → `~`. */
function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw decodeError(`JSON pointer "${pointer}" must be empty or start with "/"`);
  return pointer.slice(1).split('/').map((token) => {
    if (/~[^01]|~$/.test(token)) throw decodeError(`JSON pointer "${pointer}" has an invalid "~" escape`);
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    if (forbiddenKeys.has(key)) throw decodeError(`JSON pointer "${pointer}" names the forbidden key "${key}"`);
    return key;
  });
}

const arrayIndex = (token: string, length: number, allowEnd: boolean, op: string, path: string): number => {
  const index = token === '-' && allowEnd ? length : /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : NaN;
  if (!(index <= (allowEnd ? length : length - 1))) throw doesNotApply(`jsonpatch ${op} operation does not apply: index out of bounds: "${path}"`);
  return index;
};

/** The container holding the last token, which must exist. */
function parentOf(doc: Json, tokens: readonly string[], op: string, path: string): Container {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? (/^(0|[1-9][0-9]*)$/.test(token) ? node[Number(token)] : undefined)
      : isObject(node) && Object.hasOwn(node, token) ? node[token] : undefined;
    if (next === undefined) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing path: "${path}"`);
    node = next;
  }
  if (typeof node !== 'object' || node === null) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing path: "${path}"`);
  return node;
}

function get(doc: Json, tokens: readonly string[], op: string, path: string): Json {
  const last = tokens.at(-1);
  if (last === undefined) return doc;
  const parent = parentOf(doc, tokens, op, path);
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length, false, op, path)] ?? null;
  if (!Object.hasOwn(parent, last)) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing path: "${path}"`);
  return parent[last] ?? null;
}

/** Adds (or with `replace`, overwrites an existing) value; returns the new document root. */
function put(doc: Json, tokens: readonly string[], value: Json, op: string, path: string, replace: boolean): Json {
  const last = tokens.at(-1);
  if (last === undefined) return value;
  const parent = parentOf(doc, tokens, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, !replace, op, path), replace ? 1 : 0, value);
  else if (replace && !Object.hasOwn(parent, last)) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing path: "${path}"`);
  else parent[last] = value;
  return doc;
}

function remove(doc: Json, tokens: readonly string[], op: string, path: string): Json {
  const last = tokens.at(-1);
  if (last === undefined) throw doesNotApply(`jsonpatch ${op} operation does not apply: cannot remove the whole document`);
  const parent = parentOf(doc, tokens, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false, op, path), 1);
  else if (!Object.hasOwn(parent, last)) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing path: "${path}"`);
  else delete parent[last];
  return doc;
}

/** Applies an RFC 6902 patch (an array of operations) to a copy of `doc`. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw decodeError('a JSON patch must be an array of operations');
  if (ops.length > maxOperations) {
    throw new ApiError(413, 'RequestEntityTooLarge', `The allowed maximum operations in a JSON patch is ${maxOperations}, got ${ops.length}`);
  }
  let result = clone(doc, undefined, '');
  ops.forEach((raw: unknown, i) => {
    if (!isObject(raw)) throw decodeError(`operation ${i} is not an object`);
    const { op, path } = raw;
    if (typeof op !== 'string') throw decodeError(`operation ${i} has no "op" string`);
    if (typeof path !== 'string') throw decodeError(`${op} operation ${i} has no "path" string`);
    const tokens = parsePointer(path);
    const value = (): Json => {
      if (!Object.hasOwn(raw, 'value')) throw decodeError(`${op} operation ${i} has no "value"`);
      return clone(raw['value'], decodeError, `operation ${i} value`);
    };
    const source = (): string => {
      if (typeof raw['from'] !== 'string') throw decodeError(`${op} operation ${i} has no "from" string`);
      return raw['from'];
    };
    const from = (): Json => get(result, parsePointer(source()), op, source());
    switch (op) {
      case 'add': result = put(result, tokens, value(), op, path, false); break;
      case 'replace': result = put(result, tokens, value(), op, path, true); break;
      case 'remove': result = remove(result, tokens, op, path); break;
      case 'copy': result = put(result, tokens, clone(from(), undefined, 'copy'), op, path, false); break;
      case 'move': {
        if (path.startsWith(`${source()}/`)) throw doesNotApply(`jsonpatch move operation does not apply: "${source()}" is an ancestor of "${path}"`);
        const moved = from();
        result = put(remove(result, parsePointer(source()), op, source()), tokens, moved, op, path, false);
        break;
      }
      case 'test': {
        const actual = get(result, tokens, op, path);
        const expected = value();
        if (!equal(actual, expected)) {
          throw doesNotApply(`testing value ${path} failed: is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
        }
        break;
      }
      default: throw decodeError(`operation ${i} has an unknown "op" ${JSON.stringify(op)}`);
    }
  });
  return result;
}

function merge(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: { [key: string]: Json } = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = merge(Object.hasOwn(out, key) ? out[key] ?? null : null, value);
  }
  return out;
}

/** Applies an RFC 7386 merge patch to a copy of `doc`. A non-object patch replaces the document, as the RFC says. */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  const checked = clone(patch, decodeError, 'patch');
  return merge(clone(doc, undefined, ''), checked);
}
