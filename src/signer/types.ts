/**
 * The shapes the signer reads and decides on. `Csr` is the JSON of a
 * certificates.k8s.io/v1 CertificateSigningRequest, reduced to the fields we use;
 * `SignerConfig` is one validated signer of the configuration.
 */
import type { CertificateRequest, PodCertificateKeyType, SigningProfile, SubjectAltNames, SubjectSpec } from '../pki/index.js';

export type { Condition, Csr, CsrCondition, LabelSelector, Namespace, Node, Pod, PodCertificateRequest, ResourceAttributes } from '../kube/objects.js';
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

/**
 * A PKCS#11 module and how to log in to its token (`ca.pkcs11` in the config file,
 * --pkcs11-module and --pkcs11-pin-file / --pkcs11-pin-env on the command line).
 */
export interface Pkcs11Settings {
  /** The module (a shared library), an absolute path. */
  readonly module: string;
  /** The user PIN's source: exactly one of a file (its first line) or an environment variable. */
  readonly pinFile?: string;
  readonly pinEnv?: string;
  /** Sessions opened on the token, at most this many signatures at once. Default: the worker count. */
  readonly sessions?: number;
}

/**
 * Where a signer's CA certificate and key come from. Exactly one of certFile / certUri
 * and one of keyFile / keyUri. A keyFile holds a PEM or DER private key, or one line,
 * a PKCS#11 URI naming a key on a token (so a Secret update can move a signer from a
 * file key to a token key in a rotation). keyUri, certUri and a keyFile holding a URI
 * need `pkcs11`.
 * `trustFile`: more CA certificates this signer's relying parties trust (the next or the previous CA of a rotation).
 */
export interface CaSource {
  readonly certFile?: string;
  /** A PKCS#11 URI (RFC 7512) of the CA certificate on the key's token (`ca.cert` in the config file). */
  readonly certUri?: string;
  readonly keyFile?: string;
  /** A PKCS#11 URI (RFC 7512) of the CA private key (`ca.key` in the config file). */
  readonly keyUri?: string;
  readonly passphraseFile?: string;
  readonly trustFile?: string;
  readonly pkcs11?: Pkcs11Settings;
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
  readonly ca?: CaSource;
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
  /** Built-in kubernetes.io/* signers follow the in-tree rules and have none; every custom signer that serves CSRs has one (one with certificateSigningRequests false has none). */
  readonly policy?: Policy;
  /** Where the signer's trust bundle is published; absent: nowhere. */
  readonly trust?: TrustTargetsConfig;
  /**
   * Serve CertificateSigningRequests of this name (`certificateSigningRequests:` in the
   * config file). Absent: true. False only beside `podCertificates` (a signer serves CSRs,
   * PodCertificateRequests or both; the CA, its rotation and trust publishing are shared).
   */
  readonly certificateSigningRequests?: boolean;
  /** Sign PodCertificateRequests of this name (`podCertificates:` in the config file); absent: off. */
  readonly podCertificates?: PodCertificateConfig;
}

/*
 * Pod certificates: PodCertificateRequests (KEP-4317), created by the kubelet for a
 * pod's `podCertificate` projected volume. No approval step: the signer decides from
 * the request's spec (namespace, ServiceAccount, pod, node), which the apiserver's
 * NodeRestriction checked against the running Pod when a node created it. Shared by the
 * config (config/), the pure decision (signer/pod-certificate*.ts) and the controller
 * (reconcile/pcr-signing.ts).
 */

/** Which namespaces a pod-certificate signer serves. At least one field; `all: true` alone says "every namespace", on purpose. */
export interface PodCertificateNamespaces {
  readonly all?: true;
  /** Exact namespace names. */
  readonly names?: readonly string[];
  /** Namespaces whose labels match (the namespace is read by name to see them). */
  readonly selector?: LabelSelector;
}

/**
 * `podCertificates:` of one signer, validated. Templates are strings whose placeholders
 * (signer/identity-template.ts) are `{namespace}`, `{serviceAccountName}`, `{podName}`,
 * `{podUID}`, `{nodeName}` and `{trustDomain}`; they are checked at start and rendered
 * from the request's spec only, never from the stub request or the annotations.
 */
export interface PodCertificateConfig {
  /** What `{trustDomain}` renders to; a SPIFFE trust domain (lowercase DNS-like name). Default `cluster.local`. */
  readonly trustDomain: string;
  /** URI SAN templates. Default: `spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}`. */
  readonly uris: readonly string[];
  /** DNS SAN templates, e.g. `{serviceAccountName}.{namespace}.svc`. Default: none. */
  readonly dnsNames: readonly string[];
  /** Subject templates. Absent: an empty subject (the SAN extension is then critical, as RFC 5280 asks). */
  readonly subject?: { readonly commonName?: string; readonly organizations?: readonly string[] };
  /** Kubernetes usage names. Default: digital signature, key encipherment, server auth, client auth. */
  readonly usages: readonly string[];
  /** The longest lifetime this signer gives, in [1 h, 91 days]; a request's maxExpirationSeconds may shorten it. Default 24 h. */
  readonly maxLifetimeMs: number;
  /**
   * Where beginRefreshAt falls, as fractions of the lifetime after notBefore: uniformly in
   * [from, to], then kept inside [notBefore+10m, notAfter−10m]. Default 0.5–0.7 (the kubelet
   * adds 0–5 minutes of its own jitter).
   */
  readonly refresh: { readonly from: number; readonly to: number };
  /** Required: no pod-certificate policy is not "every namespace". */
  readonly namespaces: PodCertificateNamespaces;
  /** `namespace/name` patterns; a whole part may be `*` (any namespace, or any name: `team-a/*`). Absent: any ServiceAccount of an allowed namespace. */
  readonly serviceAccounts?: readonly string[];
  /** Key types accepted, by the projection's keyType names. Default: all six. Others: Denied UnsupportedKeyType naming the first of these. */
  readonly keyTypes: readonly PodCertificateKeyType[];
  /**
   * Which `unverifiedUserAnnotations` are honoured. `dnsNames`: the annotation `key` holds
   * comma-separated DNS names, each of which must match one of `allowed` (DNS patterns,
   * exact or `*.` for one leftmost label, with the placeholders above); a malformed or
   * unmatched value: Denied InvalidUnverifiedUserAnnotations. Other keys are ignored.
   */
  readonly userAnnotations?: { readonly dnsNames?: { readonly key: string; readonly allowed: readonly string[] } };
  /** A stub PKCS#10 request with a subject or extensions: `deny` (the default; Denied CsrSignerPolicyDenied) or `ignore`. */
  readonly nonEmptyStub: 'deny' | 'ignore';
  /** GET the Pod and require its uid, node and ServiceAccount to match the spec (Failed if not). Default false. */
  readonly podCheck: boolean;
  /** Which API version the controller uses: `auto` (the default): v1 when discovery shows it, else v1beta1. */
  readonly apiVersion: 'auto' | 'v1' | 'v1beta1';
}

export type PodCertificateSkipReason = 'OtherSigner' | 'NotConfigured' | 'AlreadyIssued' | 'AlreadyDenied' | 'AlreadyFailed';

/**
 * What the pod-certificate signer does with one PodCertificateRequest. Every terminal
 * kind is written once, through /status, as the request's only condition.
 * - issue: sign `subject`/`subjectAltNames` for the verified key with exactly `validity`;
 *   write Issued with the chain, notBefore/notAfter (the leaf's) and beginRefreshAt.
 * - deny: Denied, `reason` UnsupportedKeyType (message names the keyType to use),
 *   InvalidUnverifiedUserAnnotations, or CsrSignerPolicyDenied (namespace, ServiceAccount, stub contents).
 * - fail: Failed, the request can never be signed (e.g. the Pod check found another pod).
 * - wait: not now, and not the request's fault (the CA cannot give one hour, a fact could
 *   not be read): retried with backoff, never a terminal condition.
 */
export type PodCertificateDecision =
  | { readonly kind: 'skip'; readonly reason: PodCertificateSkipReason }
  | {
    readonly kind: 'issue';
    readonly subject: SubjectSpec;
    readonly subjectAltNames: SubjectAltNames;
    readonly profile: SigningProfile;
    readonly validity: { readonly notBefore: Date; readonly notAfter: Date };
    readonly beginRefreshAt: Date;
  }
  | { readonly kind: 'deny'; readonly reason: string; readonly message: string }
  | { readonly kind: 'fail'; readonly reason: string; readonly message: string }
  | { readonly kind: 'wait'; readonly reason: string; readonly message: string };


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
  /**
   * kubelet-serving: DNS name patterns allowed besides the Node's own names (exact, or `*.`
   * for one leftmost label). `{node}` is replaced by the requesting node's name, matched
   * literally: `{node}.nodes.example.com` gives each node its own name only, while a
   * pattern without `{node}` admits its names for any node.
   */
  readonly extraDnsNames?: readonly string[];
  /**
   * kubelet-serving: regular expressions DNS names may match as a whole (ignoring case)
   * besides the Node's own names, in signer/dns-regex.ts's dialect; `{node}` stands for the
   * requesting node's name, matched literally. Without `{node}`, for any node.
   */
  readonly extraDnsRegexes?: readonly string[];
  /** kubelet-serving: CIDRs IP SANs may fall into besides the Node's own addresses, for any node. */
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
