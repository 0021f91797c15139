/** docs/metrics.md, metricsCatalogue and a real Registry describe the same metrics. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Registry } from 'prom-client';
import { createMetrics, metricsCatalogue, type MetricSpec } from '../../src/telemetry/metrics.js';
import { needTool, run, tempDir, writeTemp } from '../helpers/tools.js';
import { snapshotBuilder, withSigner } from '../http/fixtures/snapshots.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'metrics.md'), 'utf8');

/** The tables' rows: | `name` | type | `a`, `b` or — | help | alert on | */
const documented: Omit<MetricSpec, 'buckets'>[] = [...doc.matchAll(/^\| `([a-z0-9_:]+)` \| (\w+) \| ([^|]+) \| ([^|]+) \|/gm)].map((m) => ({
  name: m[1] ?? '',
  type: (m[2] ?? '') as MetricSpec['type'],
  labels: (m[3] ?? '').trim() === '—' ? [] : (m[3] ?? '').split(',').map((l) => l.trim().replace(/^`|`$/g, '')),
  help: (m[4] ?? '').trim(),
}));

const withoutBuckets = ({ name, type, labels, help }: MetricSpec): Omit<MetricSpec, 'buckets'> => ({ name, type, labels: [...labels], help });

void t.test('every metric of the catalogue has a row in docs/metrics.md with its type, labels and help, and every row is in the catalogue', (t) => {
  t.ok(documented.length > 0, 'rows found');
  t.same(documented, metricsCatalogue.map(withoutBuckets));
  t.end();
});

void t.test('the catalogue names exactly the metrics a registry serves, with the same type and help', async (t) => {
  if (process.platform !== 'linux') {
    t.comment('the process_* memory metrics prom-client registers differ off Linux');
    return;
  }
  const registry = new Registry();
  createMetrics(registry, () => snapshotBuilder());
  // By name: the registry lists them in registration order, which need not be the catalogue's (the tables').
  const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
  const served = (await registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type), help: m.help })).sort(byName);
  t.same(served, metricsCatalogue.map(({ name, type, help }) => ({ name, type, help })).sort(byName));
});

void t.test('the labels a scrape shows are the catalogue\'s', async (t) => {
  const registry = new Registry();
  const rotating = withSigner('example.com/serving', { trustedCas: 2, lastIssued: [{ ca: 'ab'.repeat(32), notAfter: new Date('2030-06-01T00:00:00Z') }], rotationPhase: 'switch' });
  const metrics = createMetrics(registry, () => snapshotBuilder(rotating), { runtime: false });
  metrics.failed('example.com/serving', 'InvalidSignature');
  metrics.trustPublished?.('example.com/serving', 'configmap', 'created');
  metrics.caReloaded('example.com/serving', 'success');
  metrics.watchRestarted('example.com/serving', 'error');
  metrics.retried(undefined);
  for (const family of await registry.getMetricsAsJSON()) {
    const spec = metricsCatalogue.find((s) => s.name === family.name);
    const seen = new Set(family.values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le'));
    t.ok([...seen].every((l) => spec?.labels.includes(l)), `${family.name}: ${[...seen].join(', ')}`);
    if (family.name.startsWith('csr_signer_trust') || family.name.startsWith('csr_signer_ca_last') || family.name.startsWith('csr_signer_rotation')) t.same([...seen].sort(), [...spec?.labels ?? []].sort(), `${family.name} shows every label`);
  }
});

void t.test('csr-signer\'s metrics follow the naming rules', (t) => {
  for (const spec of metricsCatalogue.filter((s) => s.name.startsWith('csr_signer_'))) {
    t.equal(spec.type === 'counter', spec.name.endsWith('_total'), `${spec.name}: _total exactly on counters`);
    // ca: a fingerprint of one of the signer's own CAs (a few per rotation); target: configmap or clustertrustbundle.
    // verb, code: fixed sets (metrics.ts kubeCodeLabel); version, node_version: one value per process;
    // decision, rule: the approver's fixed sets (telemetry/observer.ts ApprovalOutcome, the decisions' rule names);
    // op: a key provider's operations (pki/key-provider.ts keyProviderOperations).
    t.ok(spec.labels.every((l) => ['signer', 'result', 'reason', 'ca', 'target', 'phase', 'verb', 'code', 'version', 'node_version', 'decision', 'rule', 'op'].includes(l)), `${spec.name}: bounded labels`);
    t.ok(spec.help.length > 20 && spec.help.endsWith('.'), `${spec.name}: help says what it counts`);
  }
  t.end();
});

// The example alerts: one file, which docs/metrics.md points to and the chart installs as a PrometheusRule.
const rulesFile = join(import.meta.dirname, '..', '..', 'charts', 'csr-signer', 'files', 'prometheus-rules.yaml');

void t.test('the example alerts pass promtool check rules and use only catalogued metrics', (t) => {
  if (!needTool(t, 'promtool')) return t.end();
  t.match(doc, /## Example alerts\n[\s\S]*charts\/csr-signer\/files\/prometheus-rules\.yaml/, 'docs/metrics.md points to the file');
  const rules = readFileSync(rulesFile, 'utf8');
  const r = run('promtool', ['check', 'rules', rulesFile]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  for (const name of [...rules.matchAll(/csr_signer_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, ''))) {
    t.ok(metricsCatalogue.some((s) => s.name === name), `${name} is a metric`);
  }
  t.end();
});

void t.test('CsrSignerNoLeader fires when no replica leads, and when none runs at all (promtool test rules)', (t) => {
  if (!needTool(t, 'promtool')) return t.end();
  const dir = tempDir();
  // Series for 10 minutes: two replicas, one leading; then none leading; then none at all (no series).
  const tests = `rule_files: [${JSON.stringify(rulesFile)}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'csr_signer_leader{pod="a"}'
        values: '1x9 0x9'
      - series: 'csr_signer_leader{pod="b"}'
        values: '0x19'
    alert_rule_test:
      - { eval_time: 5m, alertname: CsrSignerNoLeader, exp_alerts: [] }
      - eval_time: 15m
        alertname: CsrSignerNoLeader
        exp_alerts:
          - exp_annotations: { summary: "No csr-signer replica leads (holds the Lease), or none runs: signing, approving and cleaning up run on the leader, so they have stopped." }
  - interval: 1m
    input_series:
      - series: 'csr_signer_leader{pod="a"}'
        values: '1x4'
    alert_rule_test:
      - { eval_time: 3m, alertname: CsrSignerNoLeader, exp_alerts: [] }
      - eval_time: 15m
        alertname: CsrSignerNoLeader
        exp_alerts:
          - exp_labels: {}
            exp_annotations: { summary: "No csr-signer replica leads (holds the Lease), or none runs: signing, approving and cleaning up run on the leader, so they have stopped." }
`;
  const file = writeTemp(dir, 'leader-test.yaml', tests);
  const r = run('promtool', ['test', 'rules', file]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.end();
});
