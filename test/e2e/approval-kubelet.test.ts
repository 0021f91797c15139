/**
 * The kubelet's certificates without a human, end to end with real processes: a scripted
 * kubelet (openssl and the real kubectl, test/helpers/kubelet.ts) joins devapi with a
 * bootstrap token, and `csr-signer run` with the approver on approves and signs its
 * client certificate (rule nodeclient), its renewal under its own certificate
 * (selfnodeclient) and a serving certificate for the Node's own addresses; it denies a
 * serving certificate for an address the Node does not have, with one sentence; and,
 * as kube-controller-manager's csrapproving does, it leaves pending a kubelet client
 * request whose requester RBAC does not allow it, and approves it once RBAC is changed to
 * allow it (the approver looks again, with backoff, as upstream requeues it).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeOpensslCa } from '../helpers/ca.js';
import { kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { httpGet } from '../helpers/http.js';
import { KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, sampleOf, ScriptedKubelet } from '../helpers/kubelet.js';
import { manifests } from '../helpers/e2e.js';
import { opensslRequest } from '../helpers/requests.js';
import { startSigner, type SignerProcess } from '../helpers/signer.js';
import { needTool, opensslText, opensslVerify, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const TOKEN = 'abcdef.0123456789abcdef';
const NODE = 'worker-1';
const ADDRESSES = [
  { type: 'Hostname', address: 'worker-1' },
  { type: 'InternalDNS', address: 'worker-1.cluster.internal' },
  { type: 'InternalIP', address: '10.0.0.11' },
  { type: 'ExternalIP', address: '192.0.2.11' },
];
const SELF_MESSAGE = 'Auto approving self kubelet client certificate after SubjectAccessReview.';
const NODE_MESSAGE = 'Auto approving kubelet client certificate after SubjectAccessReview.';

const dir = tempDir('approval-kubelet-');
// The kubelet client signer's CA is the CA devapi trusts for client certificates, as kube-apiserver's --client-ca-file.
const clientCa = makeOpensslCa(dir, 'kubelet-client', 'p256');
const servingCa = makeOpensslCa(dir, 'kubelet-serving', 'p256');
const config = join(dir, 'signer.yaml');
writeFileSync(config, `apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
signers:
  - name: ${KUBELET_CLIENT_SIGNER}
    ca: { certFile: ${clientCa.certPath}, keyFile: ${clientCa.keyPath} }
  - name: ${KUBELET_SERVING_SIGNER}
    ca: { certFile: ${servingCa.certPath}, keyFile: ${servingCa.keyPath} }
approver:
  mode: enforce
  signers:
    - signerName: ${KUBELET_CLIENT_SIGNER}
    - signerName: ${KUBELET_SERVING_SIGNER}
`);

let api: DevapiProcess;
let signer: SignerProcess | undefined;
let kubelet: ScriptedKubelet;
t.before(async () => {
  api = await startDevapi({ bootstrapTokens: [TOKEN], clientCaFile: clientCa.certPath, signerApproves: true });
  const node = kubectl(api, 'admin', ['create', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'Node', metadata: { name: NODE }, status: { addresses: ADDRESSES },
  }));
  if (node.code !== 0) throw new Error(`creating Node ${NODE}: ${node.stderr}`);
  signer = await startSigner([
    '--kubeconfig', api.kubeconfig('signer'), '--config', config, '--leader-elect=false', '--leader-elect-resource-namespace', 'csr-signer',
    // A CSR the approver may not approve yet is looked at again after a backoff that doubles up to
    // --retry-max-delay (default 1000s). The last test grants RBAC after the CSR has waited a while:
    // a 2 s cap lets the next look come within seconds, not minutes, without changing what is decided.
    '--retry-max-delay', '2s',
    // The approver logs each look at a CSR it leaves pending at debug, with the delay to the next.
    '--log-level', 'debug',
  ], { waitFor: 'watching' });
  kubelet = new ScriptedKubelet(api, dir, NODE, TOKEN);
});
t.teardown(async () => {
  await signer?.stop();
  await api.stop();
});

const metrics = async (): Promise<string> => (await httpGet(`http://${String(signer?.logs.find((l) => l.msg === 'started')?.http)}/metrics`)).body;
const approvals = async (labels: Record<string, string>): Promise<number> => sampleOf(await metrics(), 'csr_signer_approvals_total', labels);

/** The CSR as admin sees it: who asked (spec.username, spec.groups) and its conditions. */
function asAdmin(name: string): { spec: { username?: string; groups?: string[] }; status?: { conditions?: { type: string }[] } } {
  const r = kubectl(api, 'admin', ['get', 'csr', name, '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as ReturnType<typeof asAdmin>;
}

void t.test('bootstrap: the token\'s client CSR is approved as nodeclient and signed; the kubelet uses the certificate', async (t) => {
  const outcome = await kubelet.requestClient();
  t.equal(asAdmin(outcome.name).spec.username, 'system:bootstrap:abcdef', 'sent by the bootstrap token\'s user');
  t.match(asAdmin(outcome.name).spec.groups, ['system:bootstrappers'], 'in system:bootstrappers');
  t.match(outcome.conditions.filter((c) => c.type === 'Approved'), [{ status: 'True', reason: 'AutoApproved' }], 'approved once');
  t.equal(outcome.conditions.find((c) => c.type === 'Approved')?.message, NODE_MESSAGE, 'with upstream\'s nodeclient message');
  t.notOk(outcome.denied ?? outcome.failed, 'neither Denied nor Failed');
  t.ok(outcome.certificate, 'signed');
  t.equal(opensslVerify(dir, clientCa.certPem, outcome.certificate ?? '').code, 0, 'verifies against the kubelet client CA');
  const text = opensslText(outcome.certificate ?? '');
  t.match(text, /Subject: CN=system:node:worker-1,O=system:nodes/);
  t.match(text, /TLS Web Client Authentication/);
  t.notMatch(text, /Subject Alternative Name/);
  t.equal(await approvals({ signer: KUBELET_CLIENT_SIGNER, decision: 'approved', rule: 'nodeclient' }), 1, 'counted under rule nodeclient');
});

void t.test('renewal: the kubelet, now system:node:worker-1, is approved as selfnodeclient and signed', async (t) => {
  const outcome = await kubelet.requestClient();
  const csr = asAdmin(outcome.name);
  t.equal(csr.spec.username, 'system:node:worker-1', 'sent with the issued client certificate');
  t.match(csr.spec.groups, ['system:nodes']);
  t.match(outcome.conditions.filter((c) => c.type === 'Approved'), [{ status: 'True', reason: 'AutoApproved' }], 'approved once');
  t.equal(outcome.conditions.find((c) => c.type === 'Approved')?.message, SELF_MESSAGE, 'with upstream\'s selfnodeclient message');
  t.equal(opensslVerify(dir, clientCa.certPem, outcome.certificate ?? '').code, 0, 'signed by the kubelet client CA');
  t.equal(await approvals({ signer: KUBELET_CLIENT_SIGNER, decision: 'approved', rule: 'selfnodeclient' }), 1, 'counted under rule selfnodeclient');
});

void t.test('serving: a request for the Node\'s own addresses is approved and signed', async (t) => {
  const outcome = await kubelet.requestServing({ dnsNames: ['worker-1', 'worker-1.cluster.internal'], ips: ['10.0.0.11', '192.0.2.11'] });
  t.equal(asAdmin(outcome.name).spec.username, 'system:node:worker-1');
  t.match(outcome.conditions.filter((c) => c.type === 'Approved'), [{ status: 'True', reason: 'AutoApproved' }]);
  t.notOk(outcome.denied ?? outcome.failed);
  t.equal(opensslVerify(dir, servingCa.certPem, outcome.certificate ?? '', undefined, { strict: true }).code, 0, 'verifies against the serving CA with -x509_strict');
  t.not(opensslVerify(dir, clientCa.certPem, outcome.certificate ?? '').code, 0, 'and not against the client CA');
  const text = opensslText(outcome.certificate ?? '');
  for (const name of ['DNS:worker-1', 'DNS:worker-1.cluster.internal', 'IP Address:10.0.0.11', 'IP Address:192.0.2.11']) t.match(text, name);
  t.match(text, /TLS Web Server Authentication/);
  t.match(text, /Subject: CN=system:node:worker-1,O=system:nodes/);
  t.equal(await approvals({ signer: KUBELET_SERVING_SIGNER, decision: 'approved', rule: 'kubelet-serving' }), 1);
});

void t.test('serving: an IP address the Node does not have is Denied with one sentence, and never signed', async (t) => {
  const outcome = await kubelet.requestServing({ dnsNames: ['worker-1'], ips: ['10.0.0.11', '10.9.9.9'] });
  t.match(outcome.denied, { status: 'True', reason: 'CsrSignerPolicyDenied' });
  t.equal(outcome.denied?.message, 'IP address "10.9.9.9" is not an address of node "worker-1"', 'one sentence naming the address and the node');
  t.notOk(outcome.certificate, 'no certificate');
  t.notOk(outcome.conditions.some((c) => c.type === 'Approved'), 'not approved');
  t.equal(await approvals({ signer: KUBELET_SERVING_SIGNER, decision: 'denied' }), 1, 'counted as denied');
  const events = await until(() => {
    const listed = kubectl(api, 'admin', ['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${outcome.name}`, '-o', 'json']).stdout;
    return listed.includes('CsrSignerPolicyDenied') ? listed : undefined;
  }, { what: `a CsrSignerPolicyDenied Event on ${outcome.name}`, ms: 10_000, intervalMs: 100 });
  t.match(events, /IP address \\"10\.9\.9\.9\\" is not an address of node \\"worker-1\\"/, 'an Event with the sentence');
});

void t.test('a kubelet client request whose requester RBAC does not allow stays pending, as upstream, and is approved once RBAC allows it', async (t) => {
  // A kubelet whose RBAC lacks nodeclient: the bootstrap tokens all authenticate in
  // system:bootstrappers, which devapi binds to nodeclient as kubeadm does, so a second token
  // would be allowed too. devapi's `requester` identity stands in: it may create CSRs (as
  // system:node-bootstrapper grants) but is bound to neither nodeclient nor selfnodeclient. Its
  // request has the kubelet client shape and a CN other than its own name, so it is recognised as
  // nodeclient, and the SubjectAccessReview for `requester` says no: what the approver sees for a
  // kubelet bootstrapping with credentials that RBAC does not let ask for nodeclient.
  const request = opensslRequest(dir, 'not-allowed', { cn: 'system:node:worker-2', o: ['system:nodes'] });
  const created = kubectl(api, 'requester', ['create', '-f', '-'],
    manifests([{ name: 'not-allowed', signerName: KUBELET_CLIENT_SIGNER, usages: ['digital signature', 'client auth'], request }]));
  t.equal(created.code, 0, created.stderr);
  const waitingBefore = await approvals({ signer: KUBELET_CLIENT_SIGNER, decision: 'waiting' });
  // A later CSR, from a second kubelet joining with the token, is approved and signed:
  // the approver has been through the queue since.
  const second = new ScriptedKubelet(api, tempDir('approval-kubelet-2-'), 'worker-3', TOKEN);
  const later = await second.requestClient();
  t.ok(later.certificate, 'the later CSR is approved and signed');
  await until(async () => (await approvals({ signer: KUBELET_CLIENT_SIGNER, decision: 'waiting' })) >= Math.max(1, waitingBefore),
    { what: 'the approver to count the request it may not approve as waiting', ms: 20_000, intervalMs: 200 });
  const csr = asAdmin('not-allowed');
  t.same(csr.status?.conditions ?? [], [], 'no condition: neither approved nor denied');
  t.notOk(kubectl(api, 'admin', ['get', 'csr', 'not-allowed', '-o', 'jsonpath={.status.certificate}']).stdout, 'no certificate');
  t.match(kubectl(api, 'admin', ['get', 'csr', 'not-allowed']).stdout, /Pending/);

  // Looked at again with a backoff that doubles (200 ms base, ±10%), each look logged with its delay.
  const looks = await until(() => {
    const found = signer?.logs.filter((l) => l.csr === 'not-allowed' && l.msg === 'not approved; looking again later') ?? [];
    return found.length >= 3 ? found : undefined;
  }, { what: 'three looks at not-allowed', ms: 20_000, intervalMs: 100 });
  const delays = looks.slice(0, 3).map((l) => Number(l.retryInMs));
  t.ok(delays[1]! > delays[0]! && delays[2]! > delays[1]!, `each delay longer than the one before: ${delays.join(', ')} ms`);
  t.match(looks[0], { rule: 'subject-access-review', controller: 'csr-approver', message: /nodeclient/ }, 'waiting on the nodeclient SubjectAccessReview');

  // Retried with backoff: once RBAC allows the requester, the same CSR is approved as nodeclient and signed
  // without being touched again (upstream's csrapproving requeues it rate limited; nothing watches RBAC).
  // devapi serves no RBAC API: it reads its policy at start, so the grant (a ClusterRoleBinding of
  // upstream's nodeclient ClusterRole to user `requester`) is a restart on the same state and port.
  const nodeclientBefore = await approvals({ signer: KUBELET_CLIENT_SIGNER, decision: 'approved', rule: 'nodeclient' });
  const grant = join(dir, 'requester-nodeclient.yaml');
  writeFileSync(grant, JSON.stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'requester-nodeclient' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'requester' }],
  }));
  const port = Number(new URL(api.url).port);
  await api.stop();
  api = await startDevapi({ stateDir: api.stateDir, port, bootstrapTokens: [TOKEN], clientCaFile: clientCa.certPath, signerApproves: true, args: ['--policy', grant] });
  const approved = await until(() => {
    const r = kubectl(api, 'admin', ['get', 'csr', 'not-allowed', '-o', 'json']);
    const now = JSON.parse(r.stdout) as { status?: { certificate?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
    return now.status?.certificate ? now.status : undefined;
  }, { what: 'not-allowed to be approved and issued after the binding', ms: 30_000, intervalMs: 200 });
  t.match(approved.conditions?.filter((c) => c.type === 'Approved'), [{ status: 'True', reason: 'AutoApproved', message: NODE_MESSAGE }], 'approved once, with upstream\'s nodeclient message');
  t.notOk(approved.conditions?.some((c) => c.type === 'Denied' || c.type === 'Failed'), 'neither Denied nor Failed');
  const issued = Buffer.from(approved.certificate ?? '', 'base64').toString('utf8');
  t.equal(opensslVerify(dir, clientCa.certPem, issued).code, 0, 'signed by the kubelet client CA');
  t.match(opensslText(issued), /Subject: CN=system:node:worker-2,O=system:nodes/);
  t.equal(await approvals({ signer: KUBELET_CLIENT_SIGNER, decision: 'approved', rule: 'nodeclient' }), nodeclientBefore + 1, 'the nodeclient approvals rose by one');
});
