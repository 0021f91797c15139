/**
 * The facts a pod-certificate decision may need, read by name: the Pod a request
 * names (the optional Pod check: its uid, node and ServiceAccount) and the request's
 * Namespace (its labels, for a namespace selector). One GET each per decision, so the
 * signer judges against what the API says now; a cache of every Pod would cost memory
 * in proportion to the cluster for one read per certificate. RBAC: `get` on pods and
 * on namespaces, each only when the configuration needs it (rbac.ts podCertificateClusterRules).
 */
import type { KubeHttp } from './http.js';
import type { Namespace, Pod } from './objects.js';
import { resource } from './resource.js';

export type { Namespace, Pod } from './objects.js';

export interface PodFactsApi {
  /** The Pod `namespace/name`; null when there is none (404). Other errors reject. */
  getPod(namespace: string, name: string): Promise<Pod | null>;
  /** The Namespace `name`; null when there is none (404). Other errors reject. */
  getNamespace(name: string): Promise<Namespace | null>;
}

export function podFactsApi(kube: KubeHttp): PodFactsApi {
  const pods = resource<Pod>(kube, { groupVersionPath: '/api/v1', plural: 'pods', apiVersion: 'v1', kind: 'Pod' });
  const namespaces = resource<Namespace>(kube, { groupVersionPath: '/api/v1', plural: 'namespaces', apiVersion: 'v1', kind: 'Namespace' });
  return {
    getPod: async (namespace, name) => (await pods.find(name, namespace)) ?? null,
    getNamespace: async (name) => (await namespaces.find(name)) ?? null,
  };
}
