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
