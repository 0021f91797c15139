/**
 * The slice of the Kubernetes API that trust publishing and the rotation record
 * use: namespaces (list + watch), ConfigMaps and ClusterTrustBundles by name. A
 * small interface so the publisher is tested with an in-process fake;
 * `trustApi` implements it over HTTP. A 404 on a read is `undefined`, not an error.
 */
import { KubeApiError, type KubeHttp } from './http.js';
import type { Feed } from './list-watch.js';
import type { ClusterTrustBundle, ConfigMap, Namespace } from './objects.js';
import { resource, type Resource } from './resource.js';

export type { ClusterTrustBundle, ConfigMap, Namespace, ObjectMeta } from './objects.js';

/**
 * The certificates.k8s.io versions that can serve ClusterTrustBundles, newest first:
 * v1 (Kubernetes 1.37 on, on by default) and v1beta1 (1.33 to 1.39, off by default).
 * Both are views of one stored object with the same fields (`spec.signerName`,
 * `spec.trustBundle`), so a bundle written through one is read through the other.
 */
export const clusterTrustBundleVersions = ['v1', 'v1beta1'] as const;
export type ClusterTrustBundleVersion = typeof clusterTrustBundleVersions[number];

export interface TrustApi {
  readonly namespaces: Feed<Namespace>;
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  createConfigMap(configMap: ConfigMap): Promise<ConfigMap>;
  /** PUT with the object's resourceVersion (409 when it changed meanwhile). */
  updateConfigMap(configMap: ConfigMap): Promise<ConfigMap>;
  /**
   * Which of `clusterTrustBundleVersions` serve clustertrustbundles, in that order, as
   * discovery says (each version's resource list; a version not served answers 404).
   */
  clusterTrustBundlesServed(): Promise<ClusterTrustBundleVersion[]>;
  getClusterTrustBundle(version: ClusterTrustBundleVersion, name: string): Promise<ClusterTrustBundle | undefined>;
  createClusterTrustBundle(version: ClusterTrustBundleVersion, bundle: ClusterTrustBundle): Promise<ClusterTrustBundle>;
  updateClusterTrustBundle(version: ClusterTrustBundleVersion, bundle: ClusterTrustBundle): Promise<ClusterTrustBundle>;
}

const groupVersionPath = (version: ClusterTrustBundleVersion): string => `/apis/certificates.k8s.io/${version}`;

export function trustApi(kube: KubeHttp): TrustApi {
  const namespaces = resource<Namespace>(kube, { groupVersionPath: '/api/v1', plural: 'namespaces', apiVersion: 'v1', kind: 'Namespace' });
  const configMaps = resource<ConfigMap>(kube, { groupVersionPath: '/api/v1', plural: 'configmaps', apiVersion: 'v1', kind: 'ConfigMap' });
  const bundleResource = (version: ClusterTrustBundleVersion): Resource<ClusterTrustBundle> => resource<ClusterTrustBundle>(kube, {
    groupVersionPath: groupVersionPath(version), plural: 'clustertrustbundles', apiVersion: `certificates.k8s.io/${version}`, kind: 'ClusterTrustBundle',
  });
  const bundles = { v1: bundleResource('v1'), v1beta1: bundleResource('v1beta1') };
  const serves = async (version: ClusterTrustBundleVersion): Promise<boolean> => {
    let list: { resources?: { name?: string }[] };
    try {
      list = await kube.request<{ resources?: { name?: string }[] }>('GET', groupVersionPath(version));
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return false;
      throw e;
    }
    return list.resources?.some((r) => r.name === 'clustertrustbundles') ?? false;
  };
  return {
    namespaces: namespaces.feed(),
    getConfigMap: (namespace, name) => configMaps.find(name, namespace),
    createConfigMap: (cm) => configMaps.create(cm),
    updateConfigMap: (cm) => configMaps.update(cm),

    async clusterTrustBundlesServed() {
      const served = await Promise.all(clusterTrustBundleVersions.map(serves));
      return clusterTrustBundleVersions.filter((_, i) => served[i] === true);
    },
    getClusterTrustBundle: (version, name) => bundles[version].find(name),
    createClusterTrustBundle: (version, b) => bundles[version].create(b),
    updateClusterTrustBundle: (version, b) => bundles[version].update(b),
  };
}
