/**
 * Every template: its static YAML parses on its own, and what it renders (default
 * values, and every option turned on) is valid Kubernetes, checked offline with
 * kubernetes-models' OpenAPI validators. The template guards (fail) and the
 * ServiceMonitor's API check behave.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { TemplateError } from './go-template.js';
import { find, renderChart, templateFiles, templatesDir, type Manifest, type Values } from './render.js';

/** The template with every action taken out: control lines dropped, inline actions replaced by a scalar. */
export function staticYaml(source: string): string {
  return source
    .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '')
    .split('\n')
    .filter((line) => !/^\s*(\{\{[^}]*\}\}\s*)+$/.test(line))
    .map((line) => line.replace(/\{\{[^}]*\}\}/g, 'TEMPLATED'))
    .join('\n');
}

void t.test("every template's static YAML parses", (t) => {
  const yamlFiles = templateFiles().filter((f) => f.endsWith('.yaml'));
  t.ok(yamlFiles.length >= 9, `templates: ${yamlFiles.join(', ')}`);
  for (const file of yamlFiles) {
    const docs = parseAllDocuments(staticYaml(readFileSync(join(templatesDir, file), 'utf8')), { uniqueKeys: false });
    const errors = docs.flatMap((d) => d.errors.map((e) => e.message));
    t.same(errors, [], file);
    for (const doc of docs) {
      const obj = doc.toJS() as { apiVersion?: unknown; kind?: unknown } | null;
      if (obj === null) continue;
      t.ok(typeof obj.apiVersion === 'string' && typeof obj.kind === 'string', `${file}: a document with apiVersion and kind`);
    }
  }
  t.end();
});

type Model = new (data: never) => { validate(): void };
const models: Record<string, Model> = {
  'apps/v1/Deployment': Deployment,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

const pem = { cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', key: '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n' };
const everything: Values = {
  signers: [
    {
      name: 'example.com/serving', ca: { existingSecret: 'serving-ca', trustKey: 'trust.crt' }, duration: { max: '720h' }, policy: { dnsNames: ['*.example.com'], ipRanges: [] },
      trust: { configMap: { name: 'serving-ca', namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] } }, clusterTrustBundle: { labels: { team: 'pki' } } },
    },
    { name: 'example.com/dev', ca: pem },
  ],
  rotationRecord: { name: 'pki-rotation' },
  image: { digest: `sha256:${'a'.repeat(64)}` },
  imagePullSecrets: [{ name: 'registry' }],
  serviceAccount: { annotations: { 'example.com/a': 'b' } },
  extraArgs: ['--workers=10'],
  extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=256' }],
  podAnnotations: { 'example.com/scrape': 'true' },
  podLabels: { team: 'pki' },
  tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }] } } },
  priorityClassName: 'system-cluster-critical',
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
  podDisruptionBudget: { minAvailable: 1, maxUnavailable: null },
};

const validateAll = (t: Test, manifests: readonly Manifest[]): void => {
  for (const m of manifests) {
    const id = `${m.apiVersion}/${m.kind}`;
    if (id === 'monitoring.coreos.com/v1/ServiceMonitor') continue; // no model here; asserted below
    const model = models[id];
    if (!model) {
      t.fail(`no validator for ${id}`);
      continue;
    }
    t.doesNotThrow(() => new model(m as never).validate(), `${m.kind} ${m.metadata.name} is valid`);
  }
};

void t.test('the default values render valid Kubernetes objects', (t) => {
  const { manifests } = renderChart();
  t.same(manifests.map((m) => m.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount']);
  validateAll(t, manifests);
  t.end();
});

void t.test('every option turned on renders valid Kubernetes objects', (t) => {
  const { manifests, files } = renderChart({ values: everything, apiVersions: ['monitoring.coreos.com/v1'] });
  validateAll(t, manifests);
  const secret = find(manifests, 'Secret');
  t.equal(secret.metadata.name, 'csr-signer-ca-1', 'a Secret only for the inline (development) CA');
  t.equal(secret.type, 'kubernetes.io/tls');
  t.equal(Buffer.from((secret.data as Record<string, string>)['tls.key'] ?? '', 'base64').toString(), pem.key);
  const monitor = find(manifests, 'ServiceMonitor');
  t.same((monitor.spec as { endpoints: unknown[] }).endpoints, [{ port: 'metrics', path: '/metrics', interval: '60s', scrapeTimeout: '30s' }]);
  t.equal(monitor.metadata.labels?.release, 'prometheus');
  t.same(find(manifests, 'PodDisruptionBudget').spec, { selector: { matchLabels: { 'app.kubernetes.io/name': 'csr-signer', 'app.kubernetes.io/instance': 'csr-signer' } }, minAvailable: 1 });
  t.match(files.get('NOTES.txt'), /DEVELOPMENT ONLY/);
  t.end();
});

void t.test('the ServiceMonitor needs both the value and the Prometheus Operator API', (t) => {
  const kinds = (values: Values, apiVersions: string[]): string[] => renderChart({ values, apiVersions }).manifests.map((m) => m.kind);
  t.notOk(kinds({ serviceMonitor: { enabled: true } }, []).includes('ServiceMonitor'), 'not without monitoring.coreos.com/v1');
  t.notOk(kinds({}, ['monitoring.coreos.com/v1']).includes('ServiceMonitor'), 'not unless enabled');
  t.ok(kinds({ serviceMonitor: { enabled: true } }, ['monitoring.coreos.com/v1']).includes('ServiceMonitor'));
  t.match(renderChart({ values: { serviceMonitor: { enabled: true } } }).files.get('NOTES.txt'), /no ServiceMonitor was created/);
  t.end();
});

void t.test('the chart refuses values the signer cannot run with', (t) => {
  const refusals: [string, Values, RegExp][] = [
    ['two replicas without leader election', { leaderElection: { enabled: false } }, /needs leaderElection\.enabled/],
    ['a grace period not above the shutdown timeout', { terminationGracePeriodSeconds: 30 }, /terminationGracePeriodSeconds must be more/],
    ['both minAvailable and maxUnavailable', { podDisruptionBudget: { minAvailable: 1 } }, /not both/],
    ['a signer without any CA', { signers: [{ name: 'example.com/x', ca: {} }] }, /ca\.cert is required/],
  ];
  for (const [name, values, message] of refusals) t.throws(() => renderChart({ values }), { constructor: TemplateError, message }, name);
  t.end();
});
