/**
 * Every template: its static YAML parses on its own, and what it renders is valid
 * Kubernetes, checked offline against the Kubernetes OpenAPI schemas (kubernetes-models)
 * and the Prometheus Operator's CRD schemas (@kubernetes-models/prometheus-operator), for
 * a matrix of values: the defaults, every feature turned on, and each values example of
 * the chart README and docs/install.md. The template guards (fail) behave.
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
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { parse } from 'yaml';
import { repoRoot } from '../docker/dockerfile.js';
import { find, renderChart, templateFiles, templatesDir, TemplateError, type Manifest, type Values } from './render.js';

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
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

const pem = { cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', key: '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n' };
const everything: Values = {
  signers: [
    {
      name: 'example.com/serving', ca: { existingSecret: 'serving-ca', trustKey: 'trust.crt' }, duration: { max: '720h' }, policy: { dnsNames: ['*.example.com'], ipRanges: [] },
      trust: { configMap: { name: 'serving-ca', namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] } }, clusterTrustBundle: { labels: { team: 'pki' } } },
    },
    { name: 'example.com/dev', ca: pem },
    {
      name: 'example.com/pods', ca: { existingSecret: 'pods-ca' }, certificateSigningRequests: false, trust: { clusterTrustBundle: {} },
      podCertificates: { namespaces: { names: ['shop'], selector: { matchLabels: { 'pod-certificates': 'on' } } }, dnsNames: ['{serviceAccountName}.{namespace}.svc'], podCheck: true },
    },
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
  serviceMonitor: {
    enabled: true, labels: { release: 'prometheus' }, honorLabels: true,
    relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node', action: 'replace' }],
    metricRelabelings: [{ sourceLabels: ['__name__'], regex: 'nodejs_.*', action: 'drop' }],
  },
  podMonitor: { enabled: true, labels: { release: 'prometheus' }, honorLabels: true, relabelings: [{ targetLabel: 'team', replacement: 'pki' }] },
  prometheusRule: { enabled: true, labels: { release: 'prometheus' } },
  networkPolicy: {
    enabled: true,
    ingress: { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
    egress: { apiServer: { cidrs: ['10.0.0.10/32'] }, dns: true, extra: [{ to: [{ ipBlock: { cidr: '192.0.2.1/32' } }], ports: [{ port: 3128 }] }] },
  },
  volumes: [{ name: 'ca-passphrase', secret: { secretName: 'serving-ca-passphrase', defaultMode: 288 } }],
  volumeMounts: [{ name: 'ca-passphrase', mountPath: '/etc/csr-signer/passphrase', readOnly: true }],
  extraObjects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '{{ include "csr-signer.fullname" . }}-extra', namespace: '{{ .Release.Namespace }}' }, data: { a: 'b' } }],
  podDisruptionBudget: { minAvailable: 1, unhealthyPodEvictionPolicy: 'IfHealthyBudget' },
};

const validateAll = (t: Test, manifests: readonly Manifest[]): void => {
  for (const m of manifests) {
    const id = `${m.apiVersion}/${m.kind}`;
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
  t.same(manifests.map((m) => m.kind).sort(), [
    'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'PodMonitor', 'PrometheusRule',
    'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor',
  ], 'every kind the chart can make');
  const secret = find(manifests, 'Secret');
  t.equal(secret.metadata.name, 'csr-signer-ca-1', 'a Secret only for the inline (development) CA');
  t.equal(secret.type, 'kubernetes.io/tls');
  t.equal(Buffer.from((secret.data as Record<string, string>)['tls.key'] ?? '', 'base64').toString(), pem.key);
  const monitor = find(manifests, 'ServiceMonitor');
  t.match((monitor.spec as { endpoints: unknown[] }).endpoints, [{ port: 'metrics', path: '/metrics', interval: '60s', scrapeTimeout: '30s', honorLabels: true }]);
  t.equal(monitor.metadata.labels?.release, 'prometheus');
  t.same(find(manifests, 'PodDisruptionBudget').spec, { selector: { matchLabels: { 'app.kubernetes.io/name': 'csr-signer', 'app.kubernetes.io/instance': 'csr-signer' } }, minAvailable: 1, unhealthyPodEvictionPolicy: 'IfHealthyBudget' });
  t.match(files.get('NOTES.txt'), /DEVELOPMENT ONLY/);
  t.end();
});

void t.test('the approver, in the signer or in a Deployment of its own, renders valid Kubernetes objects', (t) => {
  const kubelet = [{ signerName: 'kubernetes.io/kubelet-serving', extraIpRanges: ['10.0.0.0/8'] }, { signerName: 'example.com/serving', subjectAccessReview: { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: 'example.com/serving' } }];
  const combos: [Values, string[]][] = [
    [{ approver: { enabled: true, signers: kubelet } }, ['ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount']],
    [{ ...everything, approver: { enabled: true, separateDeployment: true, signers: kubelet, serviceAccount: { annotations: { 'example.com/a': 'b' } }, resources: { requests: { cpu: '10m' } } } }, [
      'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'ConfigMap', 'Deployment', 'Deployment',
      'NetworkPolicy', 'NetworkPolicy', 'PodDisruptionBudget', 'PodDisruptionBudget', 'PodMonitor', 'PodMonitor', 'PrometheusRule',
      'Role', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'RoleBinding', 'Secret', 'Service', 'Service', 'ServiceAccount', 'ServiceAccount', 'ServiceMonitor',
    ]],
  ];
  for (const [values, kinds] of combos) {
    const { manifests } = renderChart({ values, apiVersions: ['monitoring.coreos.com/v1'] });
    validateAll(t, manifests);
    t.same(manifests.map((m) => m.kind).sort(), kinds);
  }
  t.end();
});

void t.test('each values example of the chart README and docs/install.md renders valid objects', (t) => {
  const examples = ['charts/csr-signer/README.md', 'docs/install.md'].flatMap((doc) =>
    [...readFileSync(join(repoRoot, doc), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m, i) => [`${doc} example ${String(i + 1)}`, parse(m[1] ?? '') as Values] as const));
  t.ok(examples.length >= 3, `${String(examples.length)} examples`);
  for (const [name, values] of examples) {
    void t.test(name, (t) => {
      validateAll(t, renderChart({ values, apiVersions: ['monitoring.coreos.com/v1'] }).manifests);
      t.end();
    });
  }
  t.end();
});

void t.test('the validators refuse what the API server would refuse', (t) => {
  const deployment = find(renderChart().manifests, 'Deployment');
  const bad = JSON.parse(JSON.stringify(deployment)) as { spec: { replicas: unknown } };
  bad.spec.replicas = 'two';
  t.throws(() => new Deployment(bad as never).validate(), /replicas/, 'a Deployment with replicas as a string');
  const monitor = find(renderChart({ values: { podMonitor: { enabled: true } }, apiVersions: ['monitoring.coreos.com/v1'] }).manifests, 'PodMonitor');
  const badMonitor = JSON.parse(JSON.stringify(monitor)) as { spec: { podMetricsEndpoints: { port: unknown }[] } };
  (badMonitor.spec.podMetricsEndpoints[0] as { port: unknown }).port = 8080;
  t.throws(() => new PodMonitor(badMonitor as never).validate(), /port must be string/, 'a PodMonitor port given as a number (the CRD wants the port name)');
  t.end();
});

void t.test('the chart refuses values the signer cannot run with', (t) => {
  const refusals: [string, Values, RegExp][] = [
    ['two replicas without leader election', { leaderElection: { enabled: false } }, /needs leaderElection\.enabled/],
    ['a grace period not above the shutdown timeout', { terminationGracePeriodSeconds: 30 }, /terminationGracePeriodSeconds must be more/],
    ['both minAvailable and maxUnavailable', { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } }, /not both/],
    ['a signer without any CA', { signers: [{ name: 'example.com/x', ca: {} }] }, /ca\.cert is required/],
  ];
  for (const [name, values, message] of refusals) t.throws(() => renderChart({ values }), { constructor: TemplateError, message }, name);
  t.end();
});
