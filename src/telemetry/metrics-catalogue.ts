/**
 * Every metric /metrics serves, as data: csr-signer's own (built from these entries
 * by metrics.ts) and the process and Node.js runtime metrics prom-client collects.
 * docs/metrics.md lists the same entries; a test keeps the three in step.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  /** Label names; values are bounded (configured signer names, condition reasons, results). */
  readonly labels: readonly string[];
  readonly help: string;
  /** Histogram bucket upper bounds, in seconds. */
  readonly buckets?: readonly number[];
}

/** 1 ms to 10 s: parse, decide and sign take milliseconds; an RSA 4096 key or a slow KMS takes seconds. */
const signBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** 100 ms to 1 h: an approval is normally answered within a second; minutes mean a backlog or an outage. */
const approvalBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;

/** client-go's rest_client_request_duration_seconds buckets (k8s.io/component-base/metrics/prometheus/restclient): 5 ms to 60 s. */
const kubeRequestBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60] as const;

/** The status codes the request metrics name; any other is counted under its class (`3xx`, …). */
export const kubeStatusCodes = [200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500, 502, 503, 504] as const;

/** csr-signer's own metrics, by the Observer event or snapshot field that feeds them. */
export const signerMetrics = {
  buildInfo: {
    name: 'csr_signer_build_info', type: 'gauge', labels: ['version', 'node_version'],
    help: 'Always 1, labelled with the csr-signer version and the Node.js version it runs on.',
  },
  kubeRequests: {
    name: 'csr_signer_kube_requests_total', type: 'counter', labels: ['verb', 'code'],
    help: 'Requests to the Kubernetes API server, by verb (GET, POST, PUT, PATCH, DELETE, WATCH: the request that opens a watch) and code: the HTTP status (a listed code, else its class such as 3xx) or error when no answer came.',
  },
  kubeRequestDuration: {
    name: 'csr_signer_kube_request_duration_seconds', type: 'histogram', labels: ['verb'], buckets: kubeRequestBuckets,
    help: 'Time from sending a request to the Kubernetes API server to reading its whole answer (for WATCH, its headers), by verb; failed requests included.',
  },
  issued: {
    name: 'csr_signer_certificates_issued_total', type: 'counter', labels: ['signer'],
    help: 'Certificates written to CertificateSigningRequest status, by signer.',
  },
  failed: {
    name: 'csr_signer_requests_failed_total', type: 'counter', labels: ['signer', 'reason'],
    help: 'CertificateSigningRequests given a Failed condition, by signer and condition reason.',
  },
  signDuration: {
    name: 'csr_signer_sign_duration_seconds', type: 'histogram', labels: ['signer'], buckets: signBuckets,
    help: 'Time to parse, decide on and sign one approved request that was issued, by signer.',
  },
  approvalToIssue: {
    name: 'csr_signer_approval_to_issue_seconds', type: 'histogram', labels: ['signer'], buckets: approvalBuckets,
    help: 'Time from the Approved condition of a CertificateSigningRequest to the write of its certificate, by signer.',
  },
  approvedPending: {
    name: 'csr_signer_approved_pending', type: 'gauge', labels: ['signer'],
    help: 'Approved CertificateSigningRequests neither issued nor failed yet, by signer (0 on a replica that is not leading).',
  },
  approvedPendingOldest: {
    name: 'csr_signer_approved_pending_oldest_seconds', type: 'gauge', labels: ['signer'],
    help: 'Age of the oldest approval among approved CertificateSigningRequests not issued yet, by signer (0 when none).',
  },
  caNotAfter: {
    name: 'csr_signer_ca_not_after_timestamp_seconds', type: 'gauge', labels: ['signer'],
    help: 'Expiry (notAfter, Unix seconds) of the CA certificate in use, by signer; absent while no CA is loaded.',
  },
  caReload: {
    name: 'csr_signer_ca_reload_total', type: 'counter', labels: ['signer', 'result'],
    help: 'Reads of the CA files, by signer and result: success (a new CA in use), unchanged (same bytes) or error (the old CA stays).',
  },
  keyProviderErrors: {
    name: 'csr_signer_key_provider_errors_total', type: 'counter', labels: ['signer', 'op'],
    help: 'Failed operations of a CA key on a PKCS#11 token, by signer and op: load, open_session, login, find_key, sign or read_certificate (the token is reconnected with backoff; requests wait).',
  },
  conflicts: {
    name: 'csr_signer_status_write_conflicts_total', type: 'counter', labels: [],
    help: 'Status and approval writes the API server answered with 409 Conflict (the request is read again and retried).',
  },
  queueDepth: {
    name: 'csr_signer_queue_depth', type: 'gauge', labels: [],
    help: 'CertificateSigningRequests and PodCertificateRequests waiting in the work queues, not counting those being processed or backing off.',
  },
  retries: {
    name: 'csr_signer_retries_total', type: 'counter', labels: ['signer'],
    help: 'CertificateSigningRequests and PodCertificateRequests put back on the queue after a transient error, by signer ("unknown" when not known).',
  },
  watchRestarts: {
    name: 'csr_signer_watch_restarts_total', type: 'counter', labels: ['signer', 'reason'],
    help: 'Watches restarted, by signer and reason: error, gone (410, resource version too old) or quiet (still open and silent past the server-side timeout the watch asked for, by the quiet timeout: a hung connection); a watch the server ends at that timeout is watched again and not counted.',
  },
  caLastIssuedNotAfter: {
    name: 'csr_signer_ca_last_issued_not_after_timestamp_seconds', type: 'gauge', labels: ['signer', 'ca'],
    help: 'Latest notAfter (Unix seconds) of a certificate issued by each CA, by signer and CA (SHA-256 fingerprint of the CA certificate); after a restart, the recorded bound, at most an hour later.',
  },
  trustedCas: {
    name: 'csr_signer_trust_bundle_certificates', type: 'gauge', labels: ['signer'],
    help: 'CA certificates in the signer\'s trust bundle: 1 normally, 2 or more during a CA rotation.',
  },
  rotationPhase: {
    name: 'csr_signer_rotation_phase', type: 'gauge', labels: ['signer', 'phase'],
    help: 'Where a CA rotation stands, by signer: 1 for the current phase (steady, prepare, switch, retire), 0 for the others; absent while no CA is loaded.',
  },
  trustPublish: {
    name: 'csr_signer_trust_bundle_publish_total', type: 'counter', labels: ['signer', 'target', 'result'],
    help: 'Trust bundle targets checked, by signer, target (configmap, clustertrustbundle) and result: created, updated, unchanged, not-owned (an object of that name without csr-signer\'s label, left alone), skipped (the namespace is being deleted), unavailable (API not served) or error.',
  },
  approvals: {
    name: 'csr_signer_approvals_total', type: 'counter', labels: ['signer', 'decision', 'rule'],
    help: 'Decisions of the approver, by signer, decision (approved, denied, waiting: left pending and looked at again with backoff, counted once per CSR until it is decided or deleted) and rule (what decided); in audit mode too, where nothing is written.',
  },
  cleanupDeleted: {
    name: 'csr_signer_cleanup_deleted_total', type: 'counter', labels: ['reason'],
    help: 'CertificateSigningRequests the cleaner deleted, by reason (Issued, Denied, Failed, Pending, ApprovedUnissued, CertificateExpired).',
  },
  podCertificates: {
    name: 'csr_signer_pod_certificates_total', type: 'counter', labels: ['signer', 'result'],
    help: 'PodCertificateRequests given their one terminal condition, by signer and result (issued, denied, failed).',
  },
  podCertificateDuration: {
    name: 'csr_signer_pod_certificate_duration_seconds', type: 'histogram', labels: ['signer'], buckets: approvalBuckets,
    help: 'Time from the creation of a PodCertificateRequest to the write of its terminal condition, by signer.',
  },
  podCertificatesPending: {
    name: 'csr_signer_pod_certificates_pending', type: 'gauge', labels: ['signer'],
    help: 'PodCertificateRequests of a signer with podCertificates not yet issued, denied or failed (0 on a replica that is not leading).',
  },
  podCertificatesOldestPending: {
    name: 'csr_signer_pod_certificates_oldest_pending_seconds', type: 'gauge', labels: ['signer'],
    help: 'Age of the oldest PodCertificateRequest not yet issued, denied or failed, by signer with podCertificates (0 when none).',
  },
  leader: {
    name: 'csr_signer_leader', type: 'gauge', labels: [],
    help: 'Whether this replica leads (signing, approving and cleaning up run on the leader): 1 when it holds the lease or leader election is off, else 0.',
  },
} as const satisfies Record<string, MetricSpec>;

/**
 * prom-client's process and runtime metrics (collectDefaultMetrics) under their
 * standard names, on Linux and Node.js 20. Not served: nodejs_active_handles_total,
 * nodejs_active_requests_total and nodejs_active_resources_total, gauges whose
 * `_total` suffix `promtool check metrics` rejects; the sum over `type` of the
 * per-type gauge is the same number.
 */
export const droppedRuntimeMetrics = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

const runtime = (name: string, type: MetricType, labels: readonly string[], help: string): MetricSpec => ({ name, type, labels, help });

export const runtimeMetrics: readonly MetricSpec[] = [
  runtime('process_cpu_user_seconds_total', 'counter', [], 'Total user CPU time spent in seconds.'),
  runtime('process_cpu_system_seconds_total', 'counter', [], 'Total system CPU time spent in seconds.'),
  runtime('process_cpu_seconds_total', 'counter', [], 'Total user and system CPU time spent in seconds.'),
  runtime('process_start_time_seconds', 'gauge', [], 'Start time of the process since unix epoch in seconds.'),
  runtime('process_resident_memory_bytes', 'gauge', [], 'Resident memory size in bytes.'),
  runtime('process_virtual_memory_bytes', 'gauge', [], 'Virtual memory size in bytes.'),
  runtime('process_heap_bytes', 'gauge', [], 'Process heap size in bytes.'),
  runtime('process_open_fds', 'gauge', [], 'Number of open file descriptors.'),
  runtime('process_max_fds', 'gauge', [], 'Maximum number of open file descriptors.'),
  runtime('nodejs_eventloop_lag_seconds', 'gauge', [], 'Lag of event loop in seconds.'),
  runtime('nodejs_eventloop_lag_min_seconds', 'gauge', [], 'The minimum recorded event loop delay.'),
  runtime('nodejs_eventloop_lag_max_seconds', 'gauge', [], 'The maximum recorded event loop delay.'),
  runtime('nodejs_eventloop_lag_mean_seconds', 'gauge', [], 'The mean of the recorded event loop delays.'),
  runtime('nodejs_eventloop_lag_stddev_seconds', 'gauge', [], 'The standard deviation of the recorded event loop delays.'),
  runtime('nodejs_eventloop_lag_p50_seconds', 'gauge', [], 'The 50th percentile of the recorded event loop delays.'),
  runtime('nodejs_eventloop_lag_p90_seconds', 'gauge', [], 'The 90th percentile of the recorded event loop delays.'),
  runtime('nodejs_eventloop_lag_p99_seconds', 'gauge', [], 'The 99th percentile of the recorded event loop delays.'),
  runtime('nodejs_active_resources', 'gauge', ['type'], 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.'),
  runtime('nodejs_active_handles', 'gauge', ['type'], 'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.'),
  runtime('nodejs_active_requests', 'gauge', ['type'], 'Number of active libuv requests grouped by request type. Every request type is C++ class name.'),
  runtime('nodejs_heap_size_total_bytes', 'gauge', [], 'Process heap size from Node.js in bytes.'),
  runtime('nodejs_heap_size_used_bytes', 'gauge', [], 'Process heap size used from Node.js in bytes.'),
  runtime('nodejs_external_memory_bytes', 'gauge', [], 'Node.js external memory size in bytes.'),
  runtime('nodejs_heap_space_size_total_bytes', 'gauge', ['space'], 'Process heap space size total from Node.js in bytes.'),
  runtime('nodejs_heap_space_size_used_bytes', 'gauge', ['space'], 'Process heap space size used from Node.js in bytes.'),
  runtime('nodejs_heap_space_size_available_bytes', 'gauge', ['space'], 'Process heap space size available from Node.js in bytes.'),
  runtime('nodejs_version_info', 'gauge', ['version', 'major', 'minor', 'patch'], 'Node.js version info.'),
  runtime('nodejs_gc_duration_seconds', 'histogram', ['kind'], 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.'),
];

/** Everything /metrics serves, csr-signer's metrics first. */
export const metricsCatalogue: readonly MetricSpec[] = [...Object.values(signerMetrics), ...runtimeMetrics];
