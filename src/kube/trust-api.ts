/**
 * The slice of the Kubernetes API that trust publishing and the rotation record
 * use: namespaces (list + watch), ConfigMaps and ClusterTrustBundles by name. A
 * small interface so the publisher is tested with an in-process fake;
 * `trustApi` implements it over HTTP. A 404 on a read is `undefined`, not an error.
 */
import { KubeApiError, type KubeHttp } from './http.js';
import type { Feed } from './list-watch.js';
import type { ClusterTrustBundle, ConfigMap, Namespace } from './objects.js';
import { resource } from './resource.js';

export type { ClusterTrustBundle, ConfigMap, Namespace, ObjectMeta } from './objects.js';

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

const CTB_GROUP_VERSION = '/apis/certificates.k8s.io/v1beta1';

export function trustApi(kube: KubeHttp): TrustApi {
  const namespaces = resource<Namespace>(kube, { groupVersionPath: '/api/v1', plural: 'namespaces', apiVersion: 'v1', kind: 'Namespace' });
  const configMaps = resource<ConfigMap>(kube, { groupVersionPath: '/api/v1', plural: 'configmaps', apiVersion: 'v1', kind: 'ConfigMap' });
  const bundles = resource<ClusterTrustBundle>(kube, {
    groupVersionPath: CTB_GROUP_VERSION, plural: 'clustertrustbundles', apiVersion: 'certificates.k8s.io/v1beta1', kind: 'ClusterTrustBundle',
  });
  return {
    namespaces: namespaces.feed(),
    getConfigMap: (namespace, name) => configMaps.find(name, namespace),
    createConfigMap: (cm) => configMaps.create(cm),
    updateConfigMap: (cm) => configMaps.update(cm),

    async clusterTrustBundlesServed() {
      let list: { resources?: { name?: string }[] };
      try {
        list = await kube.request<{ resources?: { name?: string }[] }>('GET', CTB_GROUP_VERSION);
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) return false;
        throw e;
      }
      return list.resources?.some((r) => r.name === 'clustertrustbundles') ?? false;
    },
    getClusterTrustBundle: (name) => bundles.find(name),
    createClusterTrustBundle: (b) => bundles.create(b),
    updateClusterTrustBundle: (b) => bundles.update(b),
  };
}
