/** The Observer feeds the counters and histograms; the snapshot feeds the gauges at each scrape. */
import t from 'tap';
import { Registry, register as globalRegistry } from 'prom-client';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { droppedRuntimeMetrics } from '../../src/telemetry/metrics-catalogue.js';
import type { Snapshot } from '../../src/telemetry/snapshot.js';
import { fixedClock } from '../helpers/clock.js';
import { approved, csrBuilder, denied, withCondition, withName } from '../helpers/csr.js';
import { electionOff, notLeading, now, snapshotBuilder, withQueueDepth, withSigner, type SnapshotModifier } from '../http/fixtures/snapshots.js';

const serving = 'example.com/serving';
const client = 'example.com/client';

function setup(snapshot: Snapshot = snapshotBuilder(), options: { nowMs?: number; runtime?: boolean } = {}): { metrics: Metrics; registry: Registry; scrapes: () => number } {
  const registry = new Registry();
  let calls = 0;
  const metrics = createMetrics(registry, () => { calls += 1; return snapshot; }, { clock: fixedClock(options.nowMs ?? now), runtime: options.runtime ?? false });
  return { metrics, registry, scrapes: () => calls };
}

type Labels = Record<string, string>;

/** The value of one sample (by its full name, e.g. `..._bucket`), or undefined when it is not exposed. */
async function sample(registry: Registry, name: string, labels: Labels = {}): Promise<number | undefined> {
  const family = name.replace(/_(bucket|sum|count)$/, '');
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === family || m.name === name);
  const values = (metric?.values ?? []) as { metricName?: string; labels: Labels; value: number }[];
  const match = values.find((v) => (v.metricName ?? metric?.name) === name
    && Object.keys(labels).length === Object.keys(v.labels).length
    && Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value));
  return match?.value;
}

const approvedAtTime = (lastUpdateTime: string | undefined, lastTransitionTime?: string) => withCondition({
  type: 'Approved', status: 'True', reason: 'Test',
  ...(lastUpdateTime === undefined ? {} : { lastUpdateTime }),
  ...(lastTransitionTime === undefined ? {} : { lastTransitionTime }),
});

void t.test('each Observer event moves its counter under bounded labels', async (t) => {
  const { metrics, registry } = setup();
  metrics.issued(serving, 0.004, csrBuilder(approved()));
  metrics.issued(serving, 0.02, csrBuilder(approved()));
  metrics.failed(client, 'SignerValidationFailure');
  metrics.conflict();
  metrics.retried(serving);
  metrics.retried(undefined);
  metrics.watchRestarted(serving, 'quiet');
  metrics.caReloaded(client, 'error');
  metrics.caReloaded(client, 'success');
  metrics.approval?.(serving, 'approved', 'policy');
  metrics.approval?.(serving, 'denied', 'policy');
  metrics.approval?.(serving, 'denied', 'policy');
  metrics.cleanupDeleted?.('Pending');
  const expected: readonly [string, Labels, number | undefined][] = [
    ['csr_signer_certificates_issued_total', { signer: serving }, 2],
    ['csr_signer_certificates_issued_total', { signer: client }, 0],
    ['csr_signer_requests_failed_total', { signer: client, reason: 'SignerValidationFailure' }, 1],
    ['csr_signer_status_write_conflicts_total', {}, 1],
    ['csr_signer_retries_total', { signer: serving }, 1],
    ['csr_signer_retries_total', { signer: 'unknown' }, 1],
    ['csr_signer_watch_restarts_total', { signer: serving, reason: 'quiet' }, 1],
    ['csr_signer_ca_reload_total', { signer: client, result: 'error' }, 1],
    ['csr_signer_ca_reload_total', { signer: client, result: 'success' }, 1],
    ['csr_signer_approvals_total', { signer: serving, decision: 'approved', rule: 'policy' }, 1],
    ['csr_signer_approvals_total', { signer: serving, decision: 'denied', rule: 'policy' }, 2],
    ['csr_signer_approvals_total', { signer: serving, decision: 'waiting', rule: 'policy' }, undefined],
    ['csr_signer_cleanup_deleted_total', { reason: 'Pending' }, 1],
    ['csr_signer_sign_duration_seconds_count', { signer: serving }, 2],
    ['csr_signer_sign_duration_seconds_sum', { signer: serving }, 0.024],
    ['csr_signer_sign_duration_seconds_bucket', { signer: serving, le: '0.005' }, 1],
    ['csr_signer_sign_duration_seconds_bucket', { signer: serving, le: '0.025' }, 2],
  ];
  for (const [name, labels, value] of expected) t.equal(await sample(registry, name, labels), value, `${name}${JSON.stringify(labels)}`);
});

void t.test('a PodCertificateRequest\'s end is counted by result, and its time from creation observed (skew counted as 0, unknown not observed)', async (t) => {
  const { metrics, registry } = setup();
  metrics.podCertificate?.(serving, 'issued', 2.5);
  metrics.podCertificate?.(serving, 'issued', -3);
  metrics.podCertificate?.(serving, 'denied', 40);
  metrics.podCertificate?.(serving, 'failed', undefined);
  const expected: readonly [string, Labels, number | undefined][] = [
    ['csr_signer_pod_certificates_total', { signer: serving, result: 'issued' }, 2],
    ['csr_signer_pod_certificates_total', { signer: serving, result: 'denied' }, 1],
    ['csr_signer_pod_certificates_total', { signer: serving, result: 'failed' }, 1],
    ['csr_signer_pod_certificate_duration_seconds_count', { signer: serving }, 3],
    ['csr_signer_pod_certificate_duration_seconds_sum', { signer: serving }, 42.5],
    ['csr_signer_pod_certificate_duration_seconds_bucket', { signer: serving, le: '0.1' }, 1],
    ['csr_signer_pod_certificate_duration_seconds_bucket', { signer: serving, le: '5' }, 2],
    ['csr_signer_certificates_issued_total', { signer: serving }, 0],
  ];
  for (const [name, labels, value] of expected) t.equal(await sample(registry, name, labels), value, `${name}${JSON.stringify(labels)}`);
});

interface ApprovalCase {
  readonly name: string;
  readonly csr: ReturnType<typeof csrBuilder>;
  /** Seconds observed, or undefined for no observation. */
  readonly seconds: number | undefined;
}

const approvals: readonly ApprovalCase[] = [
  { name: 'measures from the Approved condition lastUpdateTime to now', csr: csrBuilder(approvedAtTime('2029-12-31T23:58:30Z')), seconds: 90 },
  { name: 'accepts an offset time zone', csr: csrBuilder(approvedAtTime('2030-01-01T00:59:00+01:00')), seconds: 60 },
  { name: 'falls back to lastTransitionTime', csr: csrBuilder(approvedAtTime(undefined, '2029-12-31T23:59:50Z')), seconds: 10 },
  { name: 'counts an approval in our future (clock skew) as immediate', csr: csrBuilder(approvedAtTime('2030-01-01T00:00:05Z')), seconds: 0 },
  { name: 'skips a CSR whose Approved condition has no time', csr: csrBuilder(approved()), seconds: undefined },
  { name: 'skips a time that is not RFC 3339', csr: csrBuilder(approvedAtTime('Tue, 31 Dec 2029 23:58:30 GMT')), seconds: undefined },
  { name: 'skips a CSR with no Approved condition', csr: csrBuilder(denied()), seconds: undefined },
];

for (const c of approvals) {
  void t.test(`approval_to_issue_seconds ${c.name}`, async (t) => {
    const { metrics, registry } = setup();
    metrics.issued(serving, 0.01, c.csr);
    const count = await sample(registry, 'csr_signer_approval_to_issue_seconds_count', { signer: serving });
    t.equal(count, c.seconds === undefined ? undefined : 1);
    t.equal(await sample(registry, 'csr_signer_approval_to_issue_seconds_sum', { signer: serving }), c.seconds);
    t.equal(await sample(registry, 'csr_signer_certificates_issued_total', { signer: serving }), 1, 'the issuance is counted either way');
  });
}

interface GaugeCase {
  readonly name: string;
  readonly modifiers: readonly SnapshotModifier[];
  readonly expected: readonly [string, Labels, number | undefined][];
}

const gauges: readonly GaugeCase[] = [
  {
    name: 'approved CSRs waiting and the age of the oldest come from the snapshot, per signer',
    modifiers: [withSigner(serving, { approvedPending: 3, approvedPendingOldestSeconds: 420 })],
    expected: [
      ['csr_signer_approved_pending', { signer: serving }, 3],
      ['csr_signer_approved_pending_oldest_seconds', { signer: serving }, 420],
      ['csr_signer_approved_pending', { signer: client }, 0],
    ],
  },
  {
    name: 'the CA expiry is in Unix seconds, and absent for a signer with no CA',
    modifiers: [withSigner(client, { ca: undefined })],
    expected: [
      ['csr_signer_ca_not_after_timestamp_seconds', { signer: serving }, Date.parse('2031-01-01T00:00:00Z') / 1000],
      ['csr_signer_ca_not_after_timestamp_seconds', { signer: client }, undefined],
    ],
  },
  {
    name: 'pending PodCertificateRequests and the oldest\'s age come from the snapshot, for the signers with podCertificates only',
    modifiers: [withSigner(serving, { podCertificatesPending: 2, podCertificatesOldestPendingSeconds: 75 })],
    expected: [
      ['csr_signer_pod_certificates_pending', { signer: serving }, 2],
      ['csr_signer_pod_certificates_oldest_pending_seconds', { signer: serving }, 75],
      ['csr_signer_pod_certificates_total', { signer: serving, result: 'issued' }, 0],
      ['csr_signer_pod_certificates_pending', { signer: client }, undefined],
      ['csr_signer_pod_certificates_total', { signer: client, result: 'issued' }, undefined],
    ],
  },
  { name: 'the queue depth is the snapshot\'s', modifiers: [withQueueDepth(17)], expected: [['csr_signer_queue_depth', {}, 17]] },
  { name: 'a leader reports leader 1', modifiers: [], expected: [['csr_signer_leader', {}, 1]] },
  { name: 'a standby reports leader 0', modifiers: [notLeading], expected: [['csr_signer_leader', {}, 0]] },
  { name: 'with leader election off the replica signs, so leader is 1', modifiers: [electionOff], expected: [['csr_signer_leader', {}, 1]] },
];

for (const c of gauges) {
  void t.test(c.name, async (t) => {
    const { registry } = setup(snapshotBuilder(...c.modifiers));
    for (const [name, labels, value] of c.expected) t.equal(await sample(registry, name, labels), value, `${name}${JSON.stringify(labels)}`);
  });
}

void t.test('one scrape reads the snapshot once, however many gauges it feeds', async (t) => {
  const { registry, scrapes } = setup();
  await registry.metrics();
  t.equal(scrapes(), 1);
  await registry.metrics();
  t.equal(scrapes(), 2);
});

void t.test('no CSR name, common name or request reaches the metrics', async (t) => {
  const { metrics, registry } = setup();
  const csr = csrBuilder(withName('csr-secret-name'), approvedAtTime('2029-12-31T23:59:00Z'));
  metrics.issued(serving, 0.01, csr);
  const text = await registry.metrics();
  t.notMatch(text, /csr-secret-name/);
  t.notMatch(text, /web\.example\.com/);
  t.notOk(text.includes(csr.spec.request.slice(0, 40)));
});

void t.test('runtime metrics keep their standard names, without the gauges promtool rejects', async (t) => {
  const { registry } = setup(snapshotBuilder(), { runtime: true });
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles']) {
    t.ok(names.includes(name), name);
  }
  for (const name of droppedRuntimeMetrics) t.notOk(names.includes(name), `${name} dropped`);
});

void t.test('the Registry passed in is the only one written to', async (t) => {
  const before = (await globalRegistry.getMetricsAsJSON()).length;
  setup(snapshotBuilder(), { runtime: true });
  t.equal((await globalRegistry.getMetricsAsJSON()).length, before);
  t.equal(before, 0);
});

void t.test('csr_signer_build_info is 1, labelled with the version and the Node.js version', async (t) => {
  const registry = new Registry();
  createMetrics(registry, () => snapshotBuilder(), { runtime: false, build: { version: '1.2.3', nodeVersion: 'v24.0.0' } });
  t.equal(await sample(registry, 'csr_signer_build_info', { version: '1.2.3', node_version: 'v24.0.0' }), 1);
  const defaults = new Registry();
  createMetrics(defaults, () => snapshotBuilder(), { runtime: false });
  t.equal(await sample(defaults, 'csr_signer_build_info', { version: 'unknown', node_version: process.version }), 1, 'without a build: "unknown" and this process\'s Node.js');
});

void t.test('API requests are counted by verb and a bounded code, and timed by verb', async (t) => {
  const { metrics, registry } = setup();
  metrics.kubeRequest('PUT', 200, 0.02);
  metrics.kubeRequest('PUT', 409, 0.01);
  metrics.kubeRequest('GET', 'error', 30);
  metrics.kubeRequest('WATCH', 200, 0.003);
  metrics.kubeRequest('GET', 418, 0.1);
  metrics.kubeRequest('GET', 999, 0.1);
  const cases: [Labels, number][] = [
    [{ verb: 'PUT', code: '200' }, 1], [{ verb: 'PUT', code: '409' }, 1], [{ verb: 'GET', code: 'error' }, 1],
    [{ verb: 'WATCH', code: '200' }, 1], [{ verb: 'GET', code: '4xx' }, 1], [{ verb: 'GET', code: 'invalid' }, 1],
  ];
  for (const [labels, n] of cases) t.equal(await sample(registry, 'csr_signer_kube_requests_total', labels), n, JSON.stringify(labels));
  t.equal(await sample(registry, 'csr_signer_kube_request_duration_seconds_count', { verb: 'PUT' }), 2, 'two PUTs timed');
  t.equal(await sample(registry, 'csr_signer_kube_request_duration_seconds_bucket', { verb: 'GET', le: '60' }), 3, 'a 30 s failure falls in the last bucket');
  t.equal(await sample(registry, 'csr_signer_kube_request_duration_seconds_bucket', { verb: 'GET', le: '15' }), 2);
});
