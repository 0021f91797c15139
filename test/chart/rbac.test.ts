/**
 * One source of truth: the chart's ClusterRole and Roles are exactly what the code says
 * its calls need (src/kube/rbac.ts signerRules) for the configuration the rendered
 * arguments and config file give the signer, for each combination of values — the rules
 * devapi gives the signer in every end-to-end test (devapi/auth/default-policy.ts) — and
 * the trust targets RBAC pins are the ones the rendered config makes the signer publish to.
 */
import t from 'tap';
import { loadRunConfig, type RunConfig } from '../../src/config/index.js';
import {
  signerClusterRules, signerLeaseRules, signerRotationRecordRules, signerRules, signerTrustRules, trustTargetsOf, type PolicyRule, type TrustTargets,
} from '../../src/kube/rbac.js';
import { find, renderChart, type Manifest, type Values } from './render.js';

/** A custom signer must bound its names (it refuses to start otherwise): the chart's own default policy. */
const policy = { dnsNames: ['*.{namespace}.svc', '*.{namespace}.svc.cluster.local'], ipRanges: [] };

const ca = { existingSecret: 'ca' };
const noTrust: TrustTargets = { configMapNames: [], clusterTrustBundleNames: [], attestSignerNames: [] };
const trusting: Values = {
  signers: [
    { name: 'example.com/serving', policy, ca, trust: { configMap: { name: 'serving-ca', namespaceSelector: { matchLabels: { 'serving-ca': 'true' } } }, clusterTrustBundle: {} } },
    { name: 'example.com/client', policy, ca, trust: { clusterTrustBundle: { name: 'example.com:client:v2', labels: { 'trust.example.com/bundle': 'client' } } } },
    { name: 'example.com/peer', policy, ca, trust: { configMap: { name: 'peer-ca', key: 'bundle.pem' } } },
    { name: 'kubernetes.io/kubelet-serving', ca },
  ],
};
const trustTargets: TrustTargets = {
  configMapNames: ['serving-ca', 'peer-ca'],
  clusterTrustBundleNames: ['example.com:serving:csr-signer', 'example.com:client:v2'],
  attestSignerNames: ['example.com/serving', 'example.com/client'],
};

/** [case, values, signer names, trust targets, Lease name, rotation record name] */
const cases: [string, Values, string[], TrustTargets, string, string][] = [
  ['the default values', {}, ['example.com/serving'], noTrust, 'csr-signer', 'csr-signer-rotation'],
  ['three signers, one built in', {
    signers: [{ name: 'example.com/serving', policy, ca }, { name: 'example.com/client', policy, ca }, { name: 'kubernetes.io/kubelet-serving', ca }],
  }, ['example.com/serving', 'example.com/client', 'kubernetes.io/kubelet-serving'], noTrust, 'csr-signer', 'csr-signer-rotation'],
  ['a named lease and rotation record', { leaderElection: { leaseName: 'signer-lock' }, rotationRecord: { name: 'signer-record' } }, ['example.com/serving'], noTrust, 'signer-lock', 'signer-record'],
  ['signers with ConfigMap and ClusterTrustBundle targets', trusting, ['example.com/serving', 'example.com/client', 'example.com/peer', 'kubernetes.io/kubelet-serving'], trustTargets, 'csr-signer', 'csr-signer-rotation'],
  ['ConfigMap targets only', { signers: [{ name: 'example.com/serving', policy, ca, trust: { configMap: { name: 'serving-ca' } } }] }, ['example.com/serving'],
    { configMapNames: ['serving-ca'], clusterTrustBundleNames: [], attestSignerNames: [] }, 'csr-signer', 'csr-signer-rotation'],
  ['a ClusterTrustBundle target only', { signers: [{ name: 'example.com/serving', policy, ca, trust: { clusterTrustBundle: {} } }] }, ['example.com/serving'],
    { configMapNames: [], clusterTrustBundleNames: ['example.com:serving:csr-signer'], attestSignerNames: ['example.com/serving'] }, 'csr-signer', 'csr-signer-rotation'],
];

const rulesOf = (m: Manifest): PolicyRule[] => JSON.parse(JSON.stringify(m.rules)) as PolicyRule[];
const argsOf = (manifests: readonly Manifest[]): string[] =>
  (find(manifests, 'Deployment') as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]?.args ?? [];

/** The configuration the rendered arguments and config file give the signer, as it reads them. */
function loadedConfig(manifests: readonly Manifest[]): RunConfig {
  const file = (find(manifests, 'ConfigMap').data as Record<string, string>)['signers.yaml'] ?? '';
  return loadRunConfig(argsOf(manifests).slice(1), { POD_NAMESPACE: 'certs' }, () => file);
}

/** Each Role of the release (namespace and rules) by name, and the ClusterRole's rules. */
function renderedRules(manifests: readonly Manifest[]): { cluster: PolicyRule[] | undefined; roles: Record<string, { namespace: string | undefined; rules: PolicyRule[] }> } {
  const roles = Object.fromEntries(manifests.filter((m) => m.kind === 'Role').map((m) => [m.metadata.name, { namespace: m.metadata.namespace, rules: rulesOf(m) }]));
  const cluster = manifests.filter((m) => m.kind === 'ClusterRole');
  return { cluster: cluster[0] ? rulesOf(cluster[0]) : undefined, roles };
}

/** What the code says the loaded configuration needs, in the shape the chart renders it. */
function codeRules(config: RunConfig): ReturnType<typeof renderedRules> {
  const rules = signerRules(config);
  const roles: ReturnType<typeof renderedRules>['roles'] = {};
  if (rules.leaderElection) roles['csr-signer-leader-election'] = rules.leaderElection;
  if (rules.rotationRecord) roles['csr-signer-rotation-record'] = rules.rotationRecord;
  return { cluster: rules.cluster, roles };
}

for (const [name, values, signerNames, targets, leaseName, recordName] of cases) {
  void t.test(`RBAC equals what the code needs (src/kube/rbac.ts) for ${name}`, (t) => {
    const { manifests } = renderChart({ values, releaseName: 'csr-signer', namespace: 'certs' });
    const config = loadedConfig(manifests);
    t.same(renderedRules(manifests), JSON.parse(JSON.stringify(codeRules(config))), 'the ClusterRole and each Role are signerRules of the loaded configuration');
    const clusterRole = find(manifests, 'ClusterRole');
    t.same(trustTargetsOf(config), targets, 'the signer publishes to exactly the targets RBAC pins');
    t.same(rulesOf(clusterRole), [...signerClusterRules(signerNames), ...signerTrustRules(targets)], 'ClusterRole rules');
    const leaseRole = find(manifests, 'Role', 'csr-signer-leader-election');
    const recordRole = find(manifests, 'Role', 'csr-signer-rotation-record');
    for (const role of [leaseRole, recordRole]) t.equal(role.metadata.namespace, 'certs', `${role.metadata.name} is in the release namespace`);
    t.same(rulesOf(leaseRole), signerLeaseRules(leaseName), 'Lease Role rules');
    t.same(rulesOf(recordRole), signerRotationRecordRules(recordName), 'rotation record Role rules');

    const args = argsOf(manifests);
    t.ok(args.includes(`--leader-elect-resource-name=${leaseName}`), 'the signer uses the Lease the Role names');
    t.ok(args.includes('--leader-elect-resource-namespace=certs'), 'in the release namespace');
    t.ok(args.includes(`--rotation-record=${recordName}`), 'and the rotation record the Role names');

    const account = find(manifests, 'ServiceAccount');
    const subject = { kind: 'ServiceAccount', name: account.metadata.name, namespace: 'certs' };
    const bindings: [string, string, string][] = [
      ['ClusterRoleBinding', 'ClusterRole', clusterRole.metadata.name],
      ['RoleBinding', 'Role', leaseRole.metadata.name],
      ['RoleBinding', 'Role', recordRole.metadata.name],
    ];
    for (const [kind, roleKind, roleName] of bindings) {
      const binding = find(manifests, kind, roleName);
      t.same(binding.subjects, [subject], `${kind} ${roleName} binds the signer's ServiceAccount only`);
      t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName });
    }
    t.end();
  });
}

void t.test('with leader election or the rotation record off, the Roles are still what the code needs', (t) => {
  const combos: Values[] = [
    { replicaCount: 1, leaderElection: { enabled: false } },
    { rotationRecord: { enabled: false } },
    { replicaCount: 1, leaderElection: { enabled: false }, rotationRecord: { enabled: false }, signers: trusting.signers },
  ];
  for (const values of combos) {
    const { manifests } = renderChart({ values, namespace: 'certs' });
    t.same(renderedRules(manifests), JSON.parse(JSON.stringify(codeRules(loadedConfig(manifests)))), JSON.stringify(values));
  }
  t.end();
});

void t.test('the chart grants no verb the client never sends: no patch, no events.k8s.io', (t) => {
  const { manifests } = renderChart({ values: trusting });
  const rules = manifests.filter((m) => m.kind === 'ClusterRole' || m.kind === 'Role').flatMap(rulesOf);
  t.same(rules.filter((r) => r.verbs.includes('patch')), [], 'no patch');
  t.same(rules.filter((r) => r.apiGroups.includes('events.k8s.io')), [], 'Events through the core API only');
  t.same(rules.filter((r) => r.resources.includes('events')).map((r) => r.verbs), [['create']], 'Events are only created');
  t.end();
});

void t.test('without trust targets the ClusterRole has no trust rule', (t) => {
  for (const values of [{}, { signers: [{ name: 'example.com/serving', policy, ca, trust: {} }] }] as Values[]) {
    const rules = rulesOf(find(renderChart({ values }).manifests, 'ClusterRole'));
    t.notOk(rules.some((r) => r.resources.some((res) => ['configmaps', 'namespaces', 'clustertrustbundles'].includes(res)) || r.verbs.includes('attest')), JSON.stringify(values));
  }
  t.end();
});

void t.test('the chart never grants approve, wildcards, delete, or list/watch of ConfigMaps', (t) => {
  for (const values of [{}, trusting]) {
    const { manifests } = renderChart({ values });
    const rules = manifests.filter((m) => m.kind === 'ClusterRole' || m.kind === 'Role').flatMap((m) => m.rules as { verbs: string[]; resources: string[]; resourceNames?: string[] }[]);
    t.ok(rules.length > 0);
    for (const rule of rules) {
      t.notOk(rule.verbs.some((v) => v === 'approve' || v === '*' || v === 'delete'), `verbs ${rule.verbs.join(',')}`);
      t.notOk(rule.resources.some((r) => r.includes('*') || r.endsWith('/approval')), `resources ${rule.resources.join(',')}`);
      t.notOk((rule.resourceNames ?? []).some((n) => n.includes('*')), 'no wildcard resourceNames');
      if (rule.resources.includes('configmaps')) t.notOk(rule.verbs.some((v) => v === 'list' || v === 'watch'), 'no ConfigMap list or watch: that would expose every ConfigMap');
      if (rule.verbs.some((v) => v !== 'create') && ['configmaps', 'clustertrustbundles', 'leases'].some((r) => rule.resources.includes(r))) {
        t.ok((rule.resourceNames ?? []).length > 0, `${rule.resources.join(',')} ${rule.verbs.join(',')}: by name only`);
      }
    }
  }
  t.end();
});

void t.test('rbac.create: false renders no RBAC objects; leader election or the record off drops its Role', (t) => {
  const roles = (values: Values): string[] => renderChart({ values }).manifests.filter((m) => m.kind === 'Role' || m.kind === 'RoleBinding').map((m) => `${m.kind} ${m.metadata.name}`).sort();
  const off = renderChart({ values: { rbac: { create: false } } }).manifests.map((m) => m.kind);
  t.notOk(off.some((k) => ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(k)));
  const single = { replicaCount: 1, leaderElection: { enabled: false } };
  t.ok(renderChart({ values: single }).manifests.some((m) => m.kind === 'ClusterRole'));
  t.same(roles(single), ['Role csr-signer-rotation-record', 'RoleBinding csr-signer-rotation-record']);
  t.same(roles({ rotationRecord: { enabled: false } }), ['Role csr-signer-leader-election', 'RoleBinding csr-signer-leader-election']);
  t.same(roles({ ...single, rotationRecord: { enabled: false } }), []);
  t.end();
});

void t.test('rotationRecord.enabled: false keeps the record in memory only', (t) => {
  const { manifests } = renderChart({ values: { rotationRecord: { enabled: false } }, namespace: 'certs' });
  const args = argsOf(manifests);
  t.ok(args.includes('--rotation-record='), 'an empty --rotation-record');
  const file = (find(manifests, 'ConfigMap').data as Record<string, string>)['signers.yaml'] ?? '';
  t.equal(loadRunConfig(args.slice(1), { POD_NAMESPACE: 'certs' }, () => file).rotationRecord, undefined);
  t.end();
});
