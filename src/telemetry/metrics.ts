/**
 * csr-signer's Prometheus metrics on a Registry the composition root owns (never
 * prom-client's global one). Events arrive through the Observer the controller
 * calls; state (CA expiry, pending approvals, queue, leadership) is read from the
 * Snapshot when Prometheus scrapes, so it can never go stale between events.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Observer } from './observer.js';
import type { KubeRequestObserver } from '../kube/http.js';
import { approvedAt } from '../signer/conditions.js';
import { droppedRuntimeMetrics, kubeStatusCodes, signerMetrics, type MetricSpec } from './metrics-catalogue.js';
import { rotationPhases } from '../trust/rotation-plan.js';
import type { Snapshot } from './snapshot.js';
import { systemClock, type Clock } from '../clock.js';

export { metricsCatalogue, type MetricSpec, type MetricType } from './metrics-catalogue.js';

/** The Observer the controller reports to, and the API client's request observer, recording into `registry`. */
export interface Metrics extends Observer, KubeRequestObserver {
  readonly registry: Registry;
}

export interface MetricsOptions {
  /** Wall time; approval_to_issue_seconds is measured against it. Default: the system clock. */
  readonly clock?: Clock;
  /** Register prom-client's process and Node.js metrics too (default true). */
  readonly runtime?: boolean;
  /** csr_signer_build_info's labels; default: version "unknown", this process's Node.js. */
  readonly build?: { readonly version: string; readonly nodeVersion: string };
}

/** The `code` label of a request: a listed status, its class, or error (no answer). Bounded whatever the server sends. */
export function kubeCodeLabel(status: number | 'error'): string {
  if (status === 'error') return 'error';
  if ((kubeStatusCodes as readonly number[]).includes(status)) return String(status);
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : 'invalid';
}

/** The label value for a retry whose CSR (and so its signer) is not known any more. */
export const unknownSigner = 'unknown';

type Spec<L extends string> = MetricSpec & { readonly labels: readonly L[] };
type Collect<M> = (this: M) => void;

const counter = <L extends string>(registry: Registry, spec: Spec<L>, collect?: Collect<Counter<L>>): Counter<L> =>
  new Counter<L>({ name: spec.name, help: spec.help, labelNames: spec.labels, registers: [registry], ...(collect ? { collect } : {}) });

const gauge = <L extends string>(registry: Registry, spec: Spec<L>, collect: Collect<Gauge<L>>): Gauge<L> =>
  new Gauge<L>({ name: spec.name, help: spec.help, labelNames: spec.labels, registers: [registry], collect });

const histogram = <L extends string>(registry: Registry, spec: Spec<L>): Histogram<L> =>
  new Histogram<L>({ name: spec.name, help: spec.help, labelNames: spec.labels, buckets: [...(spec.buckets ?? [])], registers: [registry] });

/**
 * Registers csr-signer's metrics (and, unless `runtime: false`, the process and
 * Node.js ones promtool accepts) on `registry`, and returns the Observer that
 * feeds them. `snapshot` is called once per scrape.
 */
export function createMetrics(registry: Registry, snapshot: () => Snapshot, options: MetricsOptions = {}): Metrics {
  const clock = options.clock ?? systemClock;

  // Every collect() of one scrape runs in the same synchronous turn (Registry.metrics
  // starts each metric's get() before awaiting any), so one snapshot serves them all
  // and the gauges of a scrape agree with each other.
  let current: Snapshot | undefined;
  const state = (): Snapshot => {
    if (current === undefined) {
      current = snapshot();
      queueMicrotask(() => { current = undefined; });
    }
    return current;
  };

  const issued = counter(registry, signerMetrics.issued, function () {
    // Configured signers are listed from the start, so rate() and absent-series alerts work before the first issuance.
    for (const s of state().signers) this.inc({ signer: s.name }, 0);
  });
  const failed = counter(registry, signerMetrics.failed);
  const signDuration = histogram(registry, signerMetrics.signDuration);
  const approvalToIssue = histogram(registry, signerMetrics.approvalToIssue);
  gauge(registry, signerMetrics.approvedPending, function () {
    this.reset();
    for (const s of state().signers) this.set({ signer: s.name }, s.approvedPending);
  });
  gauge(registry, signerMetrics.approvedPendingOldest, function () {
    this.reset();
    for (const s of state().signers) this.set({ signer: s.name }, s.approvedPendingOldestSeconds);
  });
  gauge(registry, signerMetrics.caNotAfter, function () {
    this.reset();
    for (const s of state().signers) {
      if (s.ca) this.set({ signer: s.name }, Math.floor(s.ca.notAfter.getTime() / 1000));
    }
  });
  gauge(registry, signerMetrics.caLastIssuedNotAfter, function () {
    this.reset();
    for (const s of state().signers) {
      for (const { ca, notAfter } of s.lastIssued ?? []) this.set({ signer: s.name, ca }, Math.floor(notAfter.getTime() / 1000));
    }
  });
  gauge(registry, signerMetrics.trustedCas, function () {
    this.reset();
    for (const s of state().signers) this.set({ signer: s.name }, s.trustedCas ?? 0);
  });
  gauge(registry, signerMetrics.rotationPhase, function () {
    this.reset();
    for (const s of state().signers) {
      if (s.rotationPhase === undefined) continue;
      for (const phase of rotationPhases) this.set({ signer: s.name, phase }, phase === s.rotationPhase ? 1 : 0);
    }
  });
  const trustPublish = counter(registry, signerMetrics.trustPublish);
  const approvals = counter(registry, signerMetrics.approvals);
  const cleanupDeleted = counter(registry, signerMetrics.cleanupDeleted);
  const podCertificates = counter(registry, signerMetrics.podCertificates, function () {
    // Listed from the start for every signer with podCertificates, as certificates_issued_total is.
    for (const s of state().signers) if (s.podCertificatesPending !== undefined) this.inc({ signer: s.name, result: 'issued' }, 0);
  });
  const podCertificateDuration = histogram(registry, signerMetrics.podCertificateDuration);
  gauge(registry, signerMetrics.podCertificatesPending, function () {
    this.reset();
    for (const s of state().signers) if (s.podCertificatesPending !== undefined) this.set({ signer: s.name }, s.podCertificatesPending);
  });
  gauge(registry, signerMetrics.podCertificatesOldestPending, function () {
    this.reset();
    for (const s of state().signers) if (s.podCertificatesOldestPendingSeconds !== undefined) this.set({ signer: s.name }, s.podCertificatesOldestPendingSeconds);
  });
  const caReload = counter(registry, signerMetrics.caReload);
  const keyProviderErrors = counter(registry, signerMetrics.keyProviderErrors);
  const conflicts = counter(registry, signerMetrics.conflicts);
  gauge(registry, signerMetrics.queueDepth, function () {
    this.set(state().queueDepth);
  });
  const retries = counter(registry, signerMetrics.retries);
  const watchRestarts = counter(registry, signerMetrics.watchRestarts);
  gauge(registry, signerMetrics.leader, function () {
    const { leader } = state();
    this.set(!leader.enabled || leader.leading ? 1 : 0);
  });

  const build = options.build ?? { version: 'unknown', nodeVersion: process.version };
  gauge(registry, signerMetrics.buildInfo, function () {
    this.set({ version: build.version, node_version: build.nodeVersion }, 1);
  });
  const kubeRequests = counter(registry, signerMetrics.kubeRequests);
  const kubeRequestDuration = histogram(registry, signerMetrics.kubeRequestDuration);

  if (options.runtime !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of droppedRuntimeMetrics) registry.removeSingleMetric(name);
  }

  return {
    registry,
    issued(signer, signSeconds, csr) {
      issued.inc({ signer });
      signDuration.observe({ signer }, signSeconds);
      const approved = approvedAt(csr);
      // Clock skew between the API server and us can put the approval in our future: count it as immediate.
      if (approved !== undefined) approvalToIssue.observe({ signer }, Math.max(0, (clock.now() - approved) / 1000));
    },
    failed(signer, reason) {
      failed.inc({ signer, reason });
    },
    conflict() {
      conflicts.inc();
    },
    retried(signer) {
      retries.inc({ signer: signer ?? unknownSigner });
    },
    watchRestarted(signer, reason) {
      watchRestarts.inc({ signer, reason });
    },
    caReloaded(signer, result) {
      caReload.inc({ signer, result });
    },
    keyProviderError(signer, op) {
      keyProviderErrors.inc({ signer, op });
    },
    trustPublished(signer, target, result) {
      trustPublish.inc({ signer, target, result });
    },
    approval(signer, decision, rule) {
      approvals.inc({ signer, decision, rule });
    },
    cleanupDeleted(reason) {
      cleanupDeleted.inc({ reason });
    },
    podCertificate(signer, result, seconds) {
      podCertificates.inc({ signer, result });
      // Clock skew between the API server and us can put the creation in our future: count it as immediate.
      if (seconds !== undefined) podCertificateDuration.observe({ signer }, Math.max(0, seconds));
    },
    kubeRequest(verb, status, seconds) {
      kubeRequests.inc({ verb, code: kubeCodeLabel(status) });
      kubeRequestDuration.observe({ verb }, seconds);
    },
  };
}
