/**
 * An in-process TrustApi for the trust publisher's and the rotation record's unit
 * tests: namespaces with a list + watch fed from a history (push events with
 * putNamespace / removeNamespace), ConfigMaps and ClusterTrustBundles by name with
 * increasing resourceVersions and optimistic concurrency (409 on a stale one, 409
 * AlreadyExists on a second create), a switch for whether the ClusterTrustBundle
 * API is served, scripted faults and interleaved writes. Records every call.
 */
import { openWatcher, type FakeWatcher } from './fake-watcher.js';
import type { WatchEvent } from '../../src/kube/csr-api.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { Feed } from '../../src/kube/list-watch.js';
import type { ClusterTrustBundle, ConfigMap, Namespace, TrustApi } from '../../src/kube/trust-api.js';

export type TrustMethod =
  | 'listNamespaces' | 'watchNamespaces'
  | 'getConfigMap' | 'createConfigMap' | 'updateConfigMap'
  | 'clusterTrustBundlesServed' | 'getClusterTrustBundle' | 'createClusterTrustBundle' | 'updateClusterTrustBundle';

type Watcher = FakeWatcher<WatchEvent<Namespace>>;

const conflict = (what: string): KubeApiError =>
  new KubeApiError(409, 'Conflict', `Operation cannot be fulfilled on ${what}: the object has been modified; please apply your changes to the latest version and try again`, undefined);
const exists = (what: string): KubeApiError => new KubeApiError(409, 'AlreadyExists', `${what} already exists`, undefined);
const notFound = (what: string): KubeApiError => new KubeApiError(404, 'NotFound', `${what} not found`, undefined);

export class FakeTrustApi implements TrustApi {
  private rv = 100;
  readonly namespaceObjects = new Map<string, Namespace>();
  private readonly history: { rv: number; event: WatchEvent<Namespace> & { object: Namespace } }[] = [];
  private readonly watchers = new Set<Watcher>();
  /** `namespace/name` → ConfigMap. */
  readonly configMaps = new Map<string, ConfigMap>();
  readonly clusterTrustBundles = new Map<string, ClusterTrustBundle>();
  /** Whether certificates.k8s.io/v1beta1 serves clustertrustbundles. */
  served = true;
  readonly calls: TrustMethod[] = [];
  /** Every object a write call was given, in order. */
  readonly writes: { method: TrustMethod; object: ConfigMap | ClusterTrustBundle }[] = [];
  private readonly faults: { method: TrustMethod; error: Error }[] = [];
  private readonly before: { method: TrustMethod; run: () => void }[] = [];

  // ------------------------------------------------------------ test controls

  /** Creates or relabels a namespace, as a user would; open watches see ADDED or MODIFIED. */
  putNamespace(name: string, labels: Record<string, string> = {}): void {
    const type = this.namespaceObjects.has(name) ? 'MODIFIED' : 'ADDED';
    const object: Namespace = { metadata: { name, labels, resourceVersion: String(++this.rv) } };
    this.namespaceObjects.set(name, object);
    this.emit({ type, object });
  }

  removeNamespace(name: string): void {
    const current = this.namespaceObjects.get(name);
    if (!current) return;
    this.namespaceObjects.delete(name);
    this.emit({ type: 'DELETED', object: { metadata: { ...current.metadata, resourceVersion: String(++this.rv) } } });
  }

  /** Stores a ConfigMap as another writer would (a user, another replica); returns what is stored. */
  putConfigMap(cm: ConfigMap): ConfigMap {
    const stored = structuredClone({ ...cm, metadata: { ...cm.metadata, resourceVersion: String(++this.rv) } });
    this.configMaps.set(`${cm.metadata.namespace ?? ''}/${cm.metadata.name}`, stored);
    return structuredClone(stored);
  }

  putClusterTrustBundle(b: ClusterTrustBundle): ClusterTrustBundle {
    const stored = structuredClone({ ...b, metadata: { ...b.metadata, resourceVersion: String(++this.rv) } });
    this.clusterTrustBundles.set(b.metadata.name, stored);
    return structuredClone(stored);
  }

  configMap(namespace: string, name: string): ConfigMap | undefined {
    return this.configMaps.get(`${namespace}/${name}`);
  }

  /** The next call of `method` throws `error` (a 500 by default). */
  failNext(method: TrustMethod, error: Error = new KubeApiError(500, 'InternalError', 'injected', undefined)): void {
    this.faults.push({ method, error });
  }

  /** Runs `run` just before the next call of `method` is served: another writer getting in between. */
  beforeNext(method: TrustMethod, run: () => void): void {
    this.before.push({ method, run });
  }

  count(...methods: TrustMethod[]): number {
    return this.calls.filter((c) => methods.includes(c)).length;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // ------------------------------------------------------------ the API

  private enter(method: TrustMethod): Error | undefined {
    this.calls.push(method);
    const hook = this.before.findIndex((b) => b.method === method);
    if (hook >= 0) this.before.splice(hook, 1)[0]?.run();
    const i = this.faults.findIndex((f) => f.method === method);
    return i >= 0 ? this.faults.splice(i, 1)[0]?.error : undefined;
  }

  private emit(event: WatchEvent<Namespace> & { object: Namespace }): void {
    this.history.push({ rv: this.rv, event });
    for (const w of this.watchers) w.onEvent(structuredClone(event));
  }

  readonly namespaces: Feed<Namespace> = {
    list: (options) => {
      const fault = this.enter('listNamespaces');
      if (fault) return Promise.reject(fault);
      const all = [...this.namespaceObjects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
      const start = Number(options.continue ?? 0);
      const items = all.slice(start, start + options.limit).map((n) => structuredClone(n));
      const next = start + options.limit < all.length ? String(start + options.limit) : undefined;
      return Promise.resolve({ items, resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) });
    },
    watch: (resourceVersion, _timeoutSeconds, onEvent, signal) => new Promise<void>((resolve, reject) => {
      const fault = this.enter('watchNamespaces');
      if (fault) return reject(fault);
      const watcher = openWatcher(this.watchers, {}, onEvent, signal, resolve, reject);
      const from = Number(resourceVersion);
      for (const h of this.history) if (h.rv > from) watcher.onEvent(structuredClone(h.event));
    }),
  };

  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    const fault = this.enter('getConfigMap');
    if (fault) return Promise.reject(fault);
    const found = this.configMap(namespace, name);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  createConfigMap(cm: ConfigMap): Promise<ConfigMap> {
    const fault = this.enter('createConfigMap');
    if (fault) return Promise.reject(fault);
    this.writes.push({ method: 'createConfigMap', object: structuredClone(cm) });
    const { namespace = '', name } = cm.metadata;
    if (this.configMap(namespace, name)) return Promise.reject(exists(`configmaps "${name}"`));
    return Promise.resolve(this.putConfigMap(cm));
  }

  updateConfigMap(cm: ConfigMap): Promise<ConfigMap> {
    const fault = this.enter('updateConfigMap');
    if (fault) return Promise.reject(fault);
    this.writes.push({ method: 'updateConfigMap', object: structuredClone(cm) });
    const { namespace = '', name } = cm.metadata;
    const current = this.configMap(namespace, name);
    if (!current) return Promise.reject(notFound(`configmaps "${name}"`));
    if (cm.metadata.resourceVersion !== current.metadata.resourceVersion) return Promise.reject(conflict(`configmaps "${name}"`));
    if (current.immutable === true) return Promise.reject(new KubeApiError(422, 'Invalid', `configmaps "${name}" is immutable`, undefined));
    return Promise.resolve(this.putConfigMap(cm));
  }

  clusterTrustBundlesServed(): Promise<boolean> {
    const fault = this.enter('clusterTrustBundlesServed');
    return fault ? Promise.reject(fault) : Promise.resolve(this.served);
  }

  getClusterTrustBundle(name: string): Promise<ClusterTrustBundle | undefined> {
    const fault = this.enter('getClusterTrustBundle');
    if (fault) return Promise.reject(fault);
    if (!this.served) return Promise.reject(notFound('the server could not find the requested resource'));
    const found = this.clusterTrustBundles.get(name);
    return Promise.resolve(found ? structuredClone(found) : undefined);
  }

  createClusterTrustBundle(b: ClusterTrustBundle): Promise<ClusterTrustBundle> {
    const fault = this.enter('createClusterTrustBundle');
    if (fault) return Promise.reject(fault);
    this.writes.push({ method: 'createClusterTrustBundle', object: structuredClone(b) });
    if (!this.served) return Promise.reject(notFound('the server could not find the requested resource'));
    if (this.clusterTrustBundles.has(b.metadata.name)) return Promise.reject(exists(`clustertrustbundles "${b.metadata.name}"`));
    return Promise.resolve(this.putClusterTrustBundle(b));
  }

  updateClusterTrustBundle(b: ClusterTrustBundle): Promise<ClusterTrustBundle> {
    const fault = this.enter('updateClusterTrustBundle');
    if (fault) return Promise.reject(fault);
    this.writes.push({ method: 'updateClusterTrustBundle', object: structuredClone(b) });
    const current = this.clusterTrustBundles.get(b.metadata.name);
    if (!current) return Promise.reject(notFound(`clustertrustbundles "${b.metadata.name}"`));
    if (b.metadata.resourceVersion !== current.metadata.resourceVersion) return Promise.reject(conflict(`clustertrustbundles "${b.metadata.name}"`));
    return Promise.resolve(this.putClusterTrustBundle(b));
  }
}
