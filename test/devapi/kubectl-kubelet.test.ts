/**
 * A kubelet's identities against devapi with the real kubectl: a bootstrap token (system:bootstrap:<id>
 * in system:bootstrappers) and a client certificate from the client CA (CN system:node:worker-1, O
 * system:nodes), with the RBAC a kubeadm cluster gives them, and the 401s of credentials that fail.
 */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { makeClientCertificate } from '../helpers/client-certificates.js';
import { DevapiClient, kubectl, startDevapi, writeKubeconfig, type DevapiProcess } from '../helpers/devapi.js';
import { needTool, run, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
const clientCa = makeOpensslCa(dir, 'client-ca', 'p256');
const otherCa = makeOpensslCa(dir, 'other-ca', 'p256');
const node = makeClientCertificate(dir, 'worker-1', clientCa, '/CN=system:node:worker-1/O=system:nodes');
const expired = makeClientCertificate(dir, 'worker-1-expired', clientCa, '/CN=system:node:worker-1/O=system:nodes', { days: -1 });
const stranger = makeClientCertificate(dir, 'stranger', otherCa, '/CN=system:node:worker-1/O=system:nodes');
const TOKEN = 'abcdef.0123456789abcdef';
/** The credential id kube-apiserver gives a client certificate: the SHA-256 of its DER, in hex. */
const credentialId = (pem: string): Record<string, string[]> =>
  ({ 'authentication.kubernetes.io/credential-id': [`X509SHA256=${new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase()}`] });
const worker1User = { username: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'], extra: credentialId(node.certPem) };

let api: DevapiProcess;
let bootstrap: { kubeconfig: string };
let nodeConfig: { kubeconfig: string };
t.before(async () => {
  api = await startDevapi({ bootstrapTokens: [TOKEN], clientCaFile: clientCa.certPath });
  bootstrap = { kubeconfig: api.bootstrapKubeconfig('abcdef') };
  nodeConfig = { kubeconfig: writeKubeconfig(api, join(dir, 'worker-1.kubeconfig'), 'worker-1', { clientCertificatePem: node.certPem, clientKeyPem: node.keyPem }) };
});
t.teardown(() => api.stop());

/** A kubelet client certificate request for node `name`, as the kubelet makes it (ECDSA P-256). */
function kubeletClientCsr(csrName: string, name: string): string {
  const r = run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${csrName}.key`),
    '-subj', `/O=system:nodes/CN=system:node:${name}`]);
  if (r.code !== 0) throw new Error(r.stderr);
  return `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${csrName}
spec:
  request: ${Buffer.from(r.stdout).toString('base64')}
  signerName: kubernetes.io/kube-apiserver-client-kubelet
  usages: ["digital signature", "client auth"]
`;
}

const whoami = (who: { kubeconfig: string }): unknown => {
  const r = kubectl(api, who, ['auth', 'whoami', '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { status: { userInfo: unknown } }).status.userInfo;
};
const canI = (who: { kubeconfig: string }, subresource: string): string =>
  kubectl(api, who, ['auth', 'can-i', 'create', 'certificatesigningrequests', `--subresource=${subresource}`]).stdout.trim();

void t.test('kubectl as the bootstrap token is system:bootstrap:abcdef in system:bootstrappers', (t) => {
  t.same(whoami(bootstrap), { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] });
  t.end();
});

void t.test('the bootstrap token creates its kubelet client CSR with kubectl create -f and reads it back', (t) => {
  const created = kubectl(api, bootstrap, ['create', '-f', '-'], kubeletClientCsr('node-csr-worker-1', 'worker-1'));
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, 'certificatesigningrequest.certificates.k8s.io/node-csr-worker-1 created');
  const requester = kubectl(api, bootstrap, ['get', 'csr', 'node-csr-worker-1', '-o', 'jsonpath={.spec.username} {.spec.groups}']);
  t.equal(requester.code, 0, requester.stderr);
  t.equal(requester.stdout, 'system:bootstrap:abcdef ["system:bootstrappers","system:authenticated"]');
  const approve = kubectl(api, bootstrap, ['certificate', 'approve', 'node-csr-worker-1']);
  t.not(approve.code, 0, 'a bootstrap token may not approve');
  t.match(approve.stderr, 'User "system:bootstrap:abcdef" cannot update resource "certificatesigningrequests/approval"');
  t.end();
});

void t.test('kubectl auth can-i: nodeclient for bootstrappers, selfnodeclient for nodes, as kubeadm binds them', (t) => {
  t.equal(canI(bootstrap, 'nodeclient'), 'yes');
  t.equal(canI(bootstrap, 'selfnodeclient'), 'no');
  t.equal(canI(nodeConfig, 'selfnodeclient'), 'yes');
  t.equal(canI(nodeConfig, 'nodeclient'), 'no');
  t.end();
});

void t.test('kubectl with a client certificate from the client CA is its CN in groups of its O values, with its credential id', (t) => {
  t.same(whoami(nodeConfig), worker1User);
  const created = kubectl(api, nodeConfig, ['create', '-f', '-'], kubeletClientCsr('node-csr-renewal', 'worker-1'));
  t.equal(created.code, 0, created.stderr);
  const requester = kubectl(api, 'admin', ['get', 'csr', 'node-csr-renewal', '-o', 'json']);
  t.match(JSON.parse(requester.stdout), { spec: { username: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'], extra: credentialId(node.certPem) } },
    'the renewal is requested by the node itself, with the extra the approver forwards in its SubjectAccessReview');
  t.end();
});

void t.test('an expired client certificate is 401, as kubectl reports it', (t) => {
  const config = { kubeconfig: writeKubeconfig(api, join(dir, 'expired.kubeconfig'), 'expired', { clientCertificatePem: expired.certPem, clientKeyPem: expired.keyPem }) };
  const r = kubectl(api, config, ['auth', 'whoami']);
  t.not(r.code, 0);
  t.match(r.stderr, 'error: You must be logged in to the server (Unauthorized)');
  t.end();
});

void t.test('credentials that do not authenticate are 401; a certificate that fails gives way to a token that works', async (t) => {
  const client = new DevapiClient(api.url, api.stateDir);
  const path = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
  const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
  const user = async (credentials: Parameters<DevapiClient['callWith']>[3]): Promise<unknown> => {
    const r = await client.callWith('POST', path, body, credentials);
    return r.status === 201 ? (r.body as { status: { userInfo: unknown } }).status.userInfo : r.status;
  };
  t.equal(await user({ cert: stranger.certPem, key: stranger.keyPem }), 401, 'a certificate of another CA');
  t.equal(await user({ cert: expired.certPem, key: expired.keyPem }), 401, 'an expired certificate');
  t.equal(await user({ token: 'abcdef.0123456789abcdee' }), 401, 'a bootstrap token with the wrong secret');
  t.equal(await user({ token: 'qqqqqq.0123456789abcdef' }), 401, 'an unknown bootstrap token id');
  t.equal(await user({ token: 'abcdef-0123456789abcdef' }), 401, 'a token of no known form');
  t.same(await user({ token: TOKEN, cert: stranger.certPem, key: stranger.keyPem }),
    { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] }, 'the failed certificate is passed over');
  t.same(await user({ token: client.tokens.admin ?? '', cert: node.certPem, key: node.keyPem }), worker1User, 'a verified certificate comes before the token');
  t.equal(await user({}), 403, 'anonymous may not ask who it is');
});

void t.test('the node registers its Node with kubectl create -f and kubectl get nodes prints it', (t) => {
  const manifest = `apiVersion: v1
kind: Node
metadata:
  name: worker-1
  labels: {node-role.kubernetes.io/worker: ""}
status:
  addresses: [{type: InternalIP, address: 10.0.0.1}, {type: Hostname, address: worker-1}]
  conditions: [{type: Ready, status: "True"}]
  nodeInfo: {kubeletVersion: v1.32.4}
`;
  const created = kubectl(api, nodeConfig, ['create', '-f', '-'], manifest);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, 'node/worker-1 created');
  const foreign = kubectl(api, nodeConfig, ['create', '-f', '-'], manifest.replace(/worker-1/g, 'worker-2'));
  t.match(foreign.stderr, 'nodes "worker-2" is forbidden: node "worker-1" is not allowed to modify node "worker-2"');
  const table = kubectl(api, 'admin', ['get', 'nodes', '-o', 'wide']);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME/);
  t.match(table.stdout, /worker-1\s+Ready\s+worker\s+\S+\s+v1\.32\.4\s+10\.0\.0\.1\s+<none>\s+<unknown>/);
  // kubectl patch reads nodes/status first, which NodeRules do not grant a node (upstream neither): 403.
  const patch = ['patch', 'node', 'worker-1', '--subresource=status', '--type=merge', '-p', '{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.9"}]}}'];
  t.match(kubectl(api, nodeConfig, patch).stderr, 'User "system:node:worker-1" cannot get resource "nodes/status"');
  const status = kubectl(api, 'admin', patch);
  t.equal(status.code, 0, status.stderr);
  const addresses = kubectl(api, 'admin', ['get', 'no', 'worker-1', '-o', 'jsonpath={.status.addresses[*].address}']);
  t.equal(addresses.stdout, '10.0.0.9', 'the addresses change through /status');
  // kubectl patch's default type is a strategic merge patch: addresses merge by type, as the kubelet's status patches do.
  const strategic = kubectl(api, 'admin', ['patch', 'node', 'worker-1', '--subresource=status', '-p', '{"status":{"addresses":[{"type":"ExternalIP","address":"1.2.3.4"}]}}']);
  t.equal(strategic.code, 0, strategic.stderr);
  t.equal(kubectl(api, 'admin', ['get', 'no', 'worker-1', '-o', 'jsonpath={.status.addresses[*].address}']).stdout, '10.0.0.9 1.2.3.4');
  const applied = kubectl(api, 'admin', ['apply', '-f', '-'], manifest.replace('node-role.kubernetes.io/worker: ""', 'node-role.kubernetes.io/edge: ""'));
  t.equal(applied.code, 0, applied.stderr);
  t.match(kubectl(api, 'admin', ['get', 'nodes']).stdout, /worker-1\s+Ready\s+edge/, 'kubectl apply of a Node ($setElementOrder and all)');
  t.end();
});
