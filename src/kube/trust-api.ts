/**
 * The slice of the Kubernetes API that trust publishing and the rotation record
 * use: namespaces (list + watch), ConfigMaps and ClusterTrustBundles by name. A
 * small interface so the publisher is tested with an in-process fake;
 * `trustApi` implements it over HTTP. A 404 on a read is `undefined`, not an error.
 */
import { toWatchEvent } from './csr-api.js';
import type { Feed } from './list-watch.js';
import { KubeApiError, type KubeHttp } from './http.js';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Namespace {
  readonly metadata: ObjectMeta;
}

export interface ConfigMap {
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
  readonly binaryData?: Readonly<Record<string, string>>;
  readonly immutable?: boolean;
}

export interface ClusterTrustBundle {
  readonly metadata: ObjectMeta;
  readonly spec: { readonly signerName?: string; readonly trustBundle: string };
}

export interface TrustApi {
  readonly namespaces: Feed<Namespace>;
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  createConfigMap(configMap: ConfigMap): Promise<ConfigMap>;
  /** PUT with the object's resourceVersion (409 when it changed meanwhile). */
  updateConfigMap(configMap: ConfigMap): Promise<ConfigMap>;
  /** Whether certificates.k8s.io/v1beta1 serves clustertrustbundles (beta APIs are off by default). */
  clusterTrustBundlesServed(): Promise<boolean>;
  getClusterTrustBundle(name: string): Promise<ClusterTrustBundle | undefined>;
  createClusterTrustBundle(bundle: ClusterTrustBundle): Promise<ClusterTrustBundle>;
  updateClusterTrustBundle(bundle: ClusterTrustBundle): Promise<ClusterTrustBundle>;
}

const NAMESPACES = '/api/v1/namespaces';
const CTB_GROUP_VERSION = '/apis/certificates.k8s.io/v1beta1';
const CTBS = `${CTB_GROUP_VERSION}/clustertrustbundles`;

const configMapPath = (namespace: string, name?: string): string =>
  `${NAMESPACES}/${encodeURIComponent(namespace)}/configmaps${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

async function orAbsent<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404) return undefined;
    throw e;
  }
}

export function trustApi(kube: KubeHttp): TrustApi {
  return {
    namespaces: {
      async list(options) {
        const list = await kube.request<{ items?: Namespace[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', NAMESPACES, {
          query: { limit: options.limit, continue: options.continue },
        });
        const next = list.metadata?.continue;
        return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '', ...(next ? { continue: next } : {}) };
      },
      watch: (resourceVersion, timeoutSeconds, onEvent, signal) => kube.watch(NAMESPACES, {
        resourceVersion, allowWatchBookmarks: true, timeoutSeconds,
      }, (line) => onEvent(toWatchEvent<Namespace>(line)), signal),
    },

    getConfigMap: (namespace, name) => orAbsent(kube.request<ConfigMap>('GET', configMapPath(namespace, name))),
    createConfigMap: (cm) => kube.request<ConfigMap>('POST', configMapPath(cm.metadata.namespace ?? ''), { body: { apiVersion: 'v1', kind: 'ConfigMap', ...cm } }),
    updateConfigMap: (cm) => kube.request<ConfigMap>('PUT', configMapPath(cm.metadata.namespace ?? '', cm.metadata.name), { body: { apiVersion: 'v1', kind: 'ConfigMap', ...cm } }),

    async clusterTrustBundlesServed() {
      const list = await orAbsent(kube.request<{ resources?: { name?: string }[] }>('GET', CTB_GROUP_VERSION));
      return list?.resources?.some((r) => r.name === 'clustertrustbundles') ?? false;
    },
    getClusterTrustBundle: (name) => orAbsent(kube.request<ClusterTrustBundle>('GET', `${CTBS}/${encodeURIComponent(name)}`)),
    createClusterTrustBundle: (b) => kube.request<ClusterTrustBundle>('POST', CTBS, { body: { apiVersion: 'certificates.k8s.io/v1beta1', kind: 'ClusterTrustBundle', ...b } }),
    updateClusterTrustBundle: (b) => kube.request<ClusterTrustBundle>('PUT', `${CTBS}/${encodeURIComponent(b.metadata.name)}`, {
      body: { apiVersion: 'certificates.k8s.io/v1beta1', kind: 'ClusterTrustBundle', ...b },
    }),
  };
}
