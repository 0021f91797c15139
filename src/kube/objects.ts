/**
 * The Kubernetes objects csr-signer reads and writes, reduced to the fields it
 * uses: the JSON shapes, no behaviour.
 */
import type { ObjectMeta } from './resource.js';

export type { ObjectMeta } from './resource.js';

export interface CsrCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastUpdateTime?: string;
  readonly lastTransitionTime?: string;
}

/** A certificates.k8s.io/v1 CertificateSigningRequest. */
export interface Csr {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta & { readonly [key: string]: unknown };
  readonly spec: {
    /** base64 of the PEM request, as the API carries it. */
    readonly request: string;
    readonly signerName: string;
    readonly usages?: readonly string[];
    readonly expirationSeconds?: number;
    readonly username?: string;
    readonly uid?: string;
    readonly groups?: readonly string[];
    readonly extra?: Readonly<Record<string, readonly string[]>>;
  };
  readonly status?: {
    readonly conditions?: readonly CsrCondition[];
    /** base64 of the PEM certificate(s). */
    readonly certificate?: string;
  };
}

/** A core v1 Node, reduced to what the kubelet-serving approval reads: the addresses the node reports. */
export interface Node {
  readonly metadata: ObjectMeta;
  readonly status?: {
    /** type: Hostname, InternalDNS, ExternalDNS, InternalIP or ExternalIP (others are ignored). */
    readonly addresses?: readonly { readonly type: string; readonly address: string }[];
  };
}

/** The resourceAttributes of an authorization.k8s.io/v1 SubjectAccessReview: the access asked about. */
export interface ResourceAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name?: string;
  readonly namespace?: string;
}

/** An authorization.k8s.io/v1 SubjectAccessReview: may this user (of a CSR's spec) do that? */
export interface SubjectAccessReview {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly spec: {
    readonly user?: string;
    readonly uid?: string;
    readonly groups?: readonly string[];
    readonly extra?: Readonly<Record<string, readonly string[]>>;
    readonly resourceAttributes: ResourceAttributes;
  };
  readonly status?: { readonly allowed: boolean; readonly denied?: boolean; readonly reason?: string; readonly evaluationError?: string };
}

export interface Namespace {
  readonly metadata: ObjectMeta;
}

export interface ConfigMap {
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
  readonly binaryData?: Readonly<Record<string, string>>;
  readonly immutable?: boolean;
}

export interface ClusterTrustBundle {
  readonly metadata: ObjectMeta;
  readonly spec: { readonly signerName?: string; readonly trustBundle: string };
}


/** A Kubernetes label selector (metav1.LabelSelector). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

/** A metav1.Condition, as PodCertificateRequest status carries them (type, status, reason and lastTransitionTime required). */
export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

/**
 * A certificates.k8s.io PodCertificateRequest (v1, or v1beta1 of Kubernetes 1.35/1.36),
 * namespaced. Every spec field is immutable and, when a node created it, checked by the
 * apiserver's NodeRestriction against the running Pod. Byte fields are base64, as JSON carries them.
 */
export interface PodCertificateRequest {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta & { readonly [key: string]: unknown };
  readonly spec: {
    readonly signerName: string;
    readonly podName: string;
    readonly podUID: string;
    readonly serviceAccountName: string;
    readonly serviceAccountUID: string;
    readonly nodeName: string;
    readonly nodeUID: string;
    /** Defaulted to 86400 by the apiserver; the longest lifetime the kubelet accepts. */
    readonly maxExpirationSeconds?: number;
    /** v1beta1 only (1.34–1.36 kubelets): PKIX SubjectPublicKeyInfo DER, base64. */
    readonly pkixPublicKey?: string;
    /** v1beta1 only: the subject key's signature over the ASCII bytes of podUID, base64. */
    readonly proofOfPossession?: string;
    /** v1, and v1beta1 since 1.36: a PKCS#10 request DER (base64) signed by the subject key; its contents are not the identity. */
    readonly stubPKCS10Request?: string;
    /** Free-form pod-author input copied by the kubelet (1.35+): untrusted. */
    readonly unverifiedUserAnnotations?: Readonly<Record<string, string>>;
  };
  readonly status?: {
    /** At most one of Issued, Denied, Failed; written once. */
    readonly conditions?: readonly Condition[];
    /** PEM, leaf first, then intermediates. */
    readonly certificateChain?: string;
    readonly notBefore?: string;
    readonly beginRefreshAt?: string;
    readonly notAfter?: string;
  };
}

/** A core v1 Pod, reduced to what the pod-certificate check reads. */
export interface Pod {
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly nodeName?: string; readonly serviceAccountName?: string };
}

/** A core v1 ServiceAccount (its uid is what a PodCertificateRequest names). */
export interface ServiceAccount {
  readonly metadata: ObjectMeta;
}
