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
  approverClusterRules, cleanerClusterRules, podCertificateClusterRules, signerClusterRules, signerLeaseRules, signerRotationRecordRules, signerRules, signerTrustRules, trustTargetsOf,
  type PolicyRule, type TrustTargets,
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
  (find(manifests, 'Deployment', 'csr-signer') as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]?.args ?? [];

/** The configuration the rendered arguments and config file give the signer, as it reads them. */
function loadedConfig(manifests: readonly Manifest[]): RunConfig {
  const file = (find(manifests, 'ConfigMap').data as Record<string, string>)['signers.yaml'] ?? '';
  return loadRunConfig(argsOf(manifests).slice(1), { POD_NAMESPACE: 'certs' }, () => file);
}

/** Each Role of the release (namespace and rules) by name, and the ClusterRole's rules. */
function renderedRules(manifests: readonly Manifest[]): { cluster: PolicyRule[] | undefined; roles: Record<string, { namespace: string | undefined; rules: PolicyRule[] }> } {
  const roles = Object.fromEntries(manifests.filter((m) => m.kind === 'Role').map((m) => [m.metadata.name, { namespace: m.metadata.namespace, rules: rulesOf(m) }]));
  const cluster = manifests.find((m) => m.kind === 'ClusterRole' && m.metadata.name === 'csr-signer');
  return { cluster: cluster ? rulesOf(cluster) : undefined, roles };
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

/** Pod certificates: `podCertificates` with `namespaces` as given, on top of the signer's entry. */
const pods = (namespaces: Record<string, unknown>, more: Record<string, unknown> = {}): Record<string, unknown> => ({ podCertificates: { namespaces, ...more } });
const selector = { selector: { matchLabels: { 'pod-certificates': 'on' } } };

/** [case, values, signers with podCertificates, Pods read, Namespaces read, some signer serves CSRs] */
const podCases: [string, Values, string[], boolean, boolean, boolean][] = [
  ['one signer serving CSRs and pod certificates of every namespace', { signers: [{ name: 'example.com/mesh', policy, ca, ...pods({ all: true }) }] }, ['example.com/mesh'], false, false, true],
  ['pod certificates only, namespaces by name: no CSR rule, no Namespace read', { signers: [{ name: 'example.com/pods', ca, certificateSigningRequests: false, ...pods({ names: ['shop'] }) }] }, ['example.com/pods'], false, false, false],
  ['pod certificates only, namespaces by selector: Namespaces read', { signers: [{ name: 'example.com/pods', ca, certificateSigningRequests: false, ...pods(selector) }] }, ['example.com/pods'], false, true, false],
  ['the Pod check beside a CSR signer: Pods read', {
    signers: [{ name: 'example.com/serving', policy, ca }, { name: 'example.com/pods', ca, certificateSigningRequests: false, ...pods({ names: ['shop'] }, { podCheck: true }) }],
  }, ['example.com/pods'], true, false, true],
  ['two pod-certificate signers, a selector on one and the Pod check on the other, a built-in CSR signer with trust targets', {
    signers: [
      { name: 'example.com/pods', ca, certificateSigningRequests: false, trust: { clusterTrustBundle: {} }, ...pods(selector) },
      { name: 'example.com/mesh', policy, ca, ...pods({ names: ['mesh'] }, { podCheck: true, keyTypes: ['ED25519'] }) },
      { name: 'kubernetes.io/kubelet-serving', ca, trust: { configMap: { name: 'kubelet-ca' } } },
    ],
  }, ['example.com/pods', 'example.com/mesh'], true, true, true],
  ['podCheck: false and namespaces without a selector on every signer', {
    signers: [{ name: 'example.com/a', ca, certificateSigningRequests: false, ...pods({ all: true }, { podCheck: false }) }, { name: 'example.com/b', ca, certificateSigningRequests: false, ...pods({ names: ['b'] }) }],
  }, ['example.com/a', 'example.com/b'], false, false, false],
];

for (const [name, values, podSigners, podsRead, namespacesRead, csrs] of podCases) {
  void t.test(`pod certificates: RBAC equals what the code needs (src/kube/rbac.ts) for ${name}`, (t) => {
    const { manifests } = renderChart({ values, releaseName: 'csr-signer', namespace: 'certs' });
    const config = loadedConfig(manifests);
    t.same(renderedRules(manifests), JSON.parse(JSON.stringify(codeRules(config))), 'the ClusterRole and each Role are signerRules of the loaded configuration');
    t.same(config.signers.filter((s) => s.podCertificates).map((s) => s.name), podSigners, 'the signer signs pod certificates for exactly these');
    const rules = rulesOf(find(manifests, 'ClusterRole'));
    const has = (rule: PolicyRule): boolean => rules.some((r) => JSON.stringify(r) === JSON.stringify(rule));
    for (const rule of podCertificateClusterRules({ signerNames: podSigners, pods: podsRead, namespaces: namespacesRead })) t.ok(has(rule), `grants ${JSON.stringify(rule)}`);
    t.equal(rules.some((r) => r.resources.includes('pods')), podsRead, 'get of Pods only with podCheck');
    t.equal(rules.some((r) => r.resources.includes('namespaces') && r.verbs.includes('get')), namespacesRead, 'get of Namespaces only with a selector');
    t.equal(rules.some((r) => r.resources.some((res) => res.startsWith('certificatesigningrequests'))), csrs, 'CSR rules only when a signer serves CSRs');
    t.notOk(rules.some((r) => r.resources.some((res) => res.startsWith('podcertificaterequests')) && r.verbs.some((v) => ['create', 'delete', 'patch', '*'].includes(v))), 'PCRs are never created, deleted or patched');
    const signed = rules.filter((r) => r.verbs.includes('sign')).flatMap((r) => r.resourceNames ?? []);
    t.ok(podSigners.every((n) => signed.includes(n)), '`sign` on each pod-certificate signer name');
    t.notOk(signed.some((n) => n.includes('*')), 'never a wildcard');
    t.end();
  });
}

void t.test('without podCertificates the ClusterRole has no PodCertificateRequest, Pod or Namespace-get rule', (t) => {
  for (const values of [{}, trusting, { signers: [{ name: 'example.com/serving', policy, ca, podCertificates: {} }] }] as Values[]) {
    const rules = rulesOf(find(renderChart({ values }).manifests, 'ClusterRole'));
    t.notOk(rules.some((r) => r.resources.some((res) => res.startsWith('podcertificaterequests') || res === 'pods') || (r.resources.includes('namespaces') && r.verbs.includes('get'))), JSON.stringify(values));
  }
  t.end();
});

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

/** Every rule bound to the ServiceAccount `name` in namespace certs, by ClusterRoleBindings and RoleBindings. */
function rulesBoundTo(manifests: readonly Manifest[], name: string): PolicyRule[] {
  const bound = (b: Manifest): boolean => (b.subjects as { kind: string; name: string; namespace: string }[]).some((s) => s.kind === 'ServiceAccount' && s.name === name && s.namespace === 'certs');
  return manifests.filter((m) => (m.kind === 'ClusterRoleBinding' || m.kind === 'RoleBinding') && bound(m)).flatMap((b) => {
    const ref = b.roleRef as { kind: string; name: string };
    return rulesOf(find(manifests, ref.kind, ref.name));
  });
}
const grants = (rules: readonly PolicyRule[], verb: string, resource: string): boolean => rules.some((r) => r.verbs.includes(verb) && r.resources.includes(resource));

const kubeletServing = { signerName: 'kubernetes.io/kubelet-serving', extraIpRanges: ['10.0.0.0/8'] };
const useServing = { signerName: 'example.com/serving', subjectAccessReview: { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: 'example.com/serving' } };
const allBuiltIn = ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown'];

/** [case, values, approved signerNames (undefined: no approver), nodes read, cleaner on, the identity that approves and cleans] */
const approvalCases: [string, Values, string[] | undefined, boolean, boolean, string][] = [
  ['the approver off (the default)', {}, undefined, false, false, 'csr-signer'],
  ['the cleaner alone', { cleanup: { enabled: true } }, undefined, false, true, 'csr-signer'],
  ['the approver on: one entry per signer, the cleaner follows', { approver: { enabled: true } }, ['example.com/serving'], false, true, 'csr-signer'],
  ['the approver in audit mode: no write rule', { approver: { enabled: true, mode: 'audit' } }, ['example.com/serving'], false, false, 'csr-signer'],
  ['the approver in audit mode for kubelets, the cleaner asked for', {
    signers: allBuiltIn.map((name) => ({ name, ca })), approver: { enabled: true, mode: 'audit' }, cleanup: { enabled: true },
  }, ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving'], true, true, 'csr-signer'],
  ['a separate approver in audit mode', { approver: { enabled: true, mode: 'audit', separateDeployment: true, signers: [kubeletServing] } },
    ['kubernetes.io/kubelet-serving'], true, false, 'csr-signer-approver'],
  ['the approver with the cleaner off', { approver: { enabled: true }, cleanup: { enabled: false } }, ['example.com/serving'], false, false, 'csr-signer'],
  ['a kubelet-serving entry: Nodes are read', { approver: { enabled: true, signers: [kubeletServing, useServing] } }, ['kubernetes.io/kubelet-serving', 'example.com/serving'], true, true, 'csr-signer'],
  ['the four built-in signers: never kube-apiserver-client or legacy-unknown', { signers: allBuiltIn.map((name) => ({ name, ca })), approver: { enabled: true } },
    ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving'], true, true, 'csr-signer'],
  ['a separate approver Deployment', { approver: { enabled: true, separateDeployment: true } }, ['example.com/serving'], false, true, 'csr-signer-approver'],
  ['a separate approver for kubelets, named ServiceAccount, without the cleaner', {
    approver: { enabled: true, separateDeployment: true, signers: [{ signerName: 'kubernetes.io/kube-apiserver-client-kubelet' }, kubeletServing], serviceAccount: { name: 'approver' } },
    cleanup: { enabled: false },
  }, ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving'], true, false, 'approver'],
  ['separateDeployment without the approver: nothing separate', { approver: { separateDeployment: true }, cleanup: { enabled: true } }, undefined, false, true, 'csr-signer'],
];

for (const [name, values, approved, nodes, cleaner, identity] of approvalCases) {
  void t.test(`the approver's and the cleaner's RBAC equal what the code needs (src/kube/rbac.ts) for ${name}`, (t) => {
    const { manifests } = renderChart({ values, namespace: 'certs' });
    const separate = identity !== 'csr-signer';
    const mode = (values.approver as { mode?: 'enforce' | 'audit' } | undefined)?.mode ?? 'enforce';
    const writes = approved !== undefined && mode === 'enforce';
    const byName = (kind: string, n: string): Manifest | undefined => manifests.find((m) => m.kind === kind && m.metadata.name === n);
    const approverRole = byName('ClusterRole', 'csr-signer-approver');
    const cleanerRole = byName('ClusterRole', 'csr-signer-cleaner');
    if (approved) t.same(approverRole && rulesOf(approverRole), approverClusterRules({ signerNames: approved, nodes, mode }), `the approver ClusterRole (${mode})`);
    else t.equal(approverRole, undefined, 'no approver ClusterRole');
    if (cleaner) t.same(cleanerRole && rulesOf(cleanerRole), cleanerClusterRules(), 'the cleaner ClusterRole');
    else t.equal(cleanerRole, undefined, 'no cleaner ClusterRole');
    for (const [role, on] of [['csr-signer-approver', approved !== undefined], ['csr-signer-cleaner', cleaner]] as const) {
      if (!on) continue;
      const binding = find(manifests, 'ClusterRoleBinding', role);
      t.same(binding.subjects, [{ kind: 'ServiceAccount', name: identity, namespace: 'certs' }], `${role} is bound to ${identity} only`);
      t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role });
    }

    // The signer's own ClusterRole never changes with the approver: sign, never approve.
    const served = ((values.signers ?? [{ name: 'example.com/serving' }]) as { name: string }[]).map((s) => s.name);
    t.same(renderedRules(manifests).cluster, signerClusterRules(served), 'the signer ClusterRole is signerClusterRules, with or without the approver');
    const signerRulesBound = rulesBoundTo(manifests, 'csr-signer');
    t.equal(grants(signerRulesBound, 'approve', 'signers'), writes && !separate, 'the signer identity may approve only when it runs the approver in enforce mode');
    t.equal(grants(signerRulesBound, 'update', 'certificatesigningrequests/approval'), writes && !separate);
    t.equal(grants(signerRulesBound, 'delete', 'certificatesigningrequests'), cleaner && !separate, 'and delete only when it runs the cleaner');
    t.equal(grants(signerRulesBound, 'get', 'nodes'), nodes && !separate);
    const everyRule = manifests.filter((m) => m.kind === 'ClusterRole' || m.kind === 'Role').flatMap(rulesOf);
    t.notOk(everyRule.some((r) => r.resources.includes('nodes') && r.verbs.some((v) => v !== 'get')), 'Nodes: get only, never list or watch');
    if (approved !== undefined && mode === 'audit') {
      const approverOnly = rulesOf(find(manifests, 'ClusterRole', 'csr-signer-approver'));
      t.notOk(approverOnly.some((r) => r.verbs.some((v) => !['get', 'list', 'watch'].includes(v)) && !r.resources.includes('subjectaccessreviews')), 'audit: nothing but reads and SubjectAccessReviews');
    }
    if (separate) {
      const approverRules = rulesBoundTo(manifests, identity);
      t.notOk(grants(approverRules, 'sign', 'signers'), 'the approver identity never signs');
      t.equal(grants(approverRules, 'approve', 'signers'), writes, 'and approves only in enforce mode');
      t.notOk(grants(approverRules, 'update', 'certificatesigningrequests/status'), 'nor writes a certificate');
      t.notOk(approverRules.some((r) => r.resources.includes('configmaps') || r.resources.includes('secrets')), 'nor touches ConfigMaps or Secrets');
      t.same(rulesOf(find(manifests, 'Role', 'csr-signer-approver-leader-election')), signerLeaseRules('csr-signer-approver'), 'its own Lease, not the signer\'s');
      t.same(find(manifests, 'RoleBinding', 'csr-signer-approver-leader-election').subjects, [{ kind: 'ServiceAccount', name: identity, namespace: 'certs' }]);
    } else {
      t.notOk(manifests.some((m) => m.metadata.name.startsWith('csr-signer-approver') && ['Role', 'RoleBinding', 'Deployment', 'ServiceAccount'].includes(m.kind)), 'no separate approver objects');
    }
    t.end();
  });
}

void t.test('a separate approver without leader election has no Lease Role; rbac.create: false renders no approver RBAC', (t) => {
  const single = { replicaCount: 1, leaderElection: { enabled: false }, approver: { enabled: true, separateDeployment: true, replicaCount: 1 } };
  t.notOk(renderChart({ values: single }).manifests.some((m) => m.kind === 'Role' && m.metadata.name.includes('leader-election')));
  const off = renderChart({ values: { rbac: { create: false }, approver: { enabled: true, separateDeployment: true } } }).manifests.map((m) => m.kind);
  t.notOk(off.some((k) => ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(k)));
  t.ok(off.includes('ServiceAccount'), 'the approver still gets its ServiceAccount');
  t.end();
});
