/**
 * kubernetes.io/kube-apiserver-client-kubelet approval, as kube-controller-manager's
 * csrapproving decides it (pkg/controller/certificates/approver/sarapprove.go and its
 * sarapprove_test.go): real requests parsed by the real parser, SubjectAccessReview
 * answers as the facts, the exact decision (kind, rule, message) asserted.
 */
import t from 'tap';
import { approvalFacts, decideApproval } from '../../src/signer/approval.js';
import type { ApprovalDecision, ApproverSignerConfig, Csr } from '../../src/signer/types.js';
import {
  csrBuilder, withGroups, withName, withRawRequest, withRequest, withSigner, withUsages, withUsername, type CsrModifier,
} from '../helpers/csr.js';
import type { RequestSpec } from '../helpers/requests.js';
import { parsed, withForgedSignature } from '../helpers/approval.js';

const signerName = 'kubernetes.io/kube-apiserver-client-kubelet';
const entry: ApproverSignerConfig = { signerName, profile: 'kubelet-client' };
const node1: RequestSpec = { key: 'p256', commonName: 'system:node:worker-1', organizations: ['system:nodes'] };

const kubeletCsr = (request: RequestSpec, ...more: CsrModifier[]): Csr => csrBuilder(
  withName('csr-abc12'), withSigner(signerName), withRequest(request), withUsages('digital signature', 'client auth'),
  withUsername('system:node:worker-1'), withGroups('system:nodes', 'system:authenticated'), ...more,
);

const decideWith = (csr: Csr, access: readonly boolean[]): ApprovalDecision =>
  decideApproval({ csr, request: parsed(csr), entry, signer: undefined, access });

const selfApproved: ApprovalDecision = { kind: 'approve', rule: 'selfnodeclient', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' };
const nodeApproved: ApprovalDecision = { kind: 'approve', rule: 'nodeclient', message: 'Auto approving kubelet client certificate after SubjectAccessReview.' };
const notApproved = (as: string): ApprovalDecision =>
  ({ kind: 'wait', rule: 'subject-access-review', message: `recognized csr "csr-abc12" as ${as} but subject access review was not approved` });
/** Not recognised: upstream returns nil — no approval, no denial, no retry. */
const notKubelet: ApprovalDecision = { kind: 'skip', reason: 'NotRecognized' };

const bootstrap = [withUsername('system:bootstrap:abcdef'), withGroups('system:bootstrappers', 'system:authenticated')];

interface Case { readonly name: string; readonly csr: Csr; readonly access: readonly boolean[]; readonly expected: ApprovalDecision }
const cases: Case[] = [
  { name: 'a node renewing its own certificate, selfnodeclient allowed: approved as selfnodeclient', csr: kubeletCsr(node1), access: [true, false], expected: selfApproved },
  { name: 'selfnodeclient denied but nodeclient allowed: approved as nodeclient, as upstream tries both in order', csr: kubeletCsr(node1), access: [false, true], expected: nodeApproved },
  { name: 'both allowed: the first recogniser wins', csr: kubeletCsr(node1), access: [true, true], expected: selfApproved },
  { name: 'both denied: left pending, upstream\'s message naming both recognisers', csr: kubeletCsr(node1), access: [false, false], expected: notApproved('[selfnodeclient nodeclient]') },
  { name: 'no answers given: nothing is approved without an allowed review', csr: kubeletCsr(node1), access: [], expected: notApproved('[selfnodeclient nodeclient]') },
  { name: 'RSA key with key encipherment: the other usage set of the shape', csr: kubeletCsr({ ...node1, key: 'rsa2048' }, withUsages('digital signature', 'key encipherment', 'client auth')), access: [true, false], expected: selfApproved },
  { name: 'the bootstrap token user asks for a node: nodeclient, the only review asked', csr: kubeletCsr(node1, ...bootstrap), access: [true], expected: nodeApproved },
  { name: 'the bootstrap token user without nodeclient: pending', csr: kubeletCsr(node1, ...bootstrap), access: [false], expected: notApproved('[nodeclient]') },
  { name: 'a node asking for another node\'s name: not self, so nodeclient only (answer 2)', csr: kubeletCsr({ ...node1, commonName: 'system:node:worker-2' }), access: [true, false], expected: notApproved('[nodeclient]') },
  { name: 'a node asking for another node\'s name with nodeclient allowed: approved as nodeclient', csr: kubeletCsr({ ...node1, commonName: 'system:node:worker-2' }), access: [false, true], expected: nodeApproved },
  { name: 'wrong organization: not recognised, nothing asked matters', csr: kubeletCsr({ ...node1, organizations: ['system:masters'] }), access: [true, true], expected: notKubelet },
  { name: 'a DNS name on a client certificate: not recognised', csr: kubeletCsr({ ...node1, dns: ['worker-1.example.com'] }), access: [true, true], expected: notKubelet },
  { name: 'an IP address on a client certificate: not recognised', csr: kubeletCsr({ ...node1, ips: ['10.0.0.1'] }), access: [true, true], expected: notKubelet },
  { name: 'a CN that is not a node: not recognised', csr: kubeletCsr({ ...node1, commonName: 'worker-1' }, withUsername('worker-1')), access: [true], expected: notKubelet },
  { name: 'server auth usage: not recognised', csr: kubeletCsr(node1, withUsages('digital signature', 'server auth')), access: [true, true], expected: notKubelet },
  { name: 'a CN of system:node: and nothing more, asked by the bootstrap user: approved by nodeclient, as upstream (the shape checks the prefix only)', csr: kubeletCsr({ ...node1, commonName: 'system:node:' }, ...bootstrap), access: [true], expected: nodeApproved },
  { name: 'a node\'s user asking for another node\'s CN, answers of the request-aware list (nodeclient only): read as nodeclient', csr: kubeletCsr({ ...node1, commonName: 'system:node:worker-2' }), access: [true], expected: nodeApproved },
  { name: 'answers of neither list\'s length are not read: a lone selfnodeclient answer never approves as nodeclient', csr: kubeletCsr(node1), access: [true], expected: notApproved('[selfnodeclient nodeclient]') },
];

void t.test('kubelet-client: the decision table', (t) => {
  for (const c of cases) t.same(decideWith(c.csr, c.access), c.expected, c.name);
  t.end();
});

void t.test('kubelet-client: the reviews asked, in upstream\'s order', (t) => {
  const review = (subresource: string): object => ({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource });
  t.same(approvalFacts(kubeletCsr(node1), entry), { access: [review('selfnodeclient'), review('nodeclient')] }, 'a node user: selfnodeclient, then nodeclient');
  t.same(approvalFacts(kubeletCsr(node1, ...bootstrap), entry), { access: [review('nodeclient')] }, 'a user that cannot be the CN of a kubelet client certificate: nodeclient only');
  const other = kubeletCsr({ ...node1, commonName: 'system:node:worker-2' });
  t.same(approvalFacts(other, entry), { access: [review('selfnodeclient'), review('nodeclient')] }, 'spec only: the CN is not known, so selfnodeclient is listed');
  t.same(approvalFacts(other, entry, parsed(other)), { access: [review('nodeclient')] }, 'with the request: the CN is not the username, so nodeclient only (upstream isSelfNodeClientCert)');
  const self = kubeletCsr(node1);
  t.same(approvalFacts(self, entry, parsed(self)), { access: [review('selfnodeclient'), review('nodeclient')] }, 'with the request: the node\'s own CN, both');
  const masters = kubeletCsr({ ...node1, organizations: ['system:masters'] });
  t.same(approvalFacts(masters, entry, parsed(masters)), { access: [] }, 'with a request not of the kubelet client shape: no review at all');
  const garbage = kubeletCsr(node1, withRawRequest(Buffer.from('not a request').toString('base64')));
  t.same(approvalFacts(garbage, entry, parsed(garbage)), { access: [] }, 'with a request that does not parse: no review at all');
  t.end();
});

void t.test('kubelet-client: a request that does not parse is not recognised: left alone, not retried', (t) => {
  const csr = kubeletCsr(node1, withRawRequest(Buffer.from('not a request').toString('base64')));
  t.same(decideWith(csr, [true, true]), notKubelet);
  t.end();
});

void t.test('kubelet-client: a request whose signature does not verify is never approved', (t) => {
  // Upstream's approver does not check the signature (the API server checks it when the CSR is created);
  // the approver here checks it with the parse, so such a request is not recognised.
  const csr = kubeletCsr(node1, withForgedSignature(node1));
  t.same(decideWith(csr, [true, true]), notKubelet);
  t.end();
});
