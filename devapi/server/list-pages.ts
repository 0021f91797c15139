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
import { badRequest, ExpiredContinue, type ApiError } from '../api/errors.js';
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
 * The page of `resource` (in `namespace`, or all) that `continueText` and `limit` ask for,
 * of the objects `matches` accepts.
 */
export function listPage(
  store: Store, resource: string, namespace: string | undefined, matches: (o: KubeObject) => boolean, limit: number, continueText: string | null,
): { items: KubeObject[]; metadata: ListMeta } {
  const token = continueText ? decodeContinue(continueText) : undefined;
  // Keys relative to the list's prefix, as the token carries them.
  const keyOf = (o: KubeObject): string => (namespace === undefined ? listKey(o) : o.metadata.name);
  let rv = store.resourceVersion;
  let objects: KubeObject[] | undefined;
  if (token !== undefined && token.rv > 0) {
    objects = store.listAt(resource, namespace, token.rv);
    if (!objects) throw new ExpiredContinue(encodeContinue({ rv: -1, start: token.start }));
    rv = token.rv;
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
