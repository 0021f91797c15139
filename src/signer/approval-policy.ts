/**
 * A custom signer (profile `policy`): approve what the signer itself would issue, and
 * deny the rest with the signer's own sentence. The rules are the signer's — its
 * usages, key types, duration, SAN/subject/requester policy and the CA refusal, all in
 * signer/decide.ts `evaluate` — never a second copy of them here. When the entry names
 * a SubjectAccessReview, the requester (the CSR's user, uid, groups, extra) must also be
 * allowed that access, so RBAC can say who may get certificates from which signer.
 *
 *   the request does not parse or its signature does not verify → deny (rule policy)
 *   evaluate() fails                                          → deny (rule policy), its message
 *   the SubjectAccessReview was not allowed                   → deny (rule subject-access-review)
 *   its answer is missing (not asked)                         → wait
 *   otherwise                                                 → approve (rule policy)
 */
import type { CsrSignerError } from '../errors.js';
import type { CertificateRequest } from '../pki/index.js';
import { evaluate } from './decide.js';
import type { ApprovalDecision, ApproverSignerConfig, Csr, ResourceAttributes, SignerConfig } from './types.js';

export function policyFacts(entry: ApproverSignerConfig): { access: ResourceAttributes[] } {
  return { access: entry.subjectAccessReview ? [entry.subjectAccessReview] : [] };
}

/** The access in words: `use signers example.com/serving (group certificates.k8s.io)`. */
export function describeAccess(a: ResourceAttributes): string {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const named = a.name ? ` ${a.name}` : '';
  const where = [a.group === '' ? 'the core group' : `group ${a.group}`, ...(a.namespace ? [`namespace ${a.namespace}`] : [])].join(', ');
  return `${a.verb} ${resource}${named} (${where})`;
}

export function decidePolicy(
  csr: Csr, request: CertificateRequest | CsrSignerError, entry: ApproverSignerConfig, signer: SignerConfig | undefined,
  access: readonly boolean[],
): ApprovalDecision {
  if (signer === undefined || signer.name !== entry.signerName) return { kind: 'skip', reason: 'NotConfigured' };
  if (request instanceof Error) return { kind: 'deny', rule: 'policy', message: request.message };
  const decision = evaluate(csr, request, signer);
  if (decision.kind === 'fail') return { kind: 'deny', rule: 'policy', message: decision.message };
  const review = entry.subjectAccessReview;
  if (review !== undefined) {
    const user = JSON.stringify(csr.spec.username ?? '');
    const allowed = access[0];
    if (allowed === undefined) return { kind: 'wait', rule: 'subject-access-review', message: `the SubjectAccessReview for ${user} to ${describeAccess(review)} has no answer yet` };
    if (!allowed) return { kind: 'deny', rule: 'subject-access-review', message: `requester ${user} may not ${describeAccess(review)}` };
  }
  return {
    kind: 'approve', rule: 'policy',
    message: review === undefined
      ? `Auto approving certificate for signer ${signer.name}: the request meets the signer's policy.`
      : `Auto approving certificate for signer ${signer.name}: the request meets the signer's policy and the requester may ${describeAccess(review)}.`,
  };
}
