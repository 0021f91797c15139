/**
 * Publishes each signer's trust bundle (every CA its relying parties should trust)
 * to a ConfigMap in every namespace its selector matches, namespaces created later
 * included, and to a signer-linked ClusterTrustBundle where that API is served
 * (through certificates.k8s.io/v1 where served, else v1beta1: discovery decides).
 * Runs while this replica leads. Objects are csr-signer's only when they carry its
 * label and name its signer: any other object of the same name is never modified.
 * Bundles are re-published when the CA store changes, when a namespace appears or
 * its labels change, and every resync interval (someone may have edited or deleted
 * one). Transient API errors retry per target with backoff. A namespace being deleted
 * (Terminating) is skipped, not retried: the API refuses creates in it for good.
 */
import type { Logger } from 'pino';
import { encodePem, type CaCertificate } from '../pki/index.js';
import type { SignerConfig } from '../signer/types.js';
import { KubeApiError } from '../kube/http.js';
import { matchesSelector } from '../signer/label-selector.js';
import { ListWatch } from '../kube/list-watch.js';
import { noopObserver, type Observer, type TrustResult, type TrustTarget } from '../telemetry/observer.js';
import { systemClock, type Clock } from '../clock.js';
import { runWorkers, WorkQueue } from '../controller/queue.js';
import type { ClusterTrustBundle, ClusterTrustBundleVersion, ConfigMap, Namespace, ObjectMeta, TrustApi } from '../kube/trust-api.js';

/** Marks the objects csr-signer publishes; it changes no object without it. */
export const managedLabel = 'csr-signer.io/trust-bundle';
/** Which signer's bundle an object holds (a label value cannot hold a signerName's '/'). */
export const signerAnnotation = 'csr-signer.io/signer-name';

export interface TrustPublisherOptions {
  /** The signers with a `trust:` section. */
  readonly signers: readonly SignerConfig[];
  /** The signer's current trust bundle, signing CA first; empty while it has no CA. */
  readonly trust: (signerName: string) => readonly CaCertificate[];
  readonly api: TrustApi;
  readonly logger: Logger;
  readonly resyncIntervalMs: number;
  readonly watchQuietTimeoutMs: number;
  readonly retry: { readonly baseDelayMs: number; readonly maxDelayMs: number; readonly qps: number; readonly burst: number };
  readonly observer?: Observer;
  readonly clock?: Clock;
}

/** The PEM bundle, one CERTIFICATE block per CA, in the store's order. */
export const bundlePem = (cas: readonly CaCertificate[]): string => cas.map((c) => encodePem('CERTIFICATE', c.der)).join('');

type ClusterTrustBundleTarget = NonNullable<NonNullable<SignerConfig['trust']>['clusterTrustBundle']>;
type Key = { readonly kind: 'configmap'; readonly signer: SignerConfig; readonly namespace: string } | { readonly kind: 'clustertrustbundle'; readonly signer: SignerConfig };

const owned = (meta: ObjectMeta, signerName: string): boolean =>
  meta.labels?.[managedLabel] === 'true' && meta.annotations?.[signerAnnotation] === signerName;

export class TrustPublisher {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly source: ListWatch<Namespace> | undefined;
  readonly queue: WorkQueue;
  private readonly bySigner: ReadonlyMap<string, SignerConfig>;
  private readonly observer: Observer;
  private readonly clock: Clock;
  /** Targets found not owned, so the warning is logged once, not every resync. */
  private readonly warned = new Set<string>();
  /** Terminating namespaces already logged as skipped (by name and uid: one created again is new). */
  private readonly skippedLogged = new Set<string>();
  /** The ClusterTrustBundle API version in use (undefined: none served), and when discovery was last asked. */
  private served: { version: ClusterTrustBundleVersion | undefined; at: number } | undefined;
  private workers: Promise<void> | undefined;
  private timer: unknown;

  constructor(private readonly options: TrustPublisherOptions) {
    this.observer = options.observer ?? noopObserver;
    this.clock = options.clock ?? systemClock;
    this.bySigner = new Map(options.signers.map((s) => [s.name, s]));
    this.queue = new WorkQueue({ ...options.retry, clock: this.clock });
    if (options.signers.some((s) => s.trust?.configMap)) {
      this.source = new ListWatch<Namespace>({
        feed: options.api.namespaces,
        cache: {
          set: (ns) => this.namespaces.set(ns.metadata.name, ns),
          delete: (name) => {
            this.namespaces.delete(name);
            this.forgetSkipped(name);
          },
        },
        logFields: { watch: 'namespaces' },
        logger: options.logger,
        onChange: (name) => this.namespaceChanged(name),
        quietTimeoutMs: options.watchQuietTimeoutMs,
        clock: this.clock,
      });
    }
  }

  /** The namespace watch has listed once (or no signer publishes to ConfigMaps). */
  get synced(): boolean {
    return this.source?.synced ?? true;
  }

  start(): void {
    this.source?.start();
    this.workers ??= runWorkers(this.queue, 2, (key) => this.handle(key));
    this.resync();
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.queue.shutDown();
    await this.source?.stop();
    await this.workers;
  }

  /** The CA store has a new bundle for `signerName`: publish it everywhere. */
  caChanged(signerName: string): void {
    const signer = this.bySigner.get(signerName);
    if (signer) this.enqueueSigner(signer);
  }

  private resync(): void {
    for (const signer of this.options.signers) this.enqueueSigner(signer);
    this.timer = this.clock.setTimeout(() => this.resync(), this.options.resyncIntervalMs);
  }

  private enqueueSigner(signer: SignerConfig): void {
    if (signer.trust?.clusterTrustBundle) this.queue.add(JSON.stringify(['clustertrustbundle', signer.name]));
    if (signer.trust?.configMap) for (const namespace of this.namespaces.keys()) this.queue.add(JSON.stringify(['configmap', signer.name, namespace]));
  }

  private namespaceChanged(namespace: string): void {
    for (const signer of this.options.signers) if (signer.trust?.configMap) this.queue.add(JSON.stringify(['configmap', signer.name, namespace]));
  }

  private parse(key: string): Key | undefined {
    const [kind, signerName, namespace] = JSON.parse(key) as [string, string, string?];
    const signer = this.bySigner.get(signerName);
    if (!signer) return undefined;
    if (kind === 'configmap' && namespace !== undefined) return { kind, signer, namespace };
    return kind === 'clustertrustbundle' ? { kind, signer } : undefined;
  }

  private async handle(key: string): Promise<void> {
    const target = this.parse(key);
    if (!target) return;
    const pem = bundlePem(this.options.trust(target.signer.name));
    if (pem === '') return; // no CA yet: published once the store has one (caChanged)
    try {
      const result = target.kind === 'configmap'
        ? await this.publishConfigMap(target.signer, target.namespace, pem)
        : await this.publishClusterTrustBundle(target.signer, pem);
      if (result !== undefined) this.observer.trustPublished?.(target.signer.name, target.kind, result);
      this.queue.forget(key);
    } catch (e) {
      this.observer.trustPublished?.(target.signer.name, target.kind, 'error');
      const retryAfter = e instanceof KubeApiError ? e.retryAfterMs ?? 0 : 0;
      const delay = this.queue.addRateLimited(key, retryAfter);
      this.options.logger.warn({
        signer: target.signer.name, target: target.kind, ...(target.kind === 'configmap' ? { namespace: target.namespace } : {}),
        err: e, retryInMs: delay,
      }, 'could not publish trust bundle; will retry');
    }
  }

  private notOwned(signer: SignerConfig, target: TrustTarget, where: Record<string, string>): TrustResult {
    const key = JSON.stringify([signer.name, target, where]);
    if (!this.warned.has(key)) {
      this.warned.add(key);
      this.options.logger.warn({ signer: signer.name, target, ...where, label: managedLabel },
        'an object of the trust bundle\'s name exists without csr-signer\'s label; left alone');
    }
    return 'not-owned';
  }

  private meta(signer: SignerConfig, extraLabels: Readonly<Record<string, string>> = {}): { labels: Record<string, string>; annotations: Record<string, string> } {
    return { labels: { ...extraLabels, [managedLabel]: 'true' }, annotations: { [signerAnnotation]: signer.name } };
  }

  /**
   * A namespace being deleted gets nothing: kube-apiserver's NamespaceLifecycle admission
   * refuses every create in it (403 with a `NamespaceTerminating` cause) until it is gone,
   * so a retry could only fail again. Logged once per namespace (by uid: the same name
   * created again is a new namespace, published to as any other).
   */
  private skipTerminating(signer: SignerConfig, ns: Namespace): TrustResult {
    const key = `${ns.metadata.name}\u0000${ns.metadata.uid ?? ''}`;
    if (!this.skippedLogged.has(key)) {
      this.skippedLogged.add(key);
      this.options.logger.info({ signer: signer.name, namespace: ns.metadata.name }, 'namespace is being deleted; no trust bundle published there');
    }
    return 'skipped';
  }

  private forgetSkipped(namespace: string): void {
    for (const key of this.skippedLogged) if (key.startsWith(`${namespace}\u0000`)) this.skippedLogged.delete(key);
  }

  /** undefined: the namespace is gone or no longer selected, nothing was looked at. */
  private async publishConfigMap(signer: SignerConfig, namespace: string, pem: string): Promise<TrustResult | undefined> {
    const target = signer.trust?.configMap;
    const ns = this.namespaces.get(namespace);
    if (!target || !ns || !matchesSelector(target.namespaceSelector, ns.metadata.labels)) return undefined;
    if (ns.metadata.deletionTimestamp) return this.skipTerminating(signer, ns);
    const { api, logger } = this.options;
    const found = await api.getConfigMap(namespace, target.name);
    if (!found) {
      const { labels, annotations } = this.meta(signer);
      try {
        await api.createConfigMap({ metadata: { name: target.name, namespace, labels, annotations }, data: { [target.key]: pem } });
      } catch (e) {
        // The namespace turned Terminating after our cache last saw it.
        if (e instanceof KubeApiError && e.status === 403 && e.causes.includes('NamespaceTerminating')) return this.skipTerminating(signer, ns);
        throw e;
      }
      logger.info({ signer: signer.name, namespace, configMap: target.name }, 'trust bundle published');
      return 'created';
    }
    if (!owned(found.metadata, signer.name) || found.immutable === true) return this.notOwned(signer, 'configmap', { namespace, configMap: target.name });
    if (found.data?.[target.key] === pem) return 'unchanged';
    const updated: ConfigMap = { ...found, data: { ...found.data, [target.key]: pem } };
    await api.updateConfigMap(updated);
    logger.info({ signer: signer.name, namespace, configMap: target.name }, 'trust bundle updated');
    return 'updated';
  }

  /**
   * The version to publish ClusterTrustBundles through: v1 when served, else v1beta1,
   * else none. Asked again once a resync interval has passed, so a cluster that gains
   * v1 (or loses v1beta1 in an upgrade) is followed; each change is logged once.
   */
  private async clusterTrustBundleVersion(): Promise<ClusterTrustBundleVersion | undefined> {
    const now = this.clock.now();
    if (this.served === undefined || now - this.served.at >= this.options.resyncIntervalMs) {
      const served = await this.options.api.clusterTrustBundlesServed();
      const version = served.includes('v1') ? 'v1' : served.includes('v1beta1') ? 'v1beta1' : undefined;
      const changed = this.served === undefined || this.served.version !== version;
      if (changed && version === undefined) {
        this.options.logger.warn({ api: ['certificates.k8s.io/v1', 'certificates.k8s.io/v1beta1'] },
          'the ClusterTrustBundle API is not served (neither v1 nor the beta v1beta1); not publishing ClusterTrustBundles, checking again every resync');
      } else if (changed) {
        this.options.logger.info({ api: `certificates.k8s.io/${version}` }, 'publishing ClusterTrustBundles through this API version');
      }
      this.served = { version, at: now };
    }
    return this.served.version;
  }

  private async publishClusterTrustBundle(signer: SignerConfig, pem: string): Promise<TrustResult> {
    const target = signer.trust?.clusterTrustBundle;
    if (!target) return 'unchanged';
    const version = await this.clusterTrustBundleVersion();
    if (version === undefined) return 'unavailable';
    try {
      return await this.writeClusterTrustBundle(signer, target, version, pem);
    } catch (e) {
      // The version may have stopped being served (an upgrade turned v1beta1 off): the retry asks
      // discovery again, long before the next resync; the version is kept so a change is logged once.
      if (e instanceof KubeApiError && e.status === 404 && this.served) this.served = { ...this.served, at: -Infinity };
      throw e;
    }
  }

  private async writeClusterTrustBundle(signer: SignerConfig, target: ClusterTrustBundleTarget, version: ClusterTrustBundleVersion, pem: string): Promise<TrustResult> {
    const { api, logger } = this.options;
    const { labels, annotations } = this.meta(signer, target.labels);
    const found = await api.getClusterTrustBundle(version, target.name);
    const apiVersion = `certificates.k8s.io/${version}`;
    if (!found) {
      await api.createClusterTrustBundle(version, { metadata: { name: target.name, labels, annotations }, spec: { signerName: signer.name, trustBundle: pem } });
      logger.info({ signer: signer.name, clusterTrustBundle: target.name, api: apiVersion }, 'trust bundle published');
      return 'created';
    }
    if (!owned(found.metadata, signer.name)) return this.notOwned(signer, 'clustertrustbundle', { clusterTrustBundle: target.name });
    const wantLabels = { ...found.metadata.labels, ...labels };
    const sameLabels = Object.entries(wantLabels).every(([k, v]) => found.metadata.labels?.[k] === v);
    if (found.spec.trustBundle === pem && sameLabels) return 'unchanged';
    const updated: ClusterTrustBundle = { metadata: { ...found.metadata, labels: wantLabels }, spec: { ...found.spec, trustBundle: pem } };
    await api.updateClusterTrustBundle(version, updated);
    logger.info({ signer: signer.name, clusterTrustBundle: target.name, api: apiVersion }, 'trust bundle updated');
    return 'updated';
  }
}
