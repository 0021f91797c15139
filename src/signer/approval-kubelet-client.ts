/**
 * kubernetes.io/kube-apiserver-client-kubelet: kube-controller-manager's csrapproving,
 * exactly (kubernetes/kubernetes pkg/controller/certificates/approver/sarapprove.go):
 *
 *   recognisers, in order, each only when the request has the kubelet-client shape
 *   (pkg/apis/certificates/helpers.go `IsKubeletClientCSR`, here validateBuiltin):
 *     selfnodeclient  spec.username equals the subject CN (`isSelfNodeClientCert`)
 *                                                          → SAR certificatesigningrequests/selfnodeclient, create
 *     nodeclient      any requester                        → SAR certificatesigningrequests/nodeclient, create
 *   the first recognised one whose SubjectAccessReview is allowed → approve, with upstream's message
 *   recognised, none allowed → upstream's IgnorableError, retried with backoff  → wait (rule subject-access-review)
 *   not recognised at all → upstream returns nil: no approval, no denial, no retry → skip NotRecognized
 *
 * Upstream never denies: neither do we. One difference: a request that does not parse
 * (or whose signature does not verify) is an error upstream (`unable to parse csr`),
 * retried with backoff; here it is skip NotRecognized as well — spec.request cannot
 * change, so a retry could never succeed. Given the parsed request, approvalFacts asks
 * exactly the reviews upstream would ask: none for a request it does not recognise.
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
 * Without the parsed request (the spec alone): selfnodeclient can only be recognised
 * for a username that can be a kubelet-client subject CN (the shape requires the
 * `system:node:` prefix). A spec.username of "" is Go's empty string too.
 */
const maySelfRecognise = (csr: Csr): boolean => (csr.spec.username ?? '').startsWith('system:node:');

/** The shape check's sentence, or undefined when the request is a kubelet client certificate request. */
const shapeProblem = (csr: Csr, request: CertificateRequest): string | undefined =>
  validateBuiltin(kubeletClientSignerName, request, csr.spec.usages ?? []);

/**
 * The SubjectAccessReviews, in upstream's order. With the parsed request: exactly those
 * upstream asks — none when the request is not recognised (it does not parse, or has
 * not the kubelet-client shape), selfnodeclient only when the username is the subject
 * CN, then nodeclient. Without it (read from the spec alone) the list may name one
 * more than upstream would ask; its answer is then not used.
 */
export function kubeletClientFacts(csr: Csr, request?: CertificateRequest | CsrSignerError): { access: ResourceAttributes[] } {
  if (request === undefined) {
    return { access: recognisers.filter((r) => r.subresource !== 'selfnodeclient' || maySelfRecognise(csr)).map((r) => permission(r.subresource)) };
  }
  if (request instanceof Error || shapeProblem(csr, request) !== undefined) return { access: [] };
  return { access: recognisers.filter((r) => r.recognise(csr, request)).map((r) => permission(r.subresource)) };
}

/**
 * Which list `access` answers, by its length: the request-aware one (upstream's), or the
 * spec-only one — they differ only when the username is `system:node:…` but not the
 * subject CN ([selfnodeclient, nodeclient] against [nodeclient]), so the lengths tell
 * them apart. Answers of any other length are not used: reading one review's answer as
 * another's could approve a node as nodeclient on its selfnodeclient permission.
 */
function answered(csr: Csr, request: CertificateRequest, access: readonly boolean[]): string[] | undefined {
  const aware = kubeletClientFacts(csr, request).access.map((a) => a.subresource as string);
  const specOnly = kubeletClientFacts(csr).access.map((a) => a.subresource as string);
  if (access.length === aware.length) return aware;
  return access.length === specOnly.length ? specOnly : undefined;
}

export function decideKubeletClient(csr: Csr, request: CertificateRequest | CsrSignerError, access: readonly boolean[]): ApprovalDecision {
  // Not recognised: upstream leaves it alone (nil, no requeue); so do we, without a retry.
  if (request instanceof Error || shapeProblem(csr, request) !== undefined) return { kind: 'skip', reason: 'NotRecognized' };
  const name = goQuote(csr.metadata.name ?? '');
  const asked = answered(csr, request, access);
  const tried: string[] = [];
  for (const r of recognisers) {
    if (!r.recognise(csr, request)) continue;
    tried.push(r.subresource);
    // An answer not given (not asked) counts as not allowed: upstream approves only on an allowed review.
    if (asked !== undefined && access[asked.indexOf(r.subresource)] === true) return { kind: 'approve', rule: r.subresource, message: r.successMessage };
  }
  // upstream: `recognized csr %q as %v but subject access review was not approved` (%v of a []string: [a b]).
  return { kind: 'wait', rule: 'subject-access-review', message: `recognized csr ${name} as [${tried.join(' ')}] but subject access review was not approved` };
}
