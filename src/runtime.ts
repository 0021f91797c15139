/**
 * The running signer, assembled: CAs (with hot reload), the API client, the
 * controllers while this replica leads (the signer, and the approver and the cleaner
 * when configured), the health and metrics sidecar, and an orderly stop.
 * `csr-signer run` and `csr-signer dev` both start one. With `signing: false` it
 * approves and cleans only: no CA is loaded, nothing is signed or published.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { RunConfig } from './config/types.js';
import type { ApproverConfig, CleanupConfig, Csr, PodCertificateRequest } from './signer/types.js';
import { neverApproved } from './config/index.js';
import { CaStore } from './trust/ca-store.js';
import type { Controller } from './controller/controller.js';
import { csrSigningController } from './reconcile/csr-signing.js';
import { csrApprovingController } from './reconcile/csr-approving.js';
import { csrCleaningController } from './reconcile/csr-cleaning.js';
import { MAX_CERTIFICATE_CHAIN_BYTES, podCertificateChainBytes, podCertificateSigners, podCertificateSigningController } from './reconcile/pcr-signing.js';
import {
  choosePodCertificateRequestVersion, podCertificateRequestApi, podCertificateRequestVersionsServed, type PodCertificateRequestApi, type PodCertificateRequestVersion,
} from './kube/pcr-api.js';
import { podFactsApi } from './kube/pod-api.js';
import { accessReviewApi } from './kube/access-review-api.js';
import { nodeApi } from './kube/node-api.js';
import { csrApi, type CsrApi } from './kube/csr-api.js';
import { loadKubeConfig } from './kube/config.js';
import { kubeHttp, type KubeHttp } from './kube/http.js';
import { LeaderElector } from './leader/leader-election.js';
import { leaseLock } from './leader/lease-lock.js';
import { retiredEarly } from './trust/early-retirement.js';
import { fingerprint, RotationRecord } from './trust/rotation-record.js';
import { trustApi } from './kube/trust-api.js';
import { TrustPublisher } from './trust/publisher.js';
import { buildApp } from './http/app.js';
import { listen } from './http/listen.js';
import { listenError } from './commands/exit.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { signerStates, watchState, type Snapshot, type WatchState } from './telemetry/snapshot.js';

/** The package's version, for csr_signer_build_info: package.json above src/ or dist/, or two levels above dist-dev/src/. */
function packageVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'csr-signer' && typeof pkg.version === 'string') return pkg.version;
    } catch { /* not there: the next candidate */ }
  }
  return 'unknown';
}

/** The longest wait between two attempts of PodCertificateRequest discovery at start (a watch's cap). */
const DISCOVERY_MAX_DELAY_MS = 30_000;

/**
 * The Lease holder identity: the host name and a UUID made at each start, as
 * kube-controller-manager's (`id + "_" + uuid`): a restarted pod (often PID 1 again)
 * must not pass for its old self and skip the wait.
 */
export const newIdentity = (host: string = hostname()): string => `${host}_${randomUUID()}`;

export class SignerRuntime {
  readonly identity = newIdentity();
  readonly registry = new Registry();
  readonly metrics: Metrics;
  readonly cas: CaStore;
  /** The signing controller while this replica leads; never with `signing: false`. */
  controller: Controller<Csr> | undefined;
  /** The approving controller while this replica leads, when `approver` is configured. */
  approver: Controller<Csr> | undefined;
  /** The cleaning controller while this replica leads, when `cleanup` is configured. */
  cleaner: Controller<Csr> | undefined;
  /** The PodCertificateRequest signing controller while this replica leads, when a signer has `podCertificates`. */
  podCertificates: Controller<PodCertificateRequest> | undefined;
  /** Publishes trust bundles while this replica leads; undefined when no signer has `trust:`. */
  publisher: TrustPublisher | undefined;
  private record: RotationRecord | undefined;
  /** Per signer, the fingerprints of its trust bundle as last loaded. */
  private trusted = new Map<string, Set<string>>();
  private http: KubeHttp | undefined;
  private api: CsrApi | undefined;
  private trustApi: ReturnType<typeof trustApi> | undefined;
  /** Per signer with podCertificates, its PodCertificateRequest client (the version discovery chose at start). */
  private pcrApis = new Map<string, PodCertificateRequestApi>();
  /** Why the PodCertificateRequest versions are not known yet, while discovery retries. */
  private discoveryError: string | undefined;
  /** The backoff discovery is waiting out, ended early by stop(). */
  private discoveryWait: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private elector: LeaderElector | undefined;
  private app: ReturnType<typeof buildApp> | undefined;
  private stopping = false;
  /** The previous controller finishing its signings after leadership was lost. */
  private draining: Promise<void> = Promise.resolve();
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  /** Where the sidecar listens, once started. */
  address: string | undefined;

  /** `env`: the process environment, for KUBECONFIG, HOME and the in-cluster service variables. */
  constructor(private readonly config: RunConfig, private readonly logger: Logger, private readonly env: Readonly<Record<string, string | undefined>> = {}) {
    this.metrics = createMetrics(this.registry, () => this.snapshot(), { build: { version: packageVersion(), nodeVersion: process.version } });
    // A key on a PKCS#11 token gets a session per worker unless ca.pkcs11.sessions says otherwise.
    this.cas = new CaStore(this.signing ? config.signers : [], {
      logger, observer: this.metrics, strictKeyPermissions: config.strictKeyPermissions, env, defaultSessions: config.workers,
    });
  }

  /** Whether this process signs (`signing`, absent: true). */
  get signing(): boolean {
    return this.config.signing !== false;
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    if (this.signing) {
      await this.cas.loadAll();
      this.cas.watch(config.caReloadIntervalMs);
    }
    const kube = await loadKubeConfig(config.kubeconfig, this.env);
    this.http = kubeHttp(kube.endpoint, this.metrics);
    this.api = csrApi(this.http, this.identity);
    const trust = trustApi(this.http);
    this.trustApi = trust;
    const where = config.rotationRecord;
    if (this.signing) this.record = new RotationRecord({ logger, ...(where ? { store: { api: trust, namespace: where.namespace, name: where.name } } : {}) });
    this.trusted = new Map(config.signers.map((s) => [s.name, new Set(this.cas.trust(s.name).map(fingerprint))]));
    this.cas.onChange((signer) => {
      this.warnEarlyRetirement(signer);
      this.publisher?.caChanged(signer);
    });
    this.loopDelay.enable();
    this.app = buildApp({
      registry: this.registry, snapshot: () => this.snapshot(), logger,
      // The worst event-loop delay since the previous probe, in ms.
      eventLoopLagMs: () => {
        const lag = this.loopDelay.max / 1e6;
        this.loopDelay.reset();
        return lag;
      },
    });
    try {
      this.address = await listen(this.app, config.httpAddress);
    } catch (e) {
      await this.cas.close();
      this.http.close();
      throw listenError('--http-address', config.httpAddress, e);
    }
    // After the sidecar listens, so that /readyz says why while discovery waits for the API server.
    try {
      this.pcrApis = await this.podCertificateApis(this.http);
    } catch (e) {
      await this.cas.close();
      this.loopDelay.disable();
      await this.app.close();
      this.http.close();
      throw e;
    }
    // A signal while discovery waited: the caller stops what started so far.
    if (this.stopping) return;
    const le = config.leaderElection;
    logger.info({
      server: kube.endpoint.server, user: kube.user, http: this.address, httpAddressSource: config.httpAddressSource, identity: this.identity,
      ...(le.enabled ? { lease: `${le.resourceNamespace}/${le.resourceName}`, leaseNamespaceSource: le.resourceNamespaceSource } : {}),
      // What runs, each said whether on or off: the signers signed for (none with signing off),
      // the approver (mode, signers with profiles) and the cleaner (ages).
      signing: this.signing,
      ...(this.signing ? { signers: config.signers.map((s) => s.name) } : {}),
      approver: config.approver ? approverSummary(config.approver, config.signers.map((s) => s.name)) : 'off',
      cleanup: config.cleanup ? cleanupAges(config.cleanup) : 'off',
      ...(this.pcrApis.size > 0 ? { podCertificates: [...this.pcrApis].map(([signer, api]) => `${signer} (certificates.k8s.io/${api.version})`) } : {}),
    }, 'started');
    for (const s of this.signing ? config.signers : []) {
      if (s.policy?.unrestricted === true) logger.warn({ signer: s.name }, 'signer is unrestricted: it signs any DNS name and IP address an approver approved (policy unrestricted: true)');
    }
    if (!config.leaderElection.enabled) {
      this.lead();
      return;
    }
    this.elector = new LeaderElector({
      lock: leaseLock(this.http, le.resourceNamespace, le.resourceName),
      identity: this.identity,
      config: le,
      logger,
      onStartedLeading: () => this.lead(),
      onStoppedLeading: () => void this.follow(),
    });
    this.elector.start();
  }

  /**
   * The PodCertificateRequest client of each signer with podCertificates (none with signing
   * off): the version its `apiVersion` names, or v1 when served, else v1beta1. Discovery is
   * retried while the API server does not answer; a cluster that answers that it serves
   * neither (or not the one named) stops the start with one sentence naming the Kubernetes
   * versions that do: that is the configuration asking for what the cluster lacks, and the pod
   * restarts (with the kubelet's backoff) after an upgrade that brings it, or a config change.
   */
  private async podCertificateApis(kube: KubeHttp): Promise<Map<string, PodCertificateRequestApi>> {
    const signers = this.signing ? podCertificateSigners(this.config.signers) : [];
    if (signers.length === 0) return new Map();
    const served = await this.podCertificateVersionsServed(kube);
    if (served === undefined) return new Map();
    return new Map(signers.map((s) => {
      const version = choosePodCertificateRequestVersion(s.name, s.podCertificates?.apiVersion ?? 'auto', served);
      return [s.name, podCertificateRequestApi(kube, version, served, this.identity)];
    }));
  }

  /**
   * The PodCertificateRequest versions the cluster serves, asked until it answers: a failed
   * request (connection refused or reset, a timeout, 5xx, 429, or a permission not granted
   * yet) says nothing about what is served, so it is retried after a capped, jittered backoff
   * with a warning each time, as a watch is, and /readyz fails `pod-certificate-api` with the
   * error meanwhile. Undefined when stopped while waiting.
   */
  private async podCertificateVersionsServed(kube: KubeHttp): Promise<PodCertificateRequestVersion[] | undefined> {
    const capMs = Math.min(this.config.retryMaxDelayMs, DISCOVERY_MAX_DELAY_MS);
    for (let failures = 1; !this.stopping; failures++) {
      try {
        const served = await podCertificateRequestVersionsServed(kube);
        this.discoveryError = undefined;
        return served;
      } catch (e) {
        if (this.stopping) break;
        const cap = Math.min(capMs, this.config.retryBaseDelayMs * 2 ** (failures - 1));
        const delay = Math.round(cap / 2 + (Math.random() * cap) / 2);
        this.discoveryError = `could not ask the API server which PodCertificateRequest versions it serves (attempt ${failures}): ${e instanceof Error ? e.message : String(e)}`;
        this.logger.warn({ err: e, retryInMs: delay, failures }, 'could not ask the API server which PodCertificateRequest versions it serves; retrying');
        await new Promise<void>((resolve) => {
          this.discoveryWait = { timer: setTimeout(resolve, delay), resolve };
        });
        this.discoveryWait = undefined;
      }
    }
    return undefined;
  }

  /** A CA that leaves the trust bundle while certificates it signed are still valid is an outage for whoever re-reads the bundle: say so. */
  private warnEarlyRetirement(signer: string): void {
    const before = this.trusted.get(signer) ?? new Set<string>();
    const after = new Set(this.cas.trust(signer).map(fingerprint));
    this.trusted.set(signer, after);
    for (const { ca, issued } of retiredEarly(signer, before, after, this.record?.latest() ?? new Map(), new Date())) {
      this.logger.warn({ signer, ca, caSubject: issued.subject, validUntil: issued.notAfter.toISOString() },
        'a CA left the trust bundle while certificates it signed are still valid; relying parties that re-read the bundle will reject them (csr-signer rotation status)');
    }
  }

  private lead(): void {
    // Leadership can come back while the last term's workers still finish: start after them.
    void this.draining.then(() => this.startController());
  }

  private startController(): void {
    if (this.stopping || this.controller || this.approver || this.cleaner || this.podCertificates || !this.api) return;
    if (this.elector && !this.elector.isLeader) return;
    const { config, logger } = this;
    this.record?.load().catch((e: unknown) => logger.warn({ err: e }, 'could not read the rotation record; it is read again before the next write'));
    const retry = { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs, qps: config.retryQps, burst: config.retryBurst };
    if (config.approver && this.http) {
      this.approver = csrApprovingController({
        approver: config.approver,
        signers: config.signers,
        api: this.api,
        nodes: nodeApi(this.http),
        reviews: accessReviewApi(this.http),
        logger,
        workers: config.workers,
        retry,
        watchQuietTimeoutMs: config.watchQuietTimeoutMs,
        limits: config.requestLimits,
        events: config.events,
        observer: this.metrics,
      });
      this.approver.start();
      logger.info({ approver: config.approver.mode, signers: config.approver.signers.map((e) => e.signerName) }, 'approving');
    }
    if (config.cleanup) {
      this.cleaner = csrCleaningController({
        api: this.api,
        logger,
        retry,
        watchQuietTimeoutMs: config.watchQuietTimeoutMs,
        ages: config.cleanup,
        onDeleted: (_csr, reason) => this.metrics.cleanupDeleted?.(reason),
      });
      this.cleaner.start();
      logger.info({ cleanup: cleanupAges(config.cleanup) }, 'cleaning');
    }
    if (!this.signing) return;
    const publishing = config.signers.filter((s) => s.trust !== undefined);
    if (publishing.length > 0 && this.trustApi) {
      this.publisher = new TrustPublisher({
        signers: publishing,
        trust: (name) => this.cas.trust(name),
        api: this.trustApi,
        logger,
        resyncIntervalMs: config.trustResyncIntervalMs,
        watchQuietTimeoutMs: config.watchQuietTimeoutMs,
        retry,
        observer: this.metrics,
      });
      this.publisher.start();
    }
    // What the CSR signer and the PodCertificateRequest signer are both given.
    const signing = {
      signers: config.signers,
      ca: this.cas.lookup,
      logger,
      workers: config.workers,
      retry,
      watchQuietTimeoutMs: config.watchQuietTimeoutMs,
      limits: config.requestLimits,
      events: config.events,
      observer: this.metrics,
      ...(this.record ? { record: this.record } : {}),
    };
    this.controller = csrSigningController({ ...signing, api: this.api });
    this.controller.start();
    logger.info({ signers: config.signers.map((s) => s.name), workers: config.workers }, 'watching');
    if (this.pcrApis.size > 0 && this.http) {
      this.podCertificates = podCertificateSigningController({ ...signing, apis: this.pcrApis, facts: podFactsApi(this.http) });
      this.podCertificates.start();
      logger.info({ signers: [...this.pcrApis.keys()] }, 'signing pod certificates');
    }
  }

  /** Lost the lease: stop taking work at once; signings in flight finish (their writes are still guarded by resourceVersion). */
  private async follow(): Promise<void> {
    const parts = [
      ...(this.controller ? ['signer'] : []), ...(this.podCertificates ? ['pod certificate signer'] : []), ...(this.publisher ? ['trust publisher'] : []),
      ...(this.approver ? ['approver'] : []), ...(this.cleaner ? ['cleaner'] : []),
    ];
    const running = this.takeControllers();
    if (running.length === 0) return;
    this.logger.warn({ stopped: parts }, `lost the lease; stopped the ${parts.join(', ')}`);
    this.draining = Promise.all(running.map((c) => c.stop())).then(() => undefined);
    await this.draining;
  }

  /** The running controllers and publisher, no longer this runtime's. */
  private takeControllers(): { stop(): Promise<void> }[] {
    const running = [this.controller, this.podCertificates, this.approver, this.cleaner, this.publisher].filter((c) => c !== undefined);
    this.controller = undefined;
    this.podCertificates = undefined;
    this.approver = undefined;
    this.cleaner = undefined;
    this.publisher = undefined;
    return running;
  }

  /**
   * Stops taking work, lets signings in flight finish within `timeoutMs`, releases
   * the lease so another replica takes over at once, closes the sidecar.
   */
  /**
   * A signal came while start() may still wait for the API server: it returns at once, with
   * nothing started that stop() does not end (stop() follows once it has returned).
   */
  interruptStart(): void {
    this.stopping = true;
    if (this.discoveryWait) {
      clearTimeout(this.discoveryWait.timer);
      this.discoveryWait.resolve();
    }
  }

  async stop(timeoutMs: number): Promise<void> {
    this.interruptStart();
    const drained = Promise.all(this.takeControllers().map((c) => c.stop()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); }),
    ]);
    clearTimeout(timer);
    if (timedOut) this.logger.warn({ timeoutSeconds: timeoutMs / 1000 }, 'signings still in flight at the shutdown timeout');
    await this.elector?.stop({ release: true });
    await this.cas.close();
    this.loopDelay.disable();
    await this.app?.close();
    this.http?.close();
  }

  snapshot(): Snapshot {
    const now = new Date();
    const controller = this.controller;
    const pods = this.podCertificates;
    const le = this.config.leaderElection;
    const sinceRenew = this.elector?.isLeader ? this.elector.sinceRenewMs() : undefined;
    const leaseError = this.elector?.leaseError;
    return {
      now,
      signers: signerStates({
        now,
        signers: this.signing ? this.config.signers.map((s) => s.name) : [],
        csrs: controller?.cache.values() ?? [],
        ca: (name) => {
          const { ca, error, keyProvider } = this.cas.state(name);
          const signer = this.config.signers.find((s) => s.name === name);
          const chainBytes = ca && signer?.podCertificates ? podCertificateChainBytes(signer, ca) : 0;
          const chain = chainBytes >= MAX_CERTIFICATE_CHAIN_BYTES
            ? { podCertificateChainTooLong: `the CA's intermediates are ${chainBytes} bytes of PEM, over the ${MAX_CERTIFICATE_CHAIN_BYTES} of a pod certificate's chain: PodCertificateRequests wait` } : {};
          return { ...(ca ? { ca: { subject: ca.certificate.subject, notAfter: ca.certificate.notAfter, ...chain } } : {}), ...(error ? { error } : {}), ...(keyProvider ? { keyProvider } : {}) };
        },
        trust: (name) => this.cas.trust(name),
        latest: this.record?.latest() ?? new Map(),
        // A signer of pod certificates alone has no CSR watch: its PodCertificateRequest watch is its watch.
        watch: (name) => controller?.sources.get(name) ?? pods?.sources.get(name),
        podCertificateSigners: this.signing ? podCertificateSigners(this.config.signers).map((s) => s.name) : [],
        pcrs: pods?.cache.values() ?? [],
      }),
      leader: {
        enabled: le.enabled,
        leading: le.enabled ? this.elector?.isLeader ?? false : true,
        ...(sinceRenew === undefined ? {} : { sinceRenewMs: sinceRenew }),
        renewDeadlineMs: le.renewDeadlineMs,
        identity: this.identity,
        ...(leaseError === undefined ? {} : { leaseError }),
      },
      watches: this.watchStates(now),
      watchQuietTimeoutMs: this.config.watchQuietTimeoutMs,
      ...(this.discoveryError === undefined ? {} : { podCertificateApiError: this.discoveryError }),
      queueDepth: [controller, pods, this.approver, this.cleaner].reduce((n, c) => n + (c?.queue.depth ?? 0), 0),
      stopping: this.stopping,
    };
  }

  /**
   * The approver's watch per signerName, the cleaner's, and the PodCertificateRequest watch of
   * each signer that serves CSRs too, while they run (a signer's own watch is in `signers`).
   */
  private watchStates(now: Date): WatchState[] {
    const approver = this.approver;
    const cleaner = this.cleaner;
    const csrWatches = this.controller?.sources;
    const pods = this.podCertificates;
    return [
      ...(pods ? [...pods.sources].filter(([signer]) => csrWatches?.has(signer) === true).map(([signer, watch]) => watchState(`pod-certificates:${signer}`, now, watch)) : []),
      ...(approver ? [...approver.sources].map(([signer, watch]) => watchState(`approver:${signer}`, now, watch)) : []),
      ...(cleaner ? [...cleaner.sources.values()].map((watch) => watchState('cleaner', now, watch)) : []),
    ];
  }
}

/**
 * The approver, as the start-up log shows it: its mode, each signer it approves for with
 * its profile, and each configured signer it leaves alone with the reason.
 */
function approverSummary(approver: ApproverConfig, signerNames: readonly string[]): Record<string, unknown> {
  const approved = new Set(approver.signers.map((e) => e.signerName));
  const leftOut = signerNames.filter((name) => !approved.has(name))
    .map((name) => ({ signer: name, reason: Object.hasOwn(neverApproved, name) ? neverApproved[name] : 'not listed under approver.signers' }));
  return {
    mode: approver.mode,
    signers: approver.signers.map((e) => `${e.signerName} (${e.profile})`),
    ...(leftOut.length > 0 ? { notApproved: leftOut } : {}),
  };
}

/** The cleaner's ages, as the start-up log shows them: whole seconds by rule. */
function cleanupAges(c: CleanupConfig): Record<string, string> {
  const s = (ms: number): string => `${Math.round(ms / 1000)}s`;
  return { issued: s(c.issuedMs), denied: s(c.deniedMs), failed: s(c.failedMs), pending: s(c.pendingMs), approvedUnissued: s(c.approvedUnissuedMs) };
}
