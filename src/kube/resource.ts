/**
 * A typed client for one kind of Kubernetes object: the verbs csr-signer's
 * controllers use (list in pages, watch, get, create, update, update /status,
 * delete with preconditions), their paths built from the kind's group, version and
 * plural once. The kind-specific clients (csr-api.ts, trust-api.ts) are thin
 * layers over it; it knows nothing of signing.
 */
import { KubeApiError, type KubeHttp, type Query } from './http.js';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  /** Set once the object is being deleted (a namespace: Terminating). */
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface KubeObject {
  readonly metadata: ObjectMeta;
}

export interface ListPage<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
  readonly continue?: string;
}

export type WatchEvent<T> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string }
  | { readonly type: 'ERROR'; readonly status: { readonly code?: number; readonly reason?: string; readonly message?: string } };

/** One line of a watch stream, typed. */
export function toWatchEvent<T>(line: unknown): WatchEvent<T> {
  const e = line as { type?: string; object?: { metadata?: { resourceVersion?: string }; code?: number; reason?: string; message?: string } };
  switch (e.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { type: e.type, object: e.object as T };
    case 'BOOKMARK':
      return { type: 'BOOKMARK', resourceVersion: e.object?.metadata?.resourceVersion ?? '' };
    default:
      return { type: 'ERROR', status: e.object ?? {} };
  }
}

/** What a list+watch needs of an object. */
export interface Listed {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly resourceVersion?: string };
}

/**
 * An object's key in a cache and a work queue: `namespace/name` for a namespaced object
 * (client-go's cache.MetaNamespaceKeyFunc), its name for a cluster-scoped one.
 */
export const objectKey = (object: Listed): string => {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
};

/** The API calls of one list+watch. */
export interface Feed<T extends Listed> {
  list(options: { limit: number; continue?: string }): Promise<ListPage<T>>;
  /** Resolves when the server ends the watch, rejects on a transport error. */
  watch(resourceVersion: string, timeoutSeconds: number, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

/** Where a kind is served: `/api/v1` or `/apis/GROUP/VERSION`, its plural, and what its objects say they are. */
export interface Kind {
  readonly groupVersionPath: string;
  readonly plural: string;
  readonly apiVersion: string;
  readonly kind: string;
}

/** Server-side filters for list and watch; `namespace` narrows a namespaced kind to one namespace (absent: all). */
export interface Selectors {
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly namespace?: string;
}

/** Delete only the object that was looked at: another object of the same name (or a changed one) answers 409. */
export interface Preconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export interface Resource<T extends KubeObject> {
  list(options: { readonly limit: number; readonly continue?: string } & Selectors): Promise<ListPage<T>>;
  /** Resolves when the server ends the watch, rejects on a transport error. */
  watch(options: { readonly resourceVersion: string; readonly timeoutSeconds: number } & Selectors, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
  get(name: string, namespace?: string): Promise<T>;
  /** As `get`, with a 404 as undefined. */
  find(name: string, namespace?: string): Promise<T | undefined>;
  create(object: T): Promise<T>;
  /** PUT with the object's resourceVersion (409 when it changed meanwhile). */
  update(object: T): Promise<T>;
  /** PUT /status with the object's resourceVersion. */
  updateStatus(object: T): Promise<T>;
  delete(name: string, preconditions?: Preconditions, namespace?: string): Promise<void>;
  /** list + watch with these selectors, for a ListWatch. */
  feed(selectors?: Selectors): Feed<T>;
}

export function resource<T extends KubeObject>(kube: KubeHttp, kind: Kind): Resource<T> {
  const collection = (namespace: string | undefined): string =>
    namespace === undefined ? `${kind.groupVersionPath}/${kind.plural}` : `${kind.groupVersionPath}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}`;
  const item = (name: string, namespace: string | undefined): string => `${collection(namespace)}/${encodeURIComponent(name)}`;
  const typed = (object: T): unknown => ({ apiVersion: kind.apiVersion, kind: kind.kind, ...object });
  const selectorQuery = (s: Selectors): Query => ({ fieldSelector: s.fieldSelector, labelSelector: s.labelSelector });

  const client: Resource<T> = {
    async list({ limit, continue: from, namespace, ...selectors }) {
      const list = await kube.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', collection(namespace), {
        query: { ...selectorQuery(selectors), limit, continue: from },
      });
      const next = list.metadata?.continue;
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '', ...(next ? { continue: next } : {}) };
    },
    watch({ resourceVersion, timeoutSeconds, namespace, ...selectors }, onEvent, signal) {
      return kube.watch(collection(namespace), {
        ...selectorQuery(selectors), resourceVersion, allowWatchBookmarks: true, timeoutSeconds,
      }, (line) => onEvent(toWatchEvent<T>(line)), signal);
    },
    get: (name, namespace) => kube.request<T>('GET', item(name, namespace)),
    async find(name, namespace) {
      try {
        return await client.get(name, namespace);
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) return undefined;
        throw e;
      }
    },
    create: (object) => kube.request<T>('POST', collection(object.metadata.namespace), { body: typed(object) }),
    update: (object) => kube.request<T>('PUT', item(object.metadata.name, object.metadata.namespace), { body: typed(object) }),
    updateStatus: (object) => kube.request<T>('PUT', `${item(object.metadata.name, object.metadata.namespace)}/status`, { body: typed(object) }),
    async delete(name, preconditions, namespace) {
      await kube.request('DELETE', item(name, namespace), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', ...(preconditions ? { preconditions } : {}) },
      });
    },
    feed: (selectors = {}) => ({
      list: (page) => client.list({ ...page, ...selectors }),
      watch: (resourceVersion, timeoutSeconds, onEvent, signal) => client.watch({ resourceVersion, timeoutSeconds, ...selectors }, onEvent, signal),
    }),
  };
  return client;
}
