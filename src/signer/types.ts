/**
 * The shapes the signer reads and decides on. `Csr` is the JSON of a
 * certificates.k8s.io/v1 CertificateSigningRequest, reduced to the fields we use;
 * `SignerConfig` is one validated signer of the configuration.
 */
import type { CertificateRequest, SigningProfile } from '../pki/index.js';

export type { Csr, CsrCondition, LabelSelector, Node, ResourceAttributes } from '../kube/objects.js';
import type { LabelSelector, ResourceAttributes } from '../kube/objects.js';

/** The in-tree signers whose validation rules (signer/builtin-signers.ts) csr-signer reproduces. */
export const builtinSignerNames = [
  'kubernetes.io/kube-apiserver-client',
  'kubernetes.io/kube-apiserver-client-kubelet',
  'kubernetes.io/kubelet-serving',
  'kubernetes.io/legacy-unknown',
] as const;
export type BuiltinSignerName = (typeof builtinSignerNames)[number];

export const isBuiltinSignerName = (name: string): name is BuiltinSignerName =>
  (builtinSignerNames as readonly string[]).includes(name);

/** Key types a signer may accept, as written in the configuration. */
export const keyTypeNames = ['rsa', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519'] as const;
export type KeyTypeName = (typeof keyTypeNames)[number];

/** How a subject's commonName must relate to the rest of the request. */
export type CommonNameRule =
  | 'any'          // no rule
  | 'dns-name'     // empty, or equal to one of the request's DNS names
  | 'required-dns-name' // present and equal to one of the request's DNS names
  | 'requester';   // equal to spec.username

/**
 * What a custom signer lets through. Absent lists mean "no restriction"; an empty
 * list allows nothing. The config gives every custom signer a policy (defaults:
 * no email or URI SANs, any CN, no CA).
 */
export interface Policy {
  /** DNS name patterns: exact names, `*.` for one leftmost label, `{namespace}` for the requester's namespace. */
  readonly dnsNames?: readonly string[];
  /** CIDRs (IPv4 or IPv6) IP SANs must fall into. Absent: any IP; empty: none. */
  readonly ipRanges?: readonly string[];
  readonly allowEmailAddresses: boolean;
  readonly allowUris: boolean;
  readonly maxSubjectAltNames?: number;
  readonly commonName: CommonNameRule;
  /** Allowed subject O values; absent: any. Empty list: none. */
  readonly organizations?: readonly string[];
  /** Requesters allowed to get certificates; absent both: anyone the approver approved. */
  readonly requesters?: { readonly usernames?: readonly string[]; readonly groups?: readonly string[] };
  /** Issue CA:TRUE when the request asks for it. False by default: such a request fails. */
  readonly allowCA: boolean;
  /**
   * Stated in the config (`unrestricted: true`, or --signer-unrestricted): the signer
   * bounds neither DNS names nor IP addresses, on purpose. The start-up log says so.
   */
  readonly unrestricted?: true;
}

/** One signer, validated and frozen. Durations in milliseconds. */
export interface SignerConfig {
  readonly name: string;
  /** Where it was defined, for messages: a config file path or "command line". */
  readonly source: string;
  /**
   * `trustFile`: more CA certificates this signer's relying parties trust (the next or the previous CA of a rotation).
   * Absent only when signing is off (RunConfig.signing false: the process approves and cleans; no CA is loaded).
   */
  readonly ca?: { readonly certFile: string; readonly keyFile: string; readonly passphraseFile?: string; readonly trustFile?: string };
  /** Lifetime when the request has no spec.expirationSeconds. */
  readonly defaultDurationMs: number;
  /** The cap: longer requests are shortened to it (as --cluster-signing-duration). */
  readonly maxDurationMs: number;
  /** Requests asking for less fail with DurationTooShort. Absent: clamp to 10 minutes as the in-tree signer. */
  readonly minDurationMs?: number;
  /** Absent: any of the 23 Kubernetes usages. */
  readonly allowedUsages?: readonly string[];
  readonly requiredUsages?: readonly string[];
  /** Absent: every key type the PKI core accepts. */
  readonly allowedKeyTypes?: readonly KeyTypeName[];
  /** Append the CA's intermediates to status.certificate. */
  readonly includeChain: boolean;
  /** Built-in kubernetes.io/* signers follow the in-tree rules and have none; every custom signer has one. */
  readonly policy?: Policy;
  /** Where the signer's trust bundle is published; absent: nowhere. */
  readonly trust?: TrustTargetsConfig;
}


export interface TrustTargetsConfig {
  /** A ConfigMap `name` with the bundle under `key`, in every namespace `namespaceSelector` matches (absent: all). */
  readonly configMap?: { readonly name: string; readonly key: string; readonly namespaceSelector?: LabelSelector };
  /** A signer-linked ClusterTrustBundle `name` (`<signerName, / as :>:<suffix>`) with these extra labels. */
  readonly clusterTrustBundle?: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
}

/** Why a CSR is left alone. One log line per skip says which. */
export type SkipReason = 'OtherSigner' | 'AlreadyFailed' | 'Denied' | 'NotApproved' | 'AlreadyIssued';

export type Decision =
  | { readonly kind: 'skip'; readonly reason: SkipReason }
  | { readonly kind: 'fail'; readonly reason: string; readonly message: string }
  | {
    readonly kind: 'issue';
    readonly request: CertificateRequest;
    readonly profile: SigningProfile;
    readonly expirationSeconds?: number;
  };

/*
 * The approver: which signers it approves for, and how. Shared by the config
 * (src/config/), the pure decisions (signer/approval*.ts) and the controller
 * (reconcile/csr-approving.ts).
 */

/**
 * How CSRs of one signer are approved:
 * - `kubelet-client`: kubernetes.io/kube-apiserver-client-kubelet, exactly as
 *   kube-controller-manager's csrapproving (shape check, selfnodeclient then nodeclient,
 *   each behind a SubjectAccessReview); never denies, leaves the rest pending.
 * - `kubelet-serving`: kubernetes.io/kubelet-serving, approved only for names and
 *   addresses of the requesting node's Node object; the rest is Denied.
 * - `policy`: a custom signer, approved when the request passes that signer's policy
 *   (and the SubjectAccessReview, when one is configured); the rest is Denied.
 */
export type ApprovalProfile = 'kubelet-client' | 'kubelet-serving' | 'policy';

/** One signer the approver approves for. */
export interface ApproverSignerConfig {
  readonly signerName: string;
  readonly profile: ApprovalProfile;
  /** kubelet-serving: DNS name patterns allowed besides the Node's own names (exact, or `*.` for one leftmost label). */
  readonly extraDnsNames?: readonly string[];
  /** kubelet-serving: regular expressions (whole name) DNS names may match besides the Node's own names. */
  readonly extraDnsRegexes?: readonly string[];
  /** kubelet-serving: CIDRs IP SANs may fall into besides the Node's own addresses. */
  readonly extraIpRanges?: readonly string[];
  /** kubelet-serving: the most DNS and IP SANs together; absent: no bound beyond the request limits. */
  readonly maxSubjectAltNames?: number;
  /**
   * policy: besides the signer's policy, the requester must be allowed this access
   * (a SubjectAccessReview for the CSR's username, uid, groups and extra), e.g. verb
   * `use` on `signers` named after the signer, so RBAC says who may get what.
   */
  readonly subjectAccessReview?: ResourceAttributes;
}

/** `audit`: decide, log and count, write nothing. */
export type ApproverMode = 'enforce' | 'audit';

export interface ApproverConfig {
  readonly mode: ApproverMode;
  /** Never empty; each name at most once; a `policy` entry names a custom signer of the configuration. */
  readonly signers: readonly ApproverSignerConfig[];
}

/** The CSR cleaner's ages (kube-controller-manager's csrcleaner; signer/cleanup.ts). */
export interface CleanupConfig {
  readonly issuedMs: number;
  readonly deniedMs: number;
  readonly failedMs: number;
  readonly pendingMs: number;
  /**
   * Approved and never issued (no certificate; other conditions, Failed or Denied, are not
   * looked at), counted from the Approved condition's lastUpdateTime.
   */
  readonly approvedUnissuedMs: number;
}

/**
 * Why the approver leaves a CSR alone. `NotRecognized`: kubelet-client only, a request
 * that does not parse or is not of the kubelet client shape — neither approved nor
 * denied nor retried (kube-controller-manager's csrapproving returns nil for it).
 */
export type ApprovalSkipReason = 'NotConfigured' | 'NotRecognized' | 'AlreadyApproved' | 'AlreadyDenied' | 'AlreadyFailed' | 'AlreadyIssued';

/**
 * What the approver does with one CSR. `rule` names what decided (the metric's `rule`
 * label: selfnodeclient, nodeclient, kubelet-serving, policy, subject-access-review).
 * - approve: write Approved, reason AutoApproved, `message`.
 * - deny: write Denied, reason CsrSignerPolicyDenied, `message` one sentence naming the offending value.
 * - wait: recognised but not allowed (a SubjectAccessReview said no), or a fact is
 *   missing or unusable: stays pending,
 *   logged, retried with backoff, as kube-controller-manager's csrapproving does.
 */
export type ApprovalDecision =
  | { readonly kind: 'skip'; readonly reason: ApprovalSkipReason }
  | { readonly kind: 'approve'; readonly rule: string; readonly message: string }
  | { readonly kind: 'deny'; readonly rule: string; readonly message: string }
  | { readonly kind: 'wait'; readonly rule: string; readonly message: string };
