/**
 * One source of truth: the chart's ClusterRole and Lease Role are exactly
 * src/rbac/signer-role.ts for the configured signers — the rules devapi gives the
 * signer in every end-to-end test (src/devapi/default-policy.ts).
 */
import t from 'tap';
import { signerClusterRules, signerLeaseRules } from '../../src/rbac/signer-role.js';
import { find, renderChart, type Manifest, type Values } from './render.js';

const ca = { existingSecret: 'ca' };
const cases: [string, Values, string[], string][] = [
  ['the default values', {}, ['example.com/serving'], 'csr-signer'],
  ['three signers, one built in', {
    signers: [{ name: 'example.com/serving', ca }, { name: 'example.com/client', ca }, { name: 'kubernetes.io/kubelet-serving', ca }],
  }, ['example.com/serving', 'example.com/client', 'kubernetes.io/kubelet-serving'], 'csr-signer'],
  ['a named lease', { leaderElection: { leaseName: 'signer-lock' } }, ['example.com/serving'], 'signer-lock'],
];

const rulesOf = (m: Manifest): unknown => JSON.parse(JSON.stringify(m.rules)) as unknown;

for (const [name, values, signerNames, leaseName] of cases) {
  void t.test(`RBAC equals src/rbac/signer-role.ts for ${name}`, (t) => {
    const { manifests } = renderChart({ values, releaseName: 'csr-signer', namespace: 'certs' });
    const clusterRole = find(manifests, 'ClusterRole');
    t.same(rulesOf(clusterRole), signerClusterRules(signerNames), 'ClusterRole rules');
    const role = find(manifests, 'Role');
    t.equal(role.metadata.namespace, 'certs', 'the Lease Role is in the release namespace');
    t.same(rulesOf(role), signerLeaseRules(leaseName), 'Role rules');

    const deployment = find(manifests, 'Deployment');
    const args = (deployment as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]?.args ?? [];
    t.ok(args.includes(`--leader-elect-resource-name=${leaseName}`), 'the signer uses the Lease the Role names');
    t.ok(args.includes('--leader-elect-resource-namespace=certs'), 'in the release namespace');

    const account = find(manifests, 'ServiceAccount');
    const subject = { kind: 'ServiceAccount', name: account.metadata.name, namespace: 'certs' };
    for (const [kind, roleKind, roleName] of [['ClusterRoleBinding', 'ClusterRole', clusterRole.metadata.name], ['RoleBinding', 'Role', role.metadata.name]] as const) {
      const binding = find(manifests, kind);
      t.same(binding.subjects, [subject], `${kind} binds the signer's ServiceAccount only`);
      t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName });
    }
    t.end();
  });
}

void t.test('the chart never grants approve, wildcards or delete', (t) => {
  const { manifests } = renderChart();
  const rules = manifests.filter((m) => m.kind === 'ClusterRole' || m.kind === 'Role').flatMap((m) => m.rules as { verbs: string[]; resources: string[]; resourceNames?: string[] }[]);
  t.ok(rules.length > 0);
  for (const rule of rules) {
    t.notOk(rule.verbs.some((v) => v === 'approve' || v === '*' || v === 'delete'), `verbs ${rule.verbs.join(',')}`);
    t.notOk(rule.resources.some((r) => r.includes('*') || r.endsWith('/approval')), `resources ${rule.resources.join(',')}`);
    t.notOk((rule.resourceNames ?? []).some((n) => n.includes('*')), 'no wildcard resourceNames');
  }
  t.end();
});

void t.test('rbac.create: false renders no RBAC objects; leader election off renders no Role', (t) => {
  const off = renderChart({ values: { rbac: { create: false } } }).manifests.map((m) => m.kind);
  t.notOk(off.some((k) => ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(k)));
  const single = renderChart({ values: { replicaCount: 1, leaderElection: { enabled: false } } }).manifests.map((m) => m.kind);
  t.ok(single.includes('ClusterRole'));
  t.notOk(single.includes('Role'));
  t.end();
});
