/**
 * The approver's decisions: pure functions of the CSR, its parsed request, the
 * approver's entry for its signer, and the facts the controller fetched for it (the
 * requesting node's Node object, the answers of SubjectAccessReviews). No I/O.
 *
 * The controller's order for one CSR:
 *
 *   approvalTriage(csr, entry)       the cheap skips: not configured, already decided, issued
 *   parse the request                the parsed request, or the permanent error parsing it
 *                                    gave (the signature check is the proof of possession)
 *   approvalFacts(csr, entry, request)  what to fetch: the Node to read, the SubjectAccessReviews
 *                                    to ask (in this order, for the CSR's user, uid, groups, extra)
 *   decideApproval({ ... })          skip | approve | deny | wait (skip NotRecognized: a
 *                                    kubelet-client request csrapproving would not recognise)
 *
 * One ladder per profile, each in its own file: approval-kubelet-client.ts (exactly
 * kube-controller-manager's csrapproving), approval-kubelet-serving.ts, approval-policy.ts.
 */
import type { CsrSignerError } from '../errors.js';
import type { CertificateRequest } from '../pki/index.js';
import { kubeletClientFacts, decideKubeletClient, kubeletClientSignerName } from './approval-kubelet-client.js';
import { kubeletServingFacts, decideKubeletServing, kubeletServingSignerName } from './approval-kubelet-serving.js';
import { decidePolicy, policyFacts } from './approval-policy.js';
import { hasCertificate } from './conditions.js';
import type {
  ApprovalDecision, ApprovalProfile, ApprovalSkipReason, ApproverSignerConfig, Csr, Node, ResourceAttributes, SignerConfig,
} from './types.js';

/**
 * What the decision needs fetched: the Node named `node` (when set) and the answers to
 * every review of `access`, in order — all of them (they may be asked at once): which
 * one decides depends on the parsed request, so stopping at the first allowed answer
 * could leave the deciding one unasked.
 */
export interface ApprovalFacts {
  readonly node?: string;
  readonly access: readonly ResourceAttributes[];
}

export interface ApprovalInput {
  readonly csr: Csr;
  /** The parsed request, or the permanent error parsing (or checking the signature of) it gave. */
  readonly request: CertificateRequest | CsrSignerError;
  /** The approver's entry for the CSR's signerName; undefined when it has none. */
  readonly entry: ApproverSignerConfig | undefined;
  /** The signer's configuration (the policy profile checks against it); undefined when csr-signer has none. */
  readonly signer: SignerConfig | undefined;
  /** The Node approvalFacts() named: null when it does not exist, undefined when not read. */
  readonly node?: Node | null;
  /**
   * Whether each SubjectAccessReview of approvalFacts(csr, entry, request).access was allowed,
   * same order (answers of the list approvalFacts gives without the request are read too);
   * a missing answer is not known.
   */
  readonly access: readonly boolean[];
}

const skip = (reason: ApprovalSkipReason): ApprovalDecision => ({ kind: 'skip', reason });
const hasType = (csr: Csr, type: string): boolean => (csr.status?.conditions ?? []).some((c) => c.type === type);

/**
 * The one profile a signer name can be approved under: kubelet-client for
 * kube-apiserver-client-kubelet, kubelet-serving for kubelet-serving, policy for a
 * name outside `kubernetes.io/` (a custom signer). Any other `kubernetes.io/` name
 * (kube-apiserver-client, legacy-unknown, one Kubernetes adds later) has none: it is
 * never auto-approved, whatever the configuration says.
 */
export function impliedProfile(signerName: string): ApprovalProfile | undefined {
  if (signerName === kubeletClientSignerName) return 'kubelet-client';
  if (signerName === kubeletServingSignerName) return 'kubelet-serving';
  return signerName.startsWith('kubernetes.io/') ? undefined : 'policy';
}

/**
 * The cheap skips, before the request is parsed; undefined means go on. Any condition
 * of type Approved, Denied or Failed counts, whatever its status (kube-controller-manager's
 * csrapproving skips on a certificate or an Approved or Denied condition,
 * pkg/controller/certificates/approver/sarapprove.go `handle`; a Failed CSR is also left
 * alone here: nothing will sign it). An entry whose profile is not the one its signer
 * name implies (impliedProfile) is not configured.
 */
export function approvalTriage(csr: Csr, entry: ApproverSignerConfig | undefined): ApprovalDecision | undefined {
  if (entry === undefined || entry.signerName !== csr.spec.signerName) return skip('NotConfigured');
  if (entry.profile !== impliedProfile(entry.signerName)) return skip('NotConfigured');
  if (hasCertificate(csr)) return skip('AlreadyIssued');
  if (hasType(csr, 'Failed')) return skip('AlreadyFailed');
  if (hasType(csr, 'Denied')) return skip('AlreadyDenied');
  if (hasType(csr, 'Approved')) return skip('AlreadyApproved');
  return undefined;
}

/**
 * What the decision of this CSR needs (deterministic: decideApproval() reads the
 * answers by this list's order). Pass the parsed request (or its parse error) when
 * there is one: kubelet-client then asks exactly the reviews kube-controller-manager
 * asks — none for a request it does not recognise, selfnodeclient only when the
 * username is the subject CN. Without it the list is read from the spec alone and may
 * name one review more; decideApproval() accepts the answers of either list.
 */
export function approvalFacts(csr: Csr, entry: ApproverSignerConfig, request?: CertificateRequest | CsrSignerError): ApprovalFacts {
  switch (entry.profile) {
    case 'kubelet-client': return kubeletClientFacts(csr, request);
    case 'kubelet-serving': return kubeletServingFacts(csr);
    case 'policy': return policyFacts(entry);
  }
}

/** The whole decision for one CSR: the triage again, then the entry's profile. */
export function decideApproval(input: ApprovalInput): ApprovalDecision {
  const { csr, entry } = input;
  const skipped = approvalTriage(csr, entry);
  if (skipped) return skipped;
  if (entry === undefined) return skip('NotConfigured'); // approvalTriage said so already; for the type checker
  switch (entry.profile) {
    case 'kubelet-client': return decideKubeletClient(csr, input.request, input.access);
    case 'kubelet-serving': return decideKubeletServing(csr, input.request, entry, input.signer, input.node);
    case 'policy': return decidePolicy(csr, input.request, entry, input.signer, input.access);
  }
}
