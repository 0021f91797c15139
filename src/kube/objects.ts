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
