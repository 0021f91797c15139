import { coreToEventsV1, eventsV1ToCore } from './event-conversion.js';

/** The resources devapi serves, described once for discovery, OpenAPI, routing and field selectors. */

export interface ResourceDef {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly string[];
  /** Field selector labels and how to read them from an object. */
  readonly fields: Readonly<Record<string, (o: Record<string, unknown>) => string>>;
  /** Where it lives in the store (two API groups may share one, as the two Event APIs do). */
  readonly storeKey: string;
  /** Only `create` (reviews): nothing is stored. */
  readonly virtual?: boolean;
  /** When the stored form is another API's (events.k8s.io Events are stored as core Events). */
  readonly convert?: { readonly toStorage: (o: Record<string, unknown>) => Record<string, unknown>; readonly fromStorage: (o: Record<string, unknown>) => Record<string, unknown> };
  /**
   * PodCertificateRequests: whether this API has `spec.stubPKCS10Request` (Kubernetes 1.36 and
   * later; 1.35's v1beta1 has not), which also selects 1.36's create validation.
   */
  readonly podCertificateStub?: boolean;
}

const crud = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const path = (o: Record<string, unknown>, dotted: string): string => {
  let v: unknown = o;
  for (const part of dotted.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v === undefined || v === null ? '' : (typeof v === 'string' ? v : JSON.stringify(v));
};
const fieldsFor = (...names: string[]): Record<string, (o: Record<string, unknown>) => string> =>
  Object.fromEntries(names.map((n) => [n, (o: Record<string, unknown>) => path(o, n)]));

export const resources: readonly ResourceDef[] = [
  {
    group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], subresources: [], fields: fieldsFor('metadata.name', 'status.phase'), storeKey: 'namespaces',
  },
  // Nodes (kubernetes pkg/registry/core/node/storage: short name `no`, subresources status and proxy; field
  // selectors of NodeToSelectableFields). The proxy subresource is not served.
  {
    group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'],
    verbs: crud, subresources: ['status'], storeKey: 'nodes',
    fields: { ...fieldsFor('metadata.name'), 'spec.unschedulable': (o) => String(path(o, 'spec.unschedulable') === 'true') },
  },
  // Pods and ServiceAccounts (pkg/registry/core/pod and serviceaccount storage: short names `po`, `sa`;
  // pod field selectors of pod.ToSelectableFields that devapi keeps). Only what the pod-certificate
  // checks read is looked at; the rest of a Pod is stored as sent.
  {
    group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'],
    verbs: crud, subresources: [], storeKey: 'pods', fields: fieldsFor('metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.serviceAccountName', 'status.phase'),
  },
  {
    group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'],
    verbs: crud, subresources: [], storeKey: 'serviceaccounts', fields: fieldsFor('metadata.name', 'metadata.namespace'),
  },
  {
    group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'],
    verbs: crud, subresources: [], storeKey: 'configmaps', fields: fieldsFor('metadata.name', 'metadata.namespace'),
  },
  {
    group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'],
    verbs: crud, subresources: [], storeKey: 'events',
    fields: fieldsFor('metadata.name', 'metadata.namespace', 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
      'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'),
  },
  {
    group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', singular: 'certificatesigningrequest', kind: 'CertificateSigningRequest',
    namespaced: false, shortNames: ['csr'], verbs: crud, subresources: ['approval', 'status'], storeKey: 'certificatesigningrequests',
    fields: fieldsFor('metadata.name', 'spec.signerName'),
  },
  // ClusterTrustBundles in two versions over one store, as kube-apiserver 1.37 serves them: the same
  // fields (signerName, trustBundle), so conversion is the apiVersion alone. Which of them are served
  // is the DevApi option clusterTrustBundleVersions (--cluster-trust-bundle-versions).
  {
    group: 'certificates.k8s.io', version: 'v1', resource: 'clustertrustbundles', singular: 'clustertrustbundle', kind: 'ClusterTrustBundle',
    namespaced: false, shortNames: [], verbs: crud, subresources: [], storeKey: 'clustertrustbundles', fields: fieldsFor('metadata.name', 'spec.signerName'),
  },
  {
    group: 'certificates.k8s.io', version: 'v1beta1', resource: 'clustertrustbundles', singular: 'clustertrustbundle', kind: 'ClusterTrustBundle',
    namespaced: false, shortNames: [], verbs: crud, subresources: [], storeKey: 'clustertrustbundles', fields: fieldsFor('metadata.name', 'spec.signerName'),
  },
  {
    group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', namespaced: true, shortNames: [],
    verbs: crud, subresources: [], storeKey: 'leases', fields: fieldsFor('metadata.name', 'metadata.namespace'),
  },
  {
    group: 'events.k8s.io', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'],
    verbs: crud, subresources: [], storeKey: 'events', convert: { toStorage: eventsV1ToCore, fromStorage: coreToEventsV1 },
    fields: {
      ...fieldsFor('metadata.name', 'metadata.namespace', 'reason', 'type'),
      'regarding.kind': (o) => path(o, 'involvedObject.kind'), 'regarding.namespace': (o) => path(o, 'involvedObject.namespace'),
      'regarding.name': (o) => path(o, 'involvedObject.name'), 'regarding.uid': (o) => path(o, 'involvedObject.uid'),
      'reportingController': (o) => path(o, 'reportingComponent'),
    },
  },
  {
    group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', singular: 'subjectaccessreview', kind: 'SubjectAccessReview',
    namespaced: false, shortNames: [], verbs: ['create'], subresources: [], storeKey: 'subjectaccessreviews', fields: {}, virtual: true,
  },
  {
    group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview',
    namespaced: false, shortNames: [], verbs: ['create'], subresources: [], storeKey: 'selfsubjectaccessreviews', fields: {}, virtual: true,
  },
  // `kubectl auth whoami` (authentication.k8s.io/v1 since Kubernetes 1.28).
  {
    group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview',
    namespaced: false, shortNames: [], verbs: ['create'], subresources: [], storeKey: 'selfsubjectreviews', fields: {}, virtual: true,
  },
];

/** The certificates.k8s.io versions that can serve PodCertificateRequests, in discovery's order (v1 preferred). */
export const podCertificateVersions = ['v1', 'v1beta1'] as const;
export type PodCertificateVersion = typeof podCertificateVersions[number];

/** The spec fields of 1.34–1.36 that the v1 API does not have (pkg/apis/certificates/v1: a v1 create uses the stub request). */
const legacyKeyFields = ['pkixPublicKey', 'proofOfPossession'];
const withoutLegacyKeyFields = (o: Record<string, unknown>): Record<string, unknown> => {
  const spec = o.spec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return o;
  const rest = { ...(spec as Record<string, unknown>) };
  for (const f of legacyKeyFields) delete rest[f];
  return { ...o, spec: rest };
};

/**
 * PodCertificateRequests (pkg/registry/certificates/podcertificaterequest/storage: namespaced, subresource
 * status, no short name; field selectors of the v1beta1 conversion's field label function) in one version.
 * Every version shares one store; v1 serves a stored object without pkixPublicKey and proofOfPossession.
 */
export function podCertificateRequestDef(version: PodCertificateVersion, stub: boolean): ResourceDef {
  return {
    group: 'certificates.k8s.io', version, resource: 'podcertificaterequests', singular: 'podcertificaterequest', kind: 'PodCertificateRequest',
    namespaced: true, shortNames: [], verbs: crud, subresources: ['status'], storeKey: 'podcertificaterequests',
    fields: fieldsFor('metadata.name', 'metadata.namespace', 'spec.signerName', 'spec.podName', 'spec.nodeName'),
    podCertificateStub: stub,
    ...(version === 'v1' ? { convert: { toStorage: (o: Record<string, unknown>) => withoutLegacyKeyFields(o), fromStorage: withoutLegacyKeyFields } } : {}),
  };
}

/**
 * The PodCertificateRequest versions a Kubernetes minor serves with the feature on: none before 1.35, 1.35
 * v1beta1 (pkixPublicKey and proofOfPossession only), 1.36 v1beta1 with stubPKCS10Request, 1.37 v1 and v1beta1.
 */
export function podCertificateVersionsOf(minor: number): { readonly versions: readonly PodCertificateVersion[]; readonly stub: boolean } {
  if (minor < 35) return { versions: [], stub: false };
  if (minor === 35) return { versions: ['v1beta1'], stub: false };
  if (minor === 36) return { versions: ['v1beta1'], stub: true };
  return { versions: ['v1', 'v1beta1'], stub: true };
}

export const apiVersionOf = (def: ResourceDef): string => (def.group === '' ? def.version : `${def.group}/${def.version}`);

/** The certificates.k8s.io versions that can serve ClusterTrustBundles, in discovery's order (v1 preferred). */
export const clusterTrustBundleVersions = ['v1', 'v1beta1'] as const;
export type ClusterTrustBundleVersion = typeof clusterTrustBundleVersions[number];

/**
 * What one devapi serves: every resource, with ClusterTrustBundles in the versions asked for
 * (default both; `[]` is a cluster with neither, as before 1.37 with the beta API off).
 */
export function servedResources(options: {
  readonly clusterTrustBundleVersions?: readonly ClusterTrustBundleVersion[];
  /** PodCertificateRequests: the versions (default none) and whether they carry stubPKCS10Request (default true). */
  readonly podCertificateVersions?: readonly PodCertificateVersion[];
  readonly podCertificateStub?: boolean;
} = {}): readonly ResourceDef[] {
  const versions: readonly string[] = options.clusterTrustBundleVersions ?? clusterTrustBundleVersions;
  const served = resources.filter((r) => r.resource !== 'clustertrustbundles' || versions.includes(r.version));
  const pcr = podCertificateVersions.filter((v) => (options.podCertificateVersions ?? []).includes(v)).map((v) => podCertificateRequestDef(v, options.podCertificateStub ?? true));
  // After the ClusterTrustBundles, so that a group's versions keep discovery's order (v1 first).
  const at = served.findIndex((r) => r.group === 'coordination.k8s.io');
  return [...served.slice(0, at), ...pcr, ...served.slice(at)];
}

export function findResource(group: string, version: string, resource: string, served: readonly ResourceDef[] = resources): ResourceDef | undefined {
  return served.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** API groups in discovery order (core first). */
export const groups = (served: readonly ResourceDef[] = resources): string[] => [...new Set(served.map((r) => r.group))];

/** A group's versions in preference order (the order of `resources`: v1 before v1beta1). */
export const versionsOf = (group: string, served: readonly ResourceDef[] = resources): string[] =>
  [...new Set(served.filter((r) => r.group === group).map((r) => r.version))];
