/**
 * The approver's rules common to every profile: what it never touches (a signer it is
 * not configured for, a CSR already approved, denied, failed or issued), the same
 * skips from decideApproval as from approvalTriage, and which facts each profile asks for.
 */
import t from 'tap';
import { approvalFacts, approvalTriage, decideApproval } from '../../src/signer/approval.js';
import type { ApprovalDecision, ApproverSignerConfig, Csr } from '../../src/signer/types.js';
import {
  approved, csrBuilder, denied, failed, signerConfig, withCertificate, withCondition, withGroups, withRequest, withSigner,
  withUsages, withUsername, type CsrModifier,
} from '../helpers/csr.js';
import { parsed } from '../helpers/approval.js';

const kubelet = 'kubernetes.io/kube-apiserver-client-kubelet';
const serving = 'kubernetes.io/kubelet-serving';
const custom = 'example.com/serving';

const entries: Record<string, ApproverSignerConfig> = {
  [kubelet]: { signerName: kubelet, profile: 'kubelet-client' },
  [serving]: { signerName: serving, profile: 'kubelet-serving' },
  [custom]: { signerName: custom, profile: 'policy', subjectAccessReview: { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: custom } },
};

const kubeletCsr = (...more: CsrModifier[]): Csr => csrBuilder(
  withSigner(kubelet), withRequest({ key: 'p256', commonName: 'system:node:worker-1', organizations: ['system:nodes'] }),
  withUsages('digital signature', 'client auth'), withUsername('system:node:worker-1'), withGroups('system:nodes'), ...more,
);
const skip = (reason: string): ApprovalDecision => ({ kind: 'skip', reason } as ApprovalDecision);

interface Case { readonly name: string; readonly csr: Csr; readonly entry: ApproverSignerConfig | undefined; readonly expected: ApprovalDecision | undefined }
const cases: Case[] = [
  { name: 'a pending kubelet client CSR of a configured signer goes on to be decided', csr: kubeletCsr(), entry: entries[kubelet], expected: undefined },
  { name: 'no entry for the signer: NotConfigured', csr: kubeletCsr(), entry: undefined, expected: skip('NotConfigured') },
  { name: 'an entry for another signer: NotConfigured', csr: kubeletCsr(), entry: entries[serving], expected: skip('NotConfigured') },
  { name: 'the kubelet-client profile on a signer other than kube-apiserver-client-kubelet: NotConfigured', csr: kubeletCsr(withSigner(custom)), entry: { signerName: custom, profile: 'kubelet-client' }, expected: skip('NotConfigured') },
  { name: 'the kubelet-serving profile on a signer other than kubelet-serving: NotConfigured', csr: kubeletCsr(withSigner(custom)), entry: { signerName: custom, profile: 'kubelet-serving' }, expected: skip('NotConfigured') },
  // The profile must be the one the signer name implies: a built-in name under `policy` is never approved.
  ...[kubelet, serving, 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/legacy-unknown'].map((name) => ({
    name: `${name} configured with profile policy: NotConfigured`, csr: kubeletCsr(withSigner(name)), entry: { signerName: name, profile: 'policy' as const }, expected: skip('NotConfigured'),
  })),
  ...(['kubelet-client', 'kubelet-serving'] as const).flatMap((profile) => ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/legacy-unknown'].map((name) => ({
    name: `${name} configured with profile ${profile}: NotConfigured`, csr: kubeletCsr(withSigner(name)), entry: { signerName: name, profile }, expected: skip('NotConfigured'),
  }))),
  { name: 'the kubelet-serving profile on kube-apiserver-client-kubelet: NotConfigured', csr: kubeletCsr(), entry: { signerName: kubelet, profile: 'kubelet-serving' }, expected: skip('NotConfigured') },
  { name: 'a custom signer under policy goes on to be decided', csr: kubeletCsr(withSigner(custom)), entry: entries[custom], expected: undefined },
  { name: 'already approved: AlreadyApproved', csr: kubeletCsr(approved()), entry: entries[kubelet], expected: skip('AlreadyApproved') },
  { name: 'an Approved condition with status False still counts, as upstream reads types only', csr: kubeletCsr(withCondition({ type: 'Approved', status: 'False' })), entry: entries[kubelet], expected: skip('AlreadyApproved') },
  { name: 'already denied: AlreadyDenied', csr: kubeletCsr(denied()), entry: entries[kubelet], expected: skip('AlreadyDenied') },
  { name: 'approved and denied: AlreadyDenied', csr: kubeletCsr(approved(), denied()), entry: entries[kubelet], expected: skip('AlreadyDenied') },
  { name: 'failed (even with status False): AlreadyFailed', csr: kubeletCsr(failed('False')), entry: entries[kubelet], expected: skip('AlreadyFailed') },
  { name: 'a certificate and no condition: AlreadyIssued', csr: kubeletCsr(withCertificate()), entry: entries[kubelet], expected: skip('AlreadyIssued') },
  { name: 'approved and issued: AlreadyIssued first, as upstream checks the certificate first', csr: kubeletCsr(approved(), withCertificate()), entry: entries[kubelet], expected: skip('AlreadyIssued') },
];

void t.test('the triage: what the approver never touches', (t) => {
  for (const c of cases) t.same(approvalTriage(c.csr, c.entry), c.expected, c.name);
  t.end();
});

void t.test('decideApproval skips what the triage skips, whatever the facts say', (t) => {
  for (const c of cases.filter((c) => c.expected !== undefined)) {
    const decision = decideApproval({ csr: c.csr, request: parsed(c.csr), entry: c.entry, signer: signerConfig(custom), node: null, access: [true, true] });
    t.same(decision, c.expected, c.name);
  }
  t.end();
});

void t.test('the facts each profile asks for', (t) => {
  const review = (subresource: string): object => ({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource });
  t.same(approvalFacts(kubeletCsr(), entries[kubelet] as ApproverSignerConfig), { access: [review('selfnodeclient'), review('nodeclient')] },
    'kubelet-client: the two reviews, no Node');
  const servingCsr = kubeletCsr(withSigner(serving));
  t.same(approvalFacts(servingCsr, entries[serving] as ApproverSignerConfig), { node: 'worker-1', access: [] }, 'kubelet-serving: the requester\'s Node, no review');
  t.same(approvalFacts(servingCsr, { signerName: custom, profile: 'policy' }), { access: [] }, 'policy without a review: nothing');
  t.same(approvalFacts(servingCsr, entries[custom] as ApproverSignerConfig),
    { access: [{ verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: custom }] }, 'policy with a review: that review, as configured');
  t.end();
});
