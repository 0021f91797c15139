/**
 * Custom signers (profile policy): approved when the signer itself would issue the
 * request — its own policy decides, through signer/decide.ts `evaluate`, with its own
 * sentences — and, when configured, when the requester passes a SubjectAccessReview.
 */
import t from 'tap';
import { approvalFacts, decideApproval } from '../../src/signer/approval.js';
import type { ApprovalDecision, ApproverSignerConfig, Csr, SignerConfig } from '../../src/signer/types.js';
import {
  csrBuilder, signerConfig, withGroups, withRawRequest, withRequest, withSigner, withUsages, withUsername, type CsrModifier,
} from '../helpers/csr.js';
import type { RequestSpec } from '../helpers/requests.js';
import { parsed, withForgedSignature } from '../helpers/approval.js';

const signerName = 'example.com/serving';
const signer: SignerConfig = signerConfig(signerName, {
  allowedUsages: ['digital signature', 'key encipherment', 'server auth'],
  policy: { dnsNames: ['*.{namespace}.svc', '*.{namespace}.svc.cluster.local'], allowEmailAddresses: false, allowUris: false, commonName: 'dns-name', allowCA: false },
});
const use = { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: signerName };
const plain: ApproverSignerConfig = { signerName, profile: 'policy' };
const withReview: ApproverSignerConfig = { ...plain, subjectAccessReview: use };

const web = (dns: string[], more: Partial<RequestSpec> = {}): RequestSpec => ({ key: 'p256', commonName: dns[0] ?? '', dns, ...more });
const shopCsr = (spec: RequestSpec, ...more: CsrModifier[]): Csr => csrBuilder(
  withSigner(signerName), withRequest(spec), withUsages('digital signature', 'server auth'),
  withUsername('system:serviceaccount:shop:web'), withGroups('system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'), ...more,
);

const approvedPlain: ApprovalDecision = { kind: 'approve', rule: 'policy', message: 'Auto approving certificate for signer example.com/serving: the request meets the signer\'s policy.' };
const approvedReviewed: ApprovalDecision = {
  kind: 'approve', rule: 'policy',
  message: 'Auto approving certificate for signer example.com/serving: the request meets the signer\'s policy and the requester may use signers example.com/serving (group certificates.k8s.io).',
};
const denied = (rule: string, message: string): ApprovalDecision => ({ kind: 'deny', rule, message });

interface Case {
  readonly name: string;
  readonly csr: Csr;
  readonly entry: ApproverSignerConfig;
  readonly access?: readonly boolean[];
  readonly signer?: SignerConfig | undefined;
  readonly expected: ApprovalDecision;
}

const cases: Case[] = [
  { name: 'web.shop.svc from system:serviceaccount:shop:web: approved', entry: plain, csr: shopCsr(web(['web.shop.svc'])), expected: approvedPlain },
  { name: 'web.shop.svc with the review allowed: approved', entry: withReview, access: [true], csr: shopCsr(web(['web.shop.svc', 'web.shop.svc.cluster.local'])), expected: approvedReviewed },
  { name: 'web.bank.svc from a service account of shop: denied with the policy\'s sentence', entry: plain, csr: shopCsr(web(['web.bank.svc'])), expected: denied('policy', 'subjectAltName DNS "web.bank.svc" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc, *.{namespace}.svc.cluster.local)') },
  { name: 'web.shop.svc with the review not allowed: denied naming the access', entry: withReview, access: [false], csr: shopCsr(web(['web.shop.svc'])), expected: denied('subject-access-review', 'requester "system:serviceaccount:shop:web" may not use signers example.com/serving (group certificates.k8s.io)') },
  { name: 'the policy is checked before the review: its sentence wins', entry: withReview, access: [false], csr: shopCsr(web(['web.bank.svc'])), expected: denied('policy', 'subjectAltName DNS "web.bank.svc" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc, *.{namespace}.svc.cluster.local)') },
  { name: 'a usage the signer does not allow: the signer\'s sentence', entry: plain, csr: shopCsr(web(['web.shop.svc']), withUsages('digital signature', 'client auth')), expected: denied('policy', 'spec.usages contains "client auth", which signer example.com/serving does not allow (allowed: digital signature, key encipherment, server auth)') },
  { name: 'a user that is not a service account: {namespace} matches nothing', entry: plain, csr: shopCsr(web(['web.shop.svc']), withUsername('alice')), expected: denied('policy', 'subjectAltName DNS "web.shop.svc" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc, *.{namespace}.svc.cluster.local)') },
  { name: 'the review not answered: wait, nothing decided without it', entry: withReview, access: [], csr: shopCsr(web(['web.shop.svc'])), expected: { kind: 'wait', rule: 'subject-access-review', message: 'the SubjectAccessReview for "system:serviceaccount:shop:web" to use signers example.com/serving (group certificates.k8s.io) has no answer yet' } },
  { name: 'no signer configured under that name: NotConfigured', entry: plain, signer: undefined, csr: shopCsr(web(['web.shop.svc'])), expected: { kind: 'skip', reason: 'NotConfigured' } },
  { name: 'a signer of another name: NotConfigured', entry: plain, signer: signerConfig('example.com/other'), csr: shopCsr(web(['web.shop.svc'])), expected: { kind: 'skip', reason: 'NotConfigured' } },
];

void t.test('policy: the decision table', (t) => {
  for (const c of cases) {
    const chosen = 'signer' in c ? c.signer : signer;
    t.same(decideApproval({ csr: c.csr, request: parsed(c.csr), entry: c.entry, signer: chosen, access: c.access ?? [] }), c.expected, c.name);
  }
  t.end();
});

void t.test('policy: a request without proof of possession is denied with the parser\'s sentence', (t) => {
  const csr = shopCsr(web(['web.shop.svc']), withRawRequest(Buffer.from('garbage').toString('base64')));
  t.same(decideApproval({ csr, request: parsed(csr), entry: plain, signer, access: [] }),
    denied('policy', 'the request must be exactly one CERTIFICATE REQUEST PEM block, found no PEM block'));
  t.end();
});

void t.test('policy: a request whose signature does not verify is denied, even with the review allowed', (t) => {
  const spec = web(['web.shop.svc']);
  const csr = shopCsr(spec, withForgedSignature(spec));
  t.match(decideApproval({ csr, request: parsed(csr), entry: withReview, signer, access: [true] }),
    { kind: 'deny', rule: 'policy', message: /^the request's signature does not verify with its own public key/ });
  t.end();
});

void t.test('policy: the review is described with every attribute it has', (t) => {
  const csr = shopCsr(web(['web.shop.svc']));
  const review = { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'shop' };
  t.same(approvalFacts(csr, { ...plain, subjectAccessReview: review }), { access: [review] });
  t.same(decideApproval({ csr, request: parsed(csr), entry: { ...plain, subjectAccessReview: review }, signer, access: [false] }),
    denied('subject-access-review', 'requester "system:serviceaccount:shop:web" may not create pods/exec (the core group, namespace shop)'));
  t.end();
});
