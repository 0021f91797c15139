/**
 * An in-process TrustApi for the trust publisher's and the rotation record's unit
 * tests: a thin adapter over three FakeResources sharing one resourceVersion counter
 * — namespaces (list + history-fed watch; push events with putNamespace /
 * removeNamespace), ConfigMaps by namespace/name and ClusterTrustBundles by name
 * (409 on a stale resourceVersion, 409 AlreadyExists on a second create). Adds what
 * only this API has: which ClusterTrustBundle API versions are served (v1, v1beta1:
 * one store, as on a cluster), and immutable ConfigMaps. Scripted faults and interleaved writes; records every call.
 */
import { FakeFaults, FakeResource, Revisions } from './fake-resource.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { Feed } from '../../src/kube/list-watch.js';
import { clusterTrustBundleVersions, type ClusterTrustBundle, type ClusterTrustBundleVersion, type ConfigMap, type Namespace, type TrustApi } from '../../src/kube/trust-api.js';

export type TrustMethod =
  | 'listNamespaces' | 'watchNamespaces'
  | 'getConfigMap' | 'createConfigMap' | 'updateConfigMap'
  | 'clusterTrustBundlesServed' | 'getClusterTrustBundle' | 'createClusterTrustBundle' | 'updateClusterTrustBundle';

const notServed = (): KubeApiError => new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', undefined);

export class FakeTrustApi implements TrustApi {
  private readonly revisions = new Revisions();
  readonly namespaceResource = new FakeResource<Namespace>('namespaces', this.revisions);
  readonly configMapResource = new FakeResource<ConfigMap>('configmaps', this.revisions, (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  readonly clusterTrustBundleResource = new FakeResource<ClusterTrustBundle>('clustertrustbundles', this.revisions);
  private readonly faults = new FakeFaults<TrustMethod>();
  /** The certificates.k8s.io versions that serve clustertrustbundles (both, as Kubernetes 1.37 with v1beta1 turned on). */
  servedVersions: ClusterTrustBundleVersion[] = [...clusterTrustBundleVersions];
  /** Every object a write call was given, in order (with the API version, for ClusterTrustBundles). */
  readonly writes: { method: TrustMethod; object: ConfigMap | ClusterTrustBundle; version?: ClusterTrustBundleVersion }[] = [];
  /** The API version of every ClusterTrustBundle read or write, in order. */
  readonly clusterTrustBundleCalls: { method: TrustMethod; version: ClusterTrustBundleVersion }[] = [];

  /** Whether any version serves clustertrustbundles; setting it serves both or none. */
  get served(): boolean {
    return this.servedVersions.length > 0;
  }

  set served(on: boolean) {
    this.servedVersions = on ? [...clusterTrustBundleVersions] : [];
  }

  // ------------------------------------------------------------ test controls

  get namespaceObjects(): Map<string, Namespace> {
    return this.namespaceResource.objects;
  }

  /** `namespace/name` → ConfigMap. */
  get configMaps(): Map<string, ConfigMap> {
    return this.configMapResource.objects;
  }

  get clusterTrustBundles(): Map<string, ClusterTrustBundle> {
    return this.clusterTrustBundleResource.objects;
  }

  get calls(): TrustMethod[] {
    return this.faults.calls;
  }

  get openWatches(): number {
    return this.namespaceResource.openWatches;
  }

  /** Creates or relabels a namespace, as a user would; open watches see ADDED or MODIFIED. */
  putNamespace(name: string, labels: Record<string, string> = {}): void {
    this.namespaceResource.put({ metadata: { name, labels } });
  }

  /** Deletes a namespace as the API server begins to: deletionTimestamp set (MODIFIED), creates in it refused with 403. */
  terminateNamespace(name: string): void {
    const ns = this.namespaceObjects.get(name);
    if (ns) this.namespaceResource.put({ ...ns, metadata: { ...ns.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
  }

  removeNamespace(name: string): void {
    this.namespaceResource.remove(name);
  }

  /** Stores a ConfigMap as another writer would (a user, another replica); returns what is stored. */
  putConfigMap(cm: ConfigMap): ConfigMap {
    return structuredClone(this.configMapResource.put(cm));
  }

  putClusterTrustBundle(b: ClusterTrustBundle): ClusterTrustBundle {
    return structuredClone(this.clusterTrustBundleResource.put(b));
  }

  configMap(namespace: string, name: string): ConfigMap | undefined {
    return this.configMaps.get(`${namespace}/${name}`);
  }

  /** The next call of `method` throws `error` (a 500 by default). */
  failNext(method: TrustMethod, error?: Error): void {
    this.faults.failNext(method, error);
  }

  /** Runs `run` just before the next call of `method` is served: another writer getting in between. */
  beforeNext(method: TrustMethod, run: () => void): void {
    this.faults.beforeNext(method, run);
  }

  count(...methods: TrustMethod[]): number {
    return this.faults.count(...methods);
  }

  // ------------------------------------------------------------ the API

  private serve<R>(method: TrustMethod, call: () => R): Promise<R> {
    return this.faults.serve(method, call);
  }

  private record<O extends ConfigMap | ClusterTrustBundle>(method: TrustMethod, object: O, version?: ClusterTrustBundleVersion): void {
    this.writes.push({ method, object: structuredClone(object), ...(version ? { version } : {}) });
  }

  /** Records a ClusterTrustBundle call; a version not served answers 404, as the API server does. */
  private bundleCall(method: TrustMethod, version: ClusterTrustBundleVersion): void {
    this.clusterTrustBundleCalls.push({ method, version });
    if (!this.servedVersions.includes(version)) throw notServed();
  }

  readonly namespaces: Feed<Namespace> = {
    list: (options) => this.serve('listNamespaces', () => this.namespaceResource.list(options)),
    watch: (resourceVersion, _timeoutSeconds, onEvent, signal) => {
      const fault = this.faults.enter('watchNamespaces');
      return fault ? Promise.reject(fault) : this.namespaceResource.watch(resourceVersion, onEvent, signal);
    },
  };

  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.serve('getConfigMap', () => {
      const found = this.configMap(namespace, name);
      return found ? structuredClone(found) : undefined;
    });
  }

  createConfigMap(cm: ConfigMap): Promise<ConfigMap> {
    return this.serve('createConfigMap', () => {
      const namespace = cm.metadata.namespace ?? '';
      if (this.namespaceObjects.get(namespace)?.metadata.deletionTimestamp) {
        throw new KubeApiError(403, 'Forbidden', `403 Forbidden: configmaps "${cm.metadata.name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, undefined, ['NamespaceTerminating']);
      }
      this.record('createConfigMap', cm);
      return structuredClone(this.configMapResource.create(cm));
    });
  }

  updateConfigMap(cm: ConfigMap): Promise<ConfigMap> {
    return this.serve('updateConfigMap', () => {
      this.record('updateConfigMap', cm);
      return structuredClone(this.configMapResource.update(cm, {
        check: (current) => current.immutable === true
          ? new KubeApiError(422, 'Invalid', `configmaps "${cm.metadata.name}" is immutable`, undefined)
          : undefined,
      }));
    });
  }

  clusterTrustBundlesServed(): Promise<ClusterTrustBundleVersion[]> {
    return this.serve('clusterTrustBundlesServed', () => clusterTrustBundleVersions.filter((v) => this.servedVersions.includes(v)));
  }

  getClusterTrustBundle(version: ClusterTrustBundleVersion, name: string): Promise<ClusterTrustBundle | undefined> {
    return this.serve('getClusterTrustBundle', () => {
      this.bundleCall('getClusterTrustBundle', version);
      const found = this.clusterTrustBundles.get(name);
      return found ? structuredClone(found) : undefined;
    });
  }

  createClusterTrustBundle(version: ClusterTrustBundleVersion, b: ClusterTrustBundle): Promise<ClusterTrustBundle> {
    return this.serve('createClusterTrustBundle', () => {
      this.record('createClusterTrustBundle', b, version);
      this.bundleCall('createClusterTrustBundle', version);
      return structuredClone(this.clusterTrustBundleResource.create(b));
    });
  }

  updateClusterTrustBundle(version: ClusterTrustBundleVersion, b: ClusterTrustBundle): Promise<ClusterTrustBundle> {
    return this.serve('updateClusterTrustBundle', () => {
      this.record('updateClusterTrustBundle', b, version);
      this.bundleCall('updateClusterTrustBundle', version);
      return structuredClone(this.clusterTrustBundleResource.update(b));
    });
  }
}
