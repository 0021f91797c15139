/**
 * Strategic merge patch for the lists that have a patch strategy (k8s.io/apimachinery
 * pkg/util/strategicpatch/patch.go `mergeMap`, `mergeSlice`), for a resource whose Go type tags some
 * lists `patchStrategy:"merge"`: a list of objects merges by its `patchMergeKey` (an element with a
 * key already there is merged into it, a new one is appended, `$patch: delete` removes one), a list of
 * scalars merges as a union, `$setElementOrder/<list>` orders the result, `$deleteFromPrimitiveList/<list>`
 * removes scalars, and `$patch: replace` in a map replaces it. Everything else is a JSON merge patch.
 * Not supported: `$retainKeys` (dropped). The order of elements the server has and the patch does
 * not name follows the named ones, where upstream interleaves them by their server positions.
 */
import { applyMergePatch } from './patch.js';
import { badRequest } from '../api/errors.js';

type Obj = Record<string, unknown>;

/** Dotted paths of lists with a merge strategy: the merge key, or '' for a list of scalars. */
export type MergeStrategies = Readonly<Record<string, string>>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

function mergeList(original: unknown, patch: unknown[], key: string): unknown[] {
  const out: unknown[] = Array.isArray(original) ? [...(original as unknown[])] : [];
  if (key === '') {
    for (const v of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
    return out;
  }
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) return patch.filter((p) => !(isObj(p) && p.$patch === 'replace'));
  for (const element of patch) {
    if (!isObj(element) || !Object.hasOwn(element, key)) throw badRequest(`map: ${JSON.stringify(element)} does not contain declared merge key: ${key}`);
    const at = out.findIndex((o) => isObj(o) && JSON.stringify(o[key]) === JSON.stringify(element[key]));
    if (element.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = applyMergePatch(out[at], element);
    else out.push(applyMergePatch({}, element));
  }
  return out;
}

function order(list: unknown[], wanted: unknown[], key: string): unknown[] {
  const keyOf = (v: unknown): string => JSON.stringify(key === '' ? v : isObj(v) ? v[key] : v);
  const wantedKeys = wanted.map(keyOf);
  const named = wantedKeys.flatMap((k) => list.filter((v) => keyOf(v) === k));
  return [...named, ...list.filter((v) => !wantedKeys.includes(keyOf(v)))];
}

function mergeMap(original: unknown, patch: Obj, strategies: MergeStrategies, path: string): unknown {
  if (patch.$patch === 'replace') return Object.fromEntries(Object.entries(patch).filter(([k]) => k !== '$patch'));
  if (patch.$patch === 'delete') return undefined;
  const out: Obj = isObj(original) ? { ...original } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    const at = path === '' ? k : `${path}.${k}`;
    const strategy = strategies[at];
    if (v === null) delete out[k];
    else if (strategy !== undefined && Array.isArray(v)) out[k] = mergeList(out[k], v, strategy);
    else if (isObj(v)) {
      const merged = mergeMap(out[k], v, strategies, at);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_PRIMITIVE) && Array.isArray(v)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      const current = out[field];
      if (Array.isArray(current)) out[field] = current.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER) || !Array.isArray(v)) continue;
    const field = k.slice(SET_ORDER.length);
    const strategy = strategies[path === '' ? field : `${path}.${field}`];
    const current = out[field];
    if (strategy !== undefined && Array.isArray(current)) out[field] = order(current, v, strategy);
  }
  return out;
}

/** Applies a strategic merge patch to a copy of `doc`, with the resource's list strategies. */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, strategies: MergeStrategies): unknown {
  // A merge patch first checks the patch is JSON and refuses prototype keys; then the strategic pass.
  applyMergePatch({}, patch);
  if (!isObj(patch)) return patch;
  return mergeMap(structuredClone(doc), patch, strategies, '') ?? {};
}
