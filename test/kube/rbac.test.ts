/**
 * The RBAC rules the signer's calls need (src/kube/rbac.ts): one list per feature, each
 * only when the configuration turns that feature on, and never a verb the client does
 * not send. test/chart/rbac.test.ts holds the chart to these; the end-to-end tests run
 * the signer in devapi with exactly these.
 */
import t from 'tap';
import { signerRules, trustTargetsOf, type RbacConfig } from '../../src/kube/rbac.js';

const base: RbacConfig = {
  signers: [{ name: 'example.com/serving' }],
  leaderElection: { enabled: true, resourceName: 'lock', resourceNamespace: 'certs' },
  rotationRecord: { namespace: 'certs', name: 'record' },
};
const verbsOf = (rules: readonly { resources: readonly string[]; verbs: readonly string[] }[]): string[] => rules.map((r) => `${r.resources.join(',')}:${r.verbs.join(',')}`);

void t.test('each feature brings its own rules, and only when it is on', (t) => {
  const all = signerRules(base);
  t.same(verbsOf(all.cluster), ['certificatesigningrequests:get,list,watch', 'certificatesigningrequests/status:update', 'signers:sign', 'events:create'], 'signing: read CSRs, PUT status, sign, POST Events');
  t.same(all.leaderElection?.namespace, 'certs');
  t.same(all.leaderElection?.rules.map((r) => [r.verbs, r.resourceNames]), [[['get', 'update'], ['lock']], [['create'], undefined]], 'the one Lease: GET and PUT by name, POST');
  t.same(all.rotationRecord?.rules.map((r) => [r.verbs, r.resourceNames]), [[['get', 'update'], ['record']], [['create'], undefined]], 'the one record ConfigMap: GET and PUT by name, POST');

  const bare = signerRules({ ...base, leaderElection: { ...base.leaderElection, enabled: false }, rotationRecord: undefined });
  t.same(Object.keys(bare), ['cluster'], 'leader election and the record off: no Role');

  const trusting = signerRules({ ...base, signers: [{ name: 'example.com/a', trust: { configMap: { name: 'a-ca' } } }, { name: 'example.com/b', trust: { clusterTrustBundle: { name: 'example.com:b:csr-signer' } } }] });
  t.same(verbsOf(trusting.cluster.slice(4)), [
    'namespaces:list,watch', 'configmaps:get,update', 'configmaps:create', 'clustertrustbundles:get,update', 'clustertrustbundles:create', 'signers:attest',
  ], 'trust publishing: the namespace watch, then each kind of target configured');
  t.same(trusting.cluster.find((r) => r.verbs.includes('attest'))?.resourceNames, ['example.com/b'], 'attest for the signers that publish a ClusterTrustBundle only');
  t.end();
});

void t.test('pod certificates bring the PodCertificateRequest rules, with Pods and Namespaces only when used', (t) => {
  const pods = (podCheck: boolean, selector?: unknown) => ({ podCheck, namespaces: selector === undefined ? {} : { selector } });
  const csrRules = ['certificatesigningrequests:get,list,watch', 'certificatesigningrequests/status:update', 'signers:sign', 'events:create'];
  const pcrRules = ['podcertificaterequests:get,list,watch', 'podcertificaterequests/status:update', 'signers:sign', 'events:create'];
  t.same(verbsOf(signerRules({ ...base, signers: [{ name: 'example.com/serving', certificateSigningRequests: true }] }).cluster), csrRules, 'no podCertificates: no PodCertificateRequest rule');

  const both = signerRules({ ...base, signers: [{ name: 'example.com/serving' }, { name: 'example.com/pods', podCertificates: pods(false) }] }).cluster;
  t.same(verbsOf(both), [...csrRules, ...pcrRules], 'CSRs and PodCertificateRequests: both sets, no Pods, no Namespaces');
  t.same(both.filter((r) => r.verbs.includes('sign')).map((r) => r.resourceNames), [['example.com/serving', 'example.com/pods'], ['example.com/pods']], 'sign for every signer, and again with the PodCertificateRequest rules for the pod signers');

  const only = signerRules({ ...base, signers: [{ name: 'example.com/pods', certificateSigningRequests: false, podCertificates: pods(true, { matchLabels: { a: 'b' } }) }] }).cluster;
  t.same(verbsOf(only), ['signers:sign', 'events:create', ...pcrRules, 'pods:get', 'namespaces:get'], 'no signer serves CSRs: no certificatesigningrequests rule, sign and Events stay; the Pod check reads Pods, the selector Namespaces');
  t.notOk(only.some((r) => r.resources.some((x) => x.startsWith('certificatesigningrequests'))));

  const mixed = signerRules({ ...base, signers: [
    { name: 'example.com/a', certificateSigningRequests: false, podCertificates: pods(false) },
    { name: 'example.com/b', podCertificates: pods(false, { matchLabels: { a: 'b' } }) },
  ] }).cluster;
  t.same(verbsOf(mixed), [...csrRules, ...pcrRules, 'namespaces:get'], 'one signer serves CSRs: the CSR rules stay; a selector on any signer reads Namespaces, no Pod check reads no Pods');
  t.same(verbsOf(signerRules({ ...base, signers: [{ name: 'example.com/a', podCertificates: pods(true) }] }).cluster), [...csrRules, ...pcrRules, 'pods:get'], 'the Pod check alone reads Pods');
  t.end();
});

void t.test('no rule grants a verb the client never sends', (t) => {
  const { cluster, leaderElection, rotationRecord } = signerRules({
    ...base, signers: [{ name: 'example.com/a', trust: { configMap: { name: 'a-ca' }, clusterTrustBundle: { name: 'example.com:a:csr-signer' } } }],
  });
  const verbs = new Set([...cluster, ...(leaderElection?.rules ?? []), ...(rotationRecord?.rules ?? [])].flatMap((r) => r.verbs));
  t.same([...verbs].sort(), ['attest', 'create', 'get', 'list', 'sign', 'update', 'watch']);
  t.end();
});

void t.test('trust targets are read from the configuration in signer order', (t) => {
  t.same(trustTargetsOf({ signers: [{ name: 'example.com/a', trust: { configMap: { name: 'x' } } }, { name: 'example.com/b' }, { name: 'example.com/c', trust: { configMap: { name: 'y' }, clusterTrustBundle: { name: 'z' } } }] }), {
    configMapNames: ['x', 'y'], clusterTrustBundleNames: ['z'], attestSignerNames: ['example.com/c'],
  });
  t.end();
});

void t.test('names that would widen the grant are refused', (t) => {
  t.throws(() => signerRules({ ...base, signers: [] }), /empty resourceNames list would match every signer/);
  t.throws(() => signerRules({ ...base, signers: [{ name: 'example.com' }] }), /not a signerName/);
  t.throws(() => signerRules({ ...base, leaderElection: { ...base.leaderElection, resourceName: '' } }), /leaseName is required/);
  t.end();
});
