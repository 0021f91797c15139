/**
 * The slice of the Kubernetes API the controller uses: CSRs of one signerName
 * (list, watch, get, /status) and Events. A small interface so the loop is
 * tested with an in-process fake; `csrApi` implements it over HTTP.
 */
import { rfc3339Seconds } from '../signer/conditions.js';
import type { Csr } from '../signer/types.js';
import type { KubeHttp } from './http.js';
import type { Feed } from './list-watch.js';

export interface CsrList {
  readonly items: readonly Csr[];
  readonly resourceVersion: string;
  readonly continue?: string;
}

export type WatchEvent<T = Csr> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string }
  | { readonly type: 'ERROR'; readonly status: { readonly code?: number; readonly reason?: string; readonly message?: string } };

export interface KubeEvent {
  readonly csr: Csr;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly now: Date;
}

export interface CsrApi {
  list(signerName: string, options: { limit: number; continue?: string }): Promise<CsrList>;
  /** Resolves when the server ends the watch, rejects on a transport error. */
  watch(signerName: string, resourceVersion: string, timeoutSeconds: number, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void>;
  get(name: string): Promise<Csr>;
  /** PUT /status with the object's resourceVersion; returns the stored object. */
  updateStatus(csr: Csr): Promise<Csr>;
  createEvent(event: KubeEvent): Promise<void>;
}

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const EVENTS_NAMESPACE = 'default';

const selector = (signerName: string): string => `spec.signerName=${signerName}`;

/** One line of a watch stream, typed. */
export function toWatchEvent<T = Csr>(line: unknown): WatchEvent<T> {
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

/** The list+watch of one signerName's CSRs, for a ListWatch. */
export function signerFeed(api: CsrApi, signerName: string): Feed<Csr> {
  return {
    list: (page) => api.list(signerName, page),
    watch: (resourceVersion, timeoutSeconds, onEvent, signal) => api.watch(signerName, resourceVersion, timeoutSeconds, onEvent, signal),
  };
}

export function csrApi(kube: KubeHttp, reportingInstance: string): CsrApi {
  return {
    async list(signerName, options) {
      const list = await kube.request<{ items?: Csr[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', CSRS, {
        query: { fieldSelector: selector(signerName), limit: options.limit, continue: options.continue },
      });
      const next = list.metadata?.continue;
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '', ...(next ? { continue: next } : {}) };
    },

    watch(signerName, resourceVersion, timeoutSeconds, onEvent, signal) {
      return kube.watch(CSRS, {
        fieldSelector: selector(signerName), resourceVersion, allowWatchBookmarks: true, timeoutSeconds,
      }, (line) => onEvent(toWatchEvent(line)), signal);
    },

    get: (name) => kube.request<Csr>('GET', `${CSRS}/${encodeURIComponent(name)}`),

    updateStatus: (csr) => kube.request<Csr>('PUT', `${CSRS}/${encodeURIComponent(csr.metadata.name)}/status`, {
      body: { ...csr, apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest' },
    }),

    async createEvent({ csr, type, reason, message, now }) {
      const time = rfc3339Seconds(now);
      await kube.request('POST', `/api/v1/namespaces/${EVENTS_NAMESPACE}/events`, {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${csr.metadata.name}.`, namespace: EVENTS_NAMESPACE },
          involvedObject: {
            apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name: csr.metadata.name,
            ...(csr.metadata.uid ? { uid: csr.metadata.uid } : {}),
          },
          type, reason, message,
          source: { component: 'csr-signer' },
          reportingComponent: 'csr-signer',
          reportingInstance,
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      });
    },
  };
}
