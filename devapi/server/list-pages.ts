/**
 * One page of a list, as the etcd3 store reads it (apiserver pkg/storage/etcd3/store.go
 * GetList): objects in key order (storage/key-order.ts), at most `limit` of them, and a
 * continue token when more remain. The token is upstream's (pkg/storage/continue.go):
 * base64url of `{"v":"meta.k8s.io/v1","rv":<list revision>,"start":<next key>}`, the key
 * relative to the list's prefix (`namespace/name`, or the name in one namespace or of a
 * cluster-scoped resource) followed by a NUL byte. Every page of a list reads at the
 * revision of its first page, so the pages are one snapshot; once the store's history no
 * longer reaches that revision the token is answered 410 with one that reads the rest at
 * the current revision (`rv` -1).
 */
import { ApiError, badRequest, expired, ExpiredContinue, invalid as invalidOptions, quote, type FieldError } from '../api/errors.js';
import { compareBytes, listKey } from '../storage/key-order.js';
import type { KubeObject } from '../storage/kube-object.js';
import type { Store } from '../storage/store.js';

export interface ListMeta {
  readonly resourceVersion: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

interface ContinueToken {
  /** The revision the list reads at; -1 (or any negative) for the current one. */
  readonly rv: number;
  /** The first key the page may return, relative to the list's prefix. */
  readonly start: string;
}

const invalid = (why: string): ApiError => badRequest(`invalid continue token: continue key is not valid${why}`);

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.rv, start: token.start })).toString('base64url');
}

/** storage.DecodeContinue: the same checks, answered 400 as GetList answers them. */
function decodeContinue(text: string): ContinueToken {
  const bad = /[^A-Za-z0-9_-]/.exec(text);
  if (bad) throw invalid(`: illegal base64 data at input byte ${bad.index}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (e) {
    throw invalid(`: ${(e as Error).message}`);
  }
  const { v, rv, start } = (parsed ?? {}) as { v?: unknown; rv?: unknown; start?: unknown };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)
    || (rv !== undefined && !Number.isSafeInteger(rv)) || (start !== undefined && typeof start !== 'string') || (v !== undefined && typeof v !== 'string')) {
    throw invalid(': the token is not a continue token');
  }
  if (v !== 'meta.k8s.io/v1') throw invalid(`: server does not recognize this encoded version ${String(v ?? '')}`);
  if (rv === undefined || rv === 0) throw invalid(': incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (start === undefined || start === '') throw invalid(': encoded start key empty (version meta.k8s.io/v1)');
  // A key that path.Clean would change (`..`, `.`, `//`, a trailing `/`) may not climb out of the list's prefix.
  const key = start.startsWith('/') ? start.slice(1) : start;
  if (key !== '' && key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) throw invalid(`: ${start}`);
  return { rv: rv as number, start: key };
}

/**
 * The checks the list and watch handler makes of its query before storage sees it
 * (apimachinery pkg/apis/meta/internalversion/validation `ValidateListOptions`, answered 422
 * by apiserver endpoints/handlers/get.go `listOpts`). devapi serves no initial-events
 * stream, but checks `sendInitialEvents` as a server with the WatchList feature does.
 */
export function validateListOptions(query: URLSearchParams, watch: boolean): void {
  const match = query.get('resourceVersionMatch') ?? '';
  const resourceVersion = query.get('resourceVersion') ?? '';
  const continueToken = query.get('continue') ?? '';
  const sendInitialEvents = query.get('sendInitialEvents');
  const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
  const errors: FieldError[] = [];
  if (watch) {
    if (sendInitialEvents !== null && match !== 'NotOlderThan') errors.push(forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    if (match !== '') {
      if (sendInitialEvents === null) errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
      if (match !== 'NotOlderThan') errors.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', value: quote(match), detail: 'supported values: "NotOlderThan"' });
      if (continueToken !== '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    }
  } else {
    if (match !== '') {
      if (resourceVersion === '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
      if (continueToken !== '') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
      if (match !== 'Exact' && match !== 'NotOlderThan') errors.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', value: quote(match), detail: 'supported values: "Exact", "NotOlderThan", ""' });
      if (match === 'Exact' && resourceVersion === '0') errors.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
    }
    if (sendInitialEvents !== null) errors.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  }
  if (errors.length > 0) throw invalidOptions('ListOptions', 'meta.k8s.io', '', errors);
}

/** A list's resourceVersion and resourceVersionMatch, as the query gives them ('' when absent). */
export interface ListVersion {
  readonly resourceVersion: string;
  readonly match: string;
  /** Served through the watch cache (every resource but Events): a too-new version is retried after 1 s there. */
  readonly cached: boolean;
}

/**
 * apiserver pkg/storage/api_object_versioner.go `ParseResourceVersion`'s error (a storage
 * InvalidError): `resourceVersion: Invalid value: "x": strconv.ParseUint: parsing "x": invalid syntax`.
 */
export function resourceVersionProblem(text: string): string | undefined {
  if (text === '' || text === '0') return undefined;
  if (!/^\d+$/.test(text)) return `resourceVersion: Invalid value: ${JSON.stringify(text)}: strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`;
  if (BigInt(text) >= 1n << 64n) return `resourceVersion: Invalid value: ${JSON.stringify(text)}: strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range`;
  return undefined;
}

/** apiserver pkg/storage/errors.go `NewTooLargeResourceVersionError`: 504 Timeout with the ResourceVersionTooLarge cause. */
function tooLarge(wanted: number, current: number, retryAfterSeconds: number): ApiError {
  return new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${wanted}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
  }, retryAfterSeconds > 0 ? { 'Retry-After': String(retryAfterSeconds) } : {});
}

/**
 * The page of `resource` (in `namespace`, or all) that `continueText` and `limit` ask for,
 * of the objects `matches` accepts, at the revision `version` asks for (apiserver
 * pkg/storage/interfaces.go `ValidateListOptions` and etcd3/store.go `GetList`): none or "0"
 * reads the current state; NotOlderThan (or no match and no limit) the current state, unless
 * the version is ahead of it (504); Exact (or no match with a limit, the legacy exact read)
 * that revision, 410 once compacted. A continue token carries its own revision: a
 * resourceVersion beside it is refused.
 */
export function listPage(
  store: Store, resource: string, namespace: string | undefined, matches: (o: KubeObject) => boolean, limit: number, continueText: string | null,
  version: ListVersion = { resourceVersion: '', match: '', cached: true },
): { items: KubeObject[]; metadata: ListMeta } {
  const token = continueText ? decodeContinue(continueText) : undefined;
  const requested = version.resourceVersion;
  if (token !== undefined && requested !== '' && requested !== '0') throw badRequest('specifying resource version is not allowed when using continue');
  // Keys relative to the list's prefix, as the token carries them.
  const keyOf = (o: KubeObject): string => (namespace === undefined ? listKey(o) : o.metadata.name);
  let rv = store.resourceVersion;
  let objects: KubeObject[] | undefined;
  if (token !== undefined && token.rv > 0) {
    objects = store.listAt(resource, namespace, token.rv);
    if (!objects) throw new ExpiredContinue(encodeContinue({ rv: -1, start: token.start }));
    rv = token.rv;
  } else if (token === undefined && requested !== '' && requested !== '0') {
    const problem = resourceVersionProblem(requested);
    if (problem !== undefined) throw badRequest(`invalid resource version: ${problem}`);
    const wanted = Number(requested);
    const exact = version.match === 'Exact' || (version.match === '' && limit > 0);
    if (exact) {
      if (wanted > store.resourceVersion) throw tooLarge(wanted, store.resourceVersion, 0);
      objects = store.listAt(resource, namespace, wanted);
      if (!objects) throw expired('The resourceVersion for the provided list is too old.');
      rv = wanted;
    } else {
      if (wanted > store.resourceVersion) throw tooLarge(wanted, store.resourceVersion, version.cached ? 1 : 0);
      objects = store.list(resource, namespace);
    }
  } else {
    objects = store.list(resource, namespace);
  }
  const all = objects.filter(matches);
  let from = 0;
  if (token !== undefined) {
    from = all.findIndex((o) => compareBytes(keyOf(o), token.start) >= 0);
    if (from < 0) from = all.length;
  }
  const items = limit > 0 ? all.slice(from, from + limit) : all.slice(from);
  const last = items.at(-1);
  const more = limit > 0 && from + limit < all.length && last !== undefined;
  return {
    items,
    metadata: {
      resourceVersion: String(rv),
      ...(more ? { continue: encodeContinue({ rv, start: `${keyOf(last)}\u0000` }), remainingItemCount: all.length - from - items.length } : {}),
    },
  };
}
