/**
 * The approver and the cleaner in the chart: the `approver:` and `cleanup:` the chart
 * renders into the SignerConfiguration (the config file's documented shape), in the
 * signer's file or, with approver.separateDeployment, in the file of a Deployment of
 * its own that runs `csr-signer run --signing=false` with no CA, under its own
 * ServiceAccount and Lease, on pods the signer's selector never matches.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { loadRunConfig } from '../../src/config/index.js';
import { chartDir, find, renderChart, TemplateError, type Manifest, type Values } from './render.js';

interface Pod {
  serviceAccountName: string;
  containers: { name: string; args: string[]; volumeMounts: { name: string; mountPath: string }[]; resources: unknown }[];
  volumes: { name: string; secret?: unknown; configMap?: { name: string; items?: unknown[] } }[];
  topologySpreadConstraints?: { labelSelector: { matchLabels: Record<string, string> } }[];
}
interface Deployment { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: Pod } } }

const deployment = (manifests: readonly Manifest[], name: string): Deployment => find(manifests, 'Deployment', name) as unknown as Deployment;
const configFile = (manifests: readonly Manifest[], key: string): string | undefined => (find(manifests, 'ConfigMap').data as Record<string, string>)[key];
interface ConfigSections { approver?: unknown; cleanup?: unknown; signing?: unknown; signers: { name: string; ca?: unknown; trust?: unknown }[] }
const sections = (text: string | undefined): ConfigSections => parse(text ?? '') as ConfigSections;

const ages = { issued: '1h', denied: '1h', failed: '1h', pending: '24h', approvedUnissued: '24h' };
const ca = { existingSecret: 'ca' };
const policy = { dnsNames: ['*.{namespace}.svc'], ipRanges: [] };

void t.test("the approver's entries and the cleaner's ages are rendered in the config file's shape", (t) => {
  const cases: [string, Values, unknown, unknown][] = [
    ['off by default: neither section', {}, undefined, undefined],
    ['the cleaner alone', { cleanup: { enabled: true, pending: '12h' } }, undefined, { enabled: true, ...ages, pending: '12h' }],
    ['on: an entry per signer that has a profile, the cleaner on', {
      signers: [{ name: 'example.com/serving', ca, policy }, { name: 'kubernetes.io/kube-apiserver-client', ca }, { name: 'kubernetes.io/kube-apiserver-client-kubelet', ca }, { name: 'kubernetes.io/legacy-unknown', ca }],
      approver: { enabled: true },
    }, { mode: 'enforce', signers: [{ signerName: 'example.com/serving' }, { signerName: 'kubernetes.io/kube-apiserver-client-kubelet' }] }, { enabled: true, ...ages }],
    ['audit mode, the entries given, the cleaner off', {
      approver: {
        enabled: true, mode: 'audit',
        signers: [
          { signerName: 'kubernetes.io/kubelet-serving', extraDnsNames: ['*.nodes.example.com'], extraDnsRegexes: ['^ip-[0-9-]+\\.ec2\\.internal$'], extraIpRanges: ['10.0.0.0/8'], maxSubjectAltNames: 8 },
          { signerName: 'example.com/serving', subjectAccessReview: { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: 'example.com/serving' } },
        ],
      },
      cleanup: { enabled: false },
    }, {
      mode: 'audit',
      signers: [
        { signerName: 'kubernetes.io/kubelet-serving', extraDnsNames: ['*.nodes.example.com'], extraDnsRegexes: ['^ip-[0-9-]+\\.ec2\\.internal$'], extraIpRanges: ['10.0.0.0/8'], maxSubjectAltNames: 8 },
        { signerName: 'example.com/serving', subjectAccessReview: { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: 'example.com/serving' } },
      ],
    }, { enabled: false }],
  ];
  for (const [name, values, approver, cleanup] of cases) {
    const { manifests } = renderChart({ values });
    const file = sections(configFile(manifests, 'signers.yaml'));
    t.same(file.approver, approver, `${name}: approver`);
    t.same(file.cleanup, cleanup, `${name}: cleanup`);
    t.equal(file.signing, undefined, `${name}: the signer signs`);
    t.equal(configFile(manifests, 'approver.yaml'), undefined, `${name}: no separate approver file`);
  }
  t.end();
});

void t.test('with the approver in the signer, the rest of the config file still loads as csr-signer run reads it', (t) => {
  const { manifests } = renderChart({ values: { approver: { enabled: true } }, namespace: 'certs' });
  const text = configFile(manifests, 'signers.yaml') ?? '';
  // Only signers: the approver and cleanup sections are checked above against the documented shape.
  const signersOnly = text.replace(/^(approver|cleanup):\n(( {2}.*)?\n)*/gm, '');
  t.notMatch(signersOnly, /approver|cleanup/);
  const args = deployment(manifests, 'csr-signer').spec.template.spec.containers[0]?.args ?? [];
  t.same(loadRunConfig(args.slice(1), { POD_NAMESPACE: 'certs' }, () => signersOnly).signers.map((s) => s.name), ['example.com/serving']);
  t.end();
});

const separate: Values = {
  signers: [{ name: 'example.com/serving', ca: { existingSecret: 'serving-ca' }, policy, trust: { configMap: { name: 'serving-ca' } } }],
  approver: { enabled: true, separateDeployment: true, signers: [{ signerName: 'kubernetes.io/kubelet-serving' }, { signerName: 'example.com/serving' }], extraArgs: ['--workers=2'] },
};

void t.test('separateDeployment: the approver runs apart, with --signing=false, its own file, identity and Lease, and no CA', (t) => {
  const { manifests } = renderChart({ values: separate, namespace: 'certs' });
  const signer = deployment(manifests, 'csr-signer');
  const approver = deployment(manifests, 'csr-signer-approver');
  const pod = approver.spec.template.spec;
  const c = pod.containers[0];
  t.same(c?.args.slice(0, 3), ['run', '--config=/etc/csr-signer/config/approver.yaml', '--signing=false']);
  t.ok(c?.args.includes('--leader-elect-resource-name=csr-signer-approver'), 'its own Lease');
  t.ok(c?.args.includes('--leader-elect-resource-namespace=certs'));
  t.ok(c?.args.includes('--rotation-record='), 'no CA, no rotation record');
  t.ok(c?.args.includes('--workers=2'), 'approver.extraArgs');
  t.notOk(signer.spec.template.spec.containers[0]?.args.includes('--workers=2'), 'only there');
  t.equal(pod.serviceAccountName, 'csr-signer-approver');
  t.equal(signer.spec.template.spec.serviceAccountName, 'csr-signer');
  t.same(pod.volumes, [{ name: 'config', configMap: { name: 'csr-signer', items: [{ key: 'approver.yaml', path: 'approver.yaml' }] } }], 'the config file only: no CA Secret');
  t.same(c?.volumeMounts.map((m) => m.mountPath), ['/etc/csr-signer/config']);
  t.ok(find(manifests, 'ServiceAccount', 'csr-signer-approver'));
  t.equal(approver.spec.replicas, 2);

  const approverFile = sections(configFile(manifests, 'approver.yaml'));
  t.same(approverFile.approver, { mode: 'enforce', signers: [{ signerName: 'kubernetes.io/kubelet-serving' }, { signerName: 'example.com/serving' }] });
  t.same(approverFile.cleanup, { enabled: true, ...ages });
  t.equal(approverFile.signing, false, 'signing: false, as --signing=false says');
  t.same(approverFile.signers, [{ name: 'example.com/serving', policy }], 'the signers\' rules, which the policy profile applies: no CA, no trust targets (the signer publishes them)');
  const signerFile = sections(configFile(manifests, 'signers.yaml'));
  t.equal(signerFile.approver, undefined, 'the signer does not approve');
  t.equal(signerFile.cleanup, undefined, 'nor clean');
  t.ok(signerFile.signers[0]?.trust, 'and still publishes its trust bundle');
  t.end();
});

void t.test("the approver's pods are never selected by the signer's Deployment, Service or PodDisruptionBudget", (t) => {
  const { manifests } = renderChart({ values: separate, namespace: 'certs' });
  const approverLabels = deployment(manifests, 'csr-signer-approver').spec.template.metadata.labels;
  const matches = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => approverLabels[k] === v);
  t.notOk(matches(deployment(manifests, 'csr-signer').spec.selector.matchLabels), 'the signer Deployment');
  t.notOk(matches((find(manifests, 'Service', 'csr-signer').spec as { selector: Record<string, string> }).selector), 'the signer Service');
  t.notOk(matches((find(manifests, 'PodDisruptionBudget', 'csr-signer').spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels), 'the signer PDB');
  const approver = deployment(manifests, 'csr-signer-approver');
  t.same(approver.spec.template.spec.topologySpreadConstraints?.[0]?.labelSelector.matchLabels, approver.spec.selector.matchLabels, 'spread by its own labels');
  const service = find(manifests, 'Service', 'csr-signer-approver');
  t.same((service.spec as { selector: unknown }).selector, approver.spec.selector.matchLabels, 'its own Service for /metrics');
  t.match(service.metadata.labels, { 'app.kubernetes.io/name': 'csr-signer', 'app.kubernetes.io/instance': 'csr-signer' }, 'which the ServiceMonitor selects with the signer\'s');
  t.end();
});

void t.test("the separate approver's pods get their own PodDisruptionBudget, NetworkPolicy and PodMonitor", (t) => {
  const values: Values = {
    ...separate,
    podMonitor: { enabled: true },
    networkPolicy: { enabled: true, ingress: { from: [{ podSelector: {} }] }, egress: { apiServer: { cidrs: ['10.0.0.10/32'] } } },
  };
  const { manifests } = renderChart({ values, apiVersions: ['monitoring.coreos.com/v1'] });
  const approverSelector = deployment(manifests, 'csr-signer-approver').spec.selector.matchLabels;
  const signerSelector = deployment(manifests, 'csr-signer').spec.selector.matchLabels;
  t.same((find(manifests, 'PodDisruptionBudget', 'csr-signer-approver').spec as { selector: unknown }).selector, { matchLabels: approverSelector });
  t.same((find(manifests, 'PodMonitor', 'csr-signer-approver').spec as { selector: unknown }).selector, { matchLabels: approverSelector });
  t.same((find(manifests, 'PodMonitor', 'csr-signer').spec as { selector: unknown }).selector, { matchLabels: signerSelector });
  const policies = ['csr-signer', 'csr-signer-approver'].map((n) => find(manifests, 'NetworkPolicy', n).spec as { podSelector: unknown; egress: unknown; ingress: unknown });
  t.same(policies[1]?.podSelector, { matchLabels: approverSelector });
  t.same(policies[0]?.podSelector, { matchLabels: signerSelector });
  t.same(policies[1]?.egress, policies[0]?.egress, 'the same egress: the API server only');
  t.same(policies[1]?.ingress, policies[0]?.ingress);
  t.end();
});

void t.test('a changed approver configuration rolls only the pods that read it', (t) => {
  const checksum = (values: Values, name: string): string | undefined =>
    deployment(renderChart({ values }).manifests, name).spec.template.metadata.annotations['checksum/config'];
  const changed = { ...separate, approver: { ...(separate.approver as object), mode: 'audit' } };
  t.not(checksum(changed, 'csr-signer-approver'), checksum(separate, 'csr-signer-approver'));
  t.equal(checksum(changed, 'csr-signer'), checksum(separate, 'csr-signer'));
  t.not(checksum({ approver: { enabled: true } }, 'csr-signer'), checksum({}, 'csr-signer'), 'the approver in the signer rolls the signer');
  t.end();
});

void t.test('the chart refuses an approver with nothing to approve, replicas without a Lease, and a shared Lease', (t) => {
  const refusals: [string, Values, RegExp][] = [
    ['only signers that are never approved automatically', { signers: [{ name: 'kubernetes.io/kube-apiserver-client', ca }], approver: { enabled: true } }, /no signer to approve for/],
    ['two approver replicas without leader election', { replicaCount: 1, leaderElection: { enabled: false }, approver: { enabled: true, separateDeployment: true } }, /approver\.replicaCount > 1 needs leaderElection\.enabled/],
    ['a separate approver on the namespace\'s default ServiceAccount by omission', { approver: { enabled: true, separateDeployment: true, serviceAccount: { create: false } } },
      /approver\.serviceAccount\.name is required when approver\.serviceAccount\.create is false: the separate approver never runs as the namespace's default ServiceAccount/],
    ['a separate approver on the signer\'s ServiceAccount', { approver: { enabled: true, separateDeployment: true, serviceAccount: { create: false, name: 'csr-signer' } } },
      /approver\.serviceAccount\.name "csr-signer" is the signer's ServiceAccount: with approver\.separateDeployment the approver needs one of its own/],
    ['a separate approver creating a ServiceAccount of the signer\'s name', { serviceAccount: { name: 'pki' }, approver: { enabled: true, separateDeployment: true, serviceAccount: { name: 'pki' } } },
      /approver\.serviceAccount\.name "pki" is the signer's ServiceAccount/],
    ['a separate approver on the signer\'s default ServiceAccount', { serviceAccount: { create: false }, approver: { enabled: true, separateDeployment: true, serviceAccount: { create: false, name: 'default' } } },
      /approver\.serviceAccount\.name "default" is the signer's ServiceAccount/],
    ['the approver on the signer\'s Lease', { leaderElection: { leaseName: 'pki' }, approver: { enabled: true, separateDeployment: true, leaseName: 'pki' } }, /approver\.leaseName must differ from the signer's Lease/],
  ];
  for (const [name, values, message] of refusals) t.throws(() => renderChart({ values }), { constructor: TemplateError, message }, name);
  t.end();
});

void t.test('NOTES.txt says who approves, in which mode, and what the cleaner deletes', (t) => {
  const notes = (values: Values): string => renderChart({ values }).files.get('NOTES.txt') ?? '';
  t.match(notes({}), /approve it \(kubectl certificate approve NAME\)/);
  t.notMatch(notes({}), /approver|deleted after/);
  const audit = notes({ approver: { enabled: true, mode: 'audit', separateDeployment: true } });
  t.match(audit, /The approver \(audit mode, in deployment\/csr-signer-approver as ServiceAccount csr-signer-approver\) decides CSRs for:\n {2}- example\.com\/serving/);
  t.match(audit, /Audit mode writes nothing: keep what approves today \(kube-controller-manager's csrapproving\)\nrunning, compare csr_signer_approvals_total with what it approves, then set\napprover\.mode=enforce with both running/);
  t.notMatch(audit, /turn off kube-controller-manager's/, 'audit: nothing is turned off yet');
  t.match(notes({ approver: { enabled: true } }), /Once it approves as expected alongside kube-controller-manager, turn off\nkube-controller-manager's csrapproving and csrcleaner/, 'enforce: only then turn off kube-controller-manager\'s');
  t.notMatch(audit, /deleted/, 'audit mode: the cleaner is off unless cleanup.enabled says so, and the notes say nothing is deleted');
  const auditCleaning = notes({ approver: { enabled: true, mode: 'audit' }, cleanup: { enabled: true } });
  t.match(auditCleaning, /deleted after issued 1h, denied 1h, failed 1h, pending 24h, approved but never issued 24h/);
  t.match(notes({ approver: { enabled: true } }), /deleted after issued 1h/, 'enforce mode: the cleaner follows the approver');
  t.notMatch(notes({ approver: { enabled: true }, cleanup: { enabled: false } }), /deleted after/);
  t.end();
});

void t.test('the chart README gives docs/replacing-kcm.md\'s order: audit, enforce with both running, then turn kube-controller-manager\'s off', (t) => {
  const readme = readFileSync(join(chartDir, 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const order = readFileSync(join(chartDir, '..', '..', 'docs', 'replacing-kcm.md'), 'utf8');
  t.match(order, /1\. \*\*Audit\.\*\*[\s\S]*2\. \*\*Enforce\.\*\*[\s\S]*3\. \*\*Turn off kube-controller-manager's\.\*\*/, 'the order the README follows');
  t.notMatch(readme, /turn off what approves today/i, 'never turn off what approves before the approver is on');
  t.match(readme, /first `approver\.mode: audit` \(it writes nothing; the cleaner stays off unless `cleanup\.enabled: true`\), then `approver\.mode: enforce` with both approving, and only then turn off kube-controller-manager's `csrapproving` and `csrcleaner`/);
  t.end();
});
