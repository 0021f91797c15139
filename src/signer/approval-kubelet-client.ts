/**
 * kubernetes.io/kube-apiserver-client-kubelet: kube-controller-manager's csrapproving,
 * exactly (kubernetes/kubernetes pkg/controller/certificates/approver/sarapprove.go):
 *
 *   `handle`: a request that does not parse → an error, retried with backoff  → wait (rule shape)
 *   recognisers, in order, each only when the request has the kubelet-client shape
 *   (pkg/apis/certificates/helpers.go `IsKubeletClientCSR`, here validateBuiltin):
 *     selfnodeclient  spec.username equals the subject CN  → SAR certificatesigningrequests/selfnodeclient, create
 *     nodeclient      any requester                        → SAR certificatesigningrequests/nodeclient, create
 *   the first recognised one whose SubjectAccessReview is allowed → approve, with upstream's message
 *   recognised, none allowed → upstream's IgnorableError, retried with backoff  → wait (rule subject-access-review)
 *   not recognised at all → upstream returns nil: no approval, no denial, no error  → wait (rule shape)
 *
 * Upstream never denies: neither do we. The last case is the one difference in
 * kind, not in effect: upstream forgets the CSR until the informer brings it again,
 * we report `wait` (the controller may leave it there: the decision will not change
 * until the CSR does).
 */
import type { CsrSignerError } from '../errors.js';
import { goQuote, type CertificateRequest } from '../pki/index.js';
import { validateBuiltin } from './builtin-signers.js';
import type { ApprovalDecision, Csr, ResourceAttributes } from './types.js';

export const kubeletClientSignerName = 'kubernetes.io/kube-apiserver-client-kubelet';

interface Recogniser {
  readonly subresource: 'selfnodeclient' | 'nodeclient';
  readonly recognise: (csr: Csr, request: CertificateRequest) => boolean;
  readonly successMessage: string;
}

const permission = (subresource: string): ResourceAttributes =>
  ({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource });

/** upstream `recognizers()`, in its order, with its messages. */
const recognisers: readonly Recogniser[] = [
  {
    subresource: 'selfnodeclient',
    recognise: (csr, request) => csr.spec.username === request.subject.commonName,
    successMessage: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  },
  {
    subresource: 'nodeclient',
    recognise: () => true,
    successMessage: 'Auto approving kubelet client certificate after SubjectAccessReview.',
  },
];

/**
 * selfnodeclient can only be recognised for a username that can be a kubelet-client
 * subject CN (the shape requires the `system:node:` prefix): its SubjectAccessReview is
 * asked for no one else. A spec.username of "" is Go's empty string too.
 */
const maySelfRecognise = (csr: Csr): boolean => (csr.spec.username ?? '').startsWith('system:node:');

/**
 * The SubjectAccessReviews, in upstream's order. Upstream asks them one by one, only for
 * the recognisers that recognise the request, and stops at the first allowed; the list
 * is read from the spec alone, so it may name one more than upstream would ask (when
 * the CN is not the username, or the shape is wrong) — its answer is then not used.
 */
export function kubeletClientFacts(csr: Csr): { access: ResourceAttributes[] } {
  return { access: recognisers.filter((r) => r.subresource !== 'selfnodeclient' || maySelfRecognise(csr)).map((r) => permission(r.subresource)) };
}

export function decideKubeletClient(csr: Csr, request: CertificateRequest | CsrSignerError, access: readonly boolean[]): ApprovalDecision {
  const name = goQuote(csr.metadata.name ?? '');
  // upstream: `unable to parse csr %q: %v`, returned as an error, so retried.
  if (request instanceof Error) return { kind: 'wait', rule: 'shape', message: `unable to parse csr ${name}: ${request.message}` };
  const shape = validateBuiltin(kubeletClientSignerName, request, csr.spec.usages ?? []);
  if (shape !== undefined) return { kind: 'wait', rule: 'shape', message: `csr ${name} is not a kubelet client certificate request: ${shape}` };
  const asked = kubeletClientFacts(csr).access.map((a) => a.subresource);
  const tried: string[] = [];
  for (const r of recognisers) {
    if (!r.recognise(csr, request)) continue;
    tried.push(r.subresource);
    // An answer not given (not asked) counts as not allowed: upstream approves only on an allowed review.
    if (access[asked.indexOf(r.subresource)] === true) return { kind: 'approve', rule: r.subresource, message: r.successMessage };
  }
  // upstream: `recognized csr %q as %v but subject access review was not approved` (%v of a []string: [a b]).
  return { kind: 'wait', rule: 'subject-access-review', message: `recognized csr ${name} as [${tried.join(' ')}] but subject access review was not approved` };
}
