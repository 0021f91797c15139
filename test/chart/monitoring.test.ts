/**
 * Prometheus Operator objects: the ServiceMonitor and the PodMonitor (each with
 * relabelings, metricRelabelings and honorLabels) and the PrometheusRule, whose rules are
 * exactly files/prometheus-rules.yaml — the one file docs/metrics.md points to and
 * promtool checks (test/telemetry/metrics-doc.test.ts). None without the operator's API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { needTool, run, tempDir, writeTemp } from '../helpers/tools.js';
import { chartDir, find, renderChart, type Values } from './render.js';

const api = ['monitoring.coreos.com/v1'];
const relabel = {
  honorLabels: true,
  relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node', action: 'replace' }],
  metricRelabelings: [{ sourceLabels: ['__name__'], regex: 'nodejs_.*', action: 'drop' }],
};

void t.test('the PrometheusRule carries files/prometheus-rules.yaml as it is', (t) => {
  const rule = find(renderChart({ values: { prometheusRule: { enabled: true, labels: { release: 'prometheus' } } }, apiVersions: api }).manifests, 'PrometheusRule');
  const file = parse(readFileSync(join(chartDir, 'files', 'prometheus-rules.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string; annotations: { summary: string } }[] }[] };
  t.same(rule.spec, file, 'the same groups, rules, expressions and annotations');
  t.equal(rule.metadata.labels?.release, 'prometheus');
  const summary = file.groups[0]?.rules.find((r) => r.alert === 'CsrSignerCAExpiringSoon')?.annotations.summary;
  t.match(summary, /\{\{ \$labels\.signer \}\}/, 'Prometheus\'s own templates reach it unrendered');
  t.match(file.groups[0]?.rules.find((r) => r.alert === 'CsrSignerNoLeader')?.expr, /absent\(csr_signer_leader\)/, 'the leader alert fires when no pod runs');
  t.end();
});

void t.test('the ServiceMonitor and the PodMonitor scrape the metrics port, with relabelings and honorLabels when given', (t) => {
  const { manifests } = renderChart({ values: { serviceMonitor: { enabled: true, ...relabel }, podMonitor: { enabled: true, interval: '30s', ...relabel } }, apiVersions: api });
  const endpoint = { port: 'metrics', path: '/metrics', scrapeTimeout: '30s', ...relabel };
  t.same((find(manifests, 'ServiceMonitor').spec as { endpoints: unknown[] }).endpoints, [{ ...endpoint, interval: '60s' }]);
  const pod = find(manifests, 'PodMonitor').spec as { podMetricsEndpoints: unknown[]; selector: unknown; namespaceSelector: unknown };
  t.same(pod.podMetricsEndpoints, [{ ...endpoint, interval: '30s' }]);
  t.same(pod.selector, { matchLabels: { 'app.kubernetes.io/name': 'csr-signer', 'app.kubernetes.io/instance': 'csr-signer' } }, 'the signer\'s pods');
  t.same(pod.namespaceSelector, { matchNames: ['csr-signer'] });
  const plain = find(renderChart({ values: { podMonitor: { enabled: true } }, apiVersions: api }).manifests, 'PodMonitor').spec as { podMetricsEndpoints: unknown[] };
  t.same(plain.podMetricsEndpoints, [{ port: 'metrics', path: '/metrics', interval: '60s', scrapeTimeout: '30s' }], 'none of them by default');
  t.end();
});

void t.test('each needs its value and the Prometheus Operator API; NOTES.txt says which was skipped', (t) => {
  for (const [key, kind] of [['serviceMonitor', 'ServiceMonitor'], ['podMonitor', 'PodMonitor'], ['prometheusRule', 'PrometheusRule']] as const) {
    const kinds = (values: Values, apiVersions: string[]): string[] => renderChart({ values, apiVersions }).manifests.map((m) => m.kind);
    t.notOk(kinds({ [key]: { enabled: true } }, []).includes(kind), `no ${kind} without monitoring.coreos.com/v1`);
    t.notOk(kinds({}, api).includes(kind), `no ${kind} unless enabled`);
    t.ok(kinds({ [key]: { enabled: true } }, api).includes(kind), `a ${kind} with both`);
    t.match(renderChart({ values: { [key]: { enabled: true } } }).files.get('NOTES.txt'), new RegExp(`${key}\\.enabled is set[\\s\\S]*no ${kind} was created`));
  }
  t.end();
});

void t.test('with a separate approver, each Deployment has its own leader: one each is no alert, none in one is (promtool test rules)', (t) => {
  if (!needTool(t, 'promtool')) return t.end();
  const rulesFile = join(chartDir, 'files', 'prometheus-rules.yaml');
  // The chart's ServiceMonitor scrapes the signer's and the approver's Service as two jobs.
  const tests = `rule_files: [${JSON.stringify(rulesFile)}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'csr_signer_leader{job="csr-signer",pod="s1"}'
        values: '1x19'
      - series: 'csr_signer_leader{job="csr-signer",pod="s2"}'
        values: '0x19'
      - series: 'csr_signer_leader{job="csr-signer-approver",pod="a1"}'
        values: '1x9 0x9'
      - series: 'csr_signer_leader{job="csr-signer-approver",pod="a2"}'
        values: '0x19'
    alert_rule_test:
      - { eval_time: 9m, alertname: CsrSignerTwoLeaders, exp_alerts: [] }
      - { eval_time: 5m, alertname: CsrSignerNoLeader, exp_alerts: [] }
      - eval_time: 15m
        alertname: CsrSignerNoLeader
        exp_alerts:
          - exp_labels: { job: csr-signer-approver }
            exp_annotations: { summary: "No csr-signer replica leads (holds the Lease), or none runs: signing, approving and cleaning up run on the leader, so they have stopped." }
  - interval: 1m
    input_series:
      - series: 'csr_signer_leader{job="csr-signer",pod="s1"}'
        values: '1x19'
      - series: 'csr_signer_leader{job="csr-signer",pod="s2"}'
        values: '1x19'
    alert_rule_test:
      - eval_time: 10m
        alertname: CsrSignerTwoLeaders
        exp_alerts:
          - exp_labels: { job: csr-signer }
            exp_annotations: { summary: "More than one csr-signer replica believes it leads: check the Lease and the replicas' clocks." }
`;
  const file = writeTemp(tempDir(), 'leaders-test.yaml', tests);
  const r = run('promtool', ['test', 'rules', file]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.end();
});

void t.test('with a separate approver the PrometheusRule adds CsrSignerApproverAbsent: the approver\'s job gone while the signer\'s reports alerts (promtool test rules)', (t) => {
  if (!needTool(t, 'promtool')) return t.end();
  const values: Values = { prometheusRule: { enabled: true }, approver: { enabled: true, separateDeployment: true } };
  const rule = find(renderChart({ values, namespace: 'certs', apiVersions: api }).manifests, 'PrometheusRule');
  const file = parse(readFileSync(join(chartDir, 'files', 'prometheus-rules.yaml'), 'utf8')) as { groups: unknown[] };
  t.same((rule.spec as { groups: unknown[] }).groups.slice(0, file.groups.length), file.groups, 'the file\'s groups first, as they are');
  const withoutApprover = find(renderChart({ values: { prometheusRule: { enabled: true } }, apiVersions: api }).manifests, 'PrometheusRule');
  t.same(withoutApprover.spec, file, 'no approver group without a separate approver');
  const dir = tempDir();
  const rulesFile = writeTemp(dir, 'rules.json', JSON.stringify(rule.spec));
  const summary = 'No replica of the separate approver csr-signer-approver runs or is scraped: nothing approves, denies or cleans up CSRs.';
  // The signer's job reports a leader throughout; the approver's (by ServiceMonitor, then by PodMonitor) is there, then gone.
  const tests = `rule_files: [${JSON.stringify(rulesFile)}]
evaluation_interval: 1m
tests:
${['csr-signer-approver', 'certs/csr-signer-approver'].map((job) => `  - interval: 1m
    input_series:
      - series: 'csr_signer_leader{job="csr-signer",pod="s1"}'
        values: '1x29'
      - series: 'csr_signer_leader{job="${job}",pod="a1"}'
        values: '1x4'
    alert_rule_test:
      - { eval_time: 4m, alertname: CsrSignerApproverAbsent, exp_alerts: [] }
      - { eval_time: 20m, alertname: CsrSignerNoLeader, exp_alerts: [] }
      - eval_time: 20m
        alertname: CsrSignerApproverAbsent
        exp_alerts:
          - exp_annotations: { summary: "${summary}" }
`).join('')}`;
  const r = run('promtool', ['test', 'rules', writeTemp(dir, 'approver-test.yaml', tests)]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.end();
});

void t.test('pod certificates: a request left unanswered alerts before kube-controller-manager deletes it at 15 minutes; one answered in minutes never does; refusals in numbers alert (promtool test rules)', (t) => {
  if (!needTool(t, 'promtool')) return t.end();
  const rulesFile = join(chartDir, 'files', 'prometheus-rules.yaml');
  const backlog = 'A PodCertificateRequest of example.com/pods has waited 10 minutes or more: its pod stays in ContainerCreating, and kube-controller-manager deletes the request at 15. See /readyz and the log.';
  const refused = 'example.com/pods denied more than 5 pod certificates in 15 minutes: the kubelet does not retry, so those pods stay in ContainerCreating. The requests\' conditions and Events (PodCertificateDenied, PodCertificateFailed) say why.';
  // The oldest pending age in seconds, one sample a minute: an unanswered request ages until the
  // cleaner deletes it (15 minutes), then the kubelet's next one starts again from 0.
  const tests = `rule_files: [${JSON.stringify(rulesFile)}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'csr_signer_pod_certificates_oldest_pending_seconds{signer="example.com/pods"}'
        values: '0+60x15 0x9'
      - series: 'csr_signer_pod_certificates_oldest_pending_seconds{signer="example.com/quick"}'
        values: '0+60x3 0+60x3 0+60x3 0+60x3 0+60x3 0+60x3'
    alert_rule_test:
      - { eval_time: 9m, alertname: CsrSignerPodCertificateBacklog, exp_alerts: [] }
      - eval_time: 11m
        alertname: CsrSignerPodCertificateBacklog
        exp_alerts:
          - exp_labels: { signer: example.com/pods }
            exp_annotations: { summary: ${JSON.stringify(backlog)} }
      - { eval_time: 20m, alertname: CsrSignerPodCertificateBacklog, exp_alerts: [] }
  - interval: 1m
    input_series:
      - series: 'csr_signer_pod_certificates_total{signer="example.com/pods",result="denied"}'
        values: '0+1x30'
      - series: 'csr_signer_pod_certificates_total{signer="example.com/pods",result="failed"}'
        values: '0x30'
      - series: 'csr_signer_pod_certificates_total{signer="example.com/pods",result="issued"}'
        values: '0+20x30'
    alert_rule_test:
      - { eval_time: 4m, alertname: CsrSignerPodCertificatesRefused, exp_alerts: [] }
      - eval_time: 20m
        alertname: CsrSignerPodCertificatesRefused
        exp_alerts:
          - exp_labels: { signer: example.com/pods, result: denied }
            exp_annotations: { summary: ${JSON.stringify(refused)} }
`;
  const r = run('promtool', ['test', 'rules', writeTemp(tempDir(), 'pod-certificates-test.yaml', tests)]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.end();
});
