/**
 * The Go types kube-apiserver decodes each served kind into (k8s.io/api: core/v1,
 * certificates/v1 and v1beta1, coordination/v1, events/v1; apimachinery meta/v1), as far as
 * the decoder tells them apart (go/json-decode.ts): which fields exist and what JSON each
 * takes. Names are as Go prints them in a type error.
 */
import type { GoType } from '../go/json-decode.js';

const string: GoType = { kind: 'string' };
const named = (name: string): GoType => ({ kind: 'string', name });
const int32: GoType = { kind: 'int', bits: 32 };
const int64: GoType = { kind: 'int', bits: 64 };
const bool: GoType = { kind: 'bool' };
const bytes: GoType = { kind: 'bytes' };
const time: GoType = { kind: 'time', micro: false };
const microTime: GoType = { kind: 'time', micro: true };
const raw: GoType = { kind: 'raw' };
const slice = (of: GoType, name?: string): GoType => (name === undefined ? { kind: 'slice', of } : { kind: 'slice', of, name });
const map = (of: GoType): GoType => ({ kind: 'map', of });
const struct = (name: string, fields: Record<string, GoType>): GoType => ({ kind: 'struct', name, fields });

const uid = named('types.UID');

const objectMeta = struct('v1.ObjectMeta', {
  name: string, generateName: string, namespace: string, selfLink: string, uid, resourceVersion: string, generation: int64,
  creationTimestamp: time, deletionTimestamp: time, deletionGracePeriodSeconds: int64,
  labels: map(string), annotations: map(string),
  ownerReferences: slice(struct('v1.OwnerReference', { apiVersion: string, kind: string, name: string, uid, controller: bool, blockOwnerDeletion: bool })),
  finalizers: slice(string),
  managedFields: slice(struct('v1.ManagedFieldsEntry', {
    manager: string, operation: named('v1.ManagedFieldsOperationType'), apiVersion: string, time, fieldsType: string, fieldsV1: raw, subresource: string,
  })),
});

/** A top-level kind: TypeMeta's fields inline, and metadata. */
const kind = (name: string, fields: Record<string, GoType>): GoType => struct(`v1.${name}`, { kind: string, apiVersion: string, metadata: objectMeta, ...fields });

const objectReference = struct('v1.ObjectReference', {
  kind: string, namespace: string, name: string, uid, apiVersion: string, resourceVersion: string, fieldPath: string,
});
const eventSource = struct('v1.EventSource', { component: string, host: string });
const eventSeries = struct('v1.EventSeries', { count: int32, lastObservedTime: microTime });

const coreEvent = kind('Event', {
  involvedObject: objectReference, reason: string, message: string, source: eventSource, firstTimestamp: time, lastTimestamp: time,
  count: int32, type: string, eventTime: microTime, series: eventSeries, action: string, related: objectReference,
  reportingComponent: string, reportingInstance: string,
});

const eventsV1Event = kind('Event', {
  eventTime: microTime, series: eventSeries, reportingController: string, reportingInstance: string, action: string, reason: string,
  regarding: objectReference, related: objectReference, note: string, type: string, deprecatedSource: eventSource,
  deprecatedFirstTimestamp: time, deprecatedLastTimestamp: time, deprecatedCount: int32,
});

const csr = kind('CertificateSigningRequest', {
  spec: struct('v1.CertificateSigningRequestSpec', {
    request: bytes, signerName: string, expirationSeconds: int32, usages: slice(named('v1.KeyUsage')),
    username: string, uid: string, groups: slice(string), extra: map(slice(string, 'v1.ExtraValue')),
  }),
  status: struct('v1.CertificateSigningRequestStatus', {
    conditions: slice(struct('v1.CertificateSigningRequestCondition', {
      type: named('v1.RequestConditionType'), status: named('v1.ConditionStatus'), reason: string, message: string,
      lastUpdateTime: time, lastTransitionTime: time,
    })),
    certificate: bytes,
  }),
});

const clusterTrustBundle = (version: string): GoType => struct(`${version}.ClusterTrustBundle`, {
  kind: string, apiVersion: string, metadata: objectMeta, spec: struct(`${version}.ClusterTrustBundleSpec`, { signerName: string, trustBundle: string }),
});

const lease = kind('Lease', {
  spec: struct('v1.LeaseSpec', {
    holderIdentity: string, leaseDurationSeconds: int32, acquireTime: microTime, renewTime: microTime, leaseTransitions: int32,
    strategy: named('v1.CoordinatedLeaseStrategy'), preferredHolder: string,
  }),
});

const namespace = kind('Namespace', {
  spec: struct('v1.NamespaceSpec', { finalizers: slice(named('v1.FinalizerName')) }),
  status: struct('v1.NamespaceStatus', {
    phase: named('v1.NamespacePhase'),
    conditions: slice(struct('v1.NamespaceCondition', {
      type: named('v1.NamespaceConditionType'), status: named('v1.ConditionStatus'), lastTransitionTime: time, reason: string, message: string,
    })),
  }),
});

const node = kind('Node', {
  spec: struct('v1.NodeSpec', {
    podCIDR: string, podCIDRs: slice(string), providerID: string, unschedulable: bool,
    taints: slice(struct('v1.Taint', { key: string, value: string, effect: named('v1.TaintEffect'), timeAdded: time })),
    configSource: raw, externalID: string,
  }),
  status: struct('v1.NodeStatus', {
    capacity: raw, allocatable: raw, phase: named('v1.NodePhase'),
    conditions: slice(struct('v1.NodeCondition', {
      type: named('v1.NodeConditionType'), status: named('v1.ConditionStatus'), lastHeartbeatTime: time, lastTransitionTime: time, reason: string, message: string,
    })),
    addresses: slice(struct('v1.NodeAddress', { type: named('v1.NodeAddressType'), address: string })),
    daemonEndpoints: raw,
    nodeInfo: struct('v1.NodeSystemInfo', {
      machineID: string, systemUUID: string, bootID: string, kernelVersion: string, osImage: string, containerRuntimeVersion: string,
      kubeletVersion: string, kubeProxyVersion: string, operatingSystem: string, architecture: string, swap: raw,
    }),
    images: raw, volumesInUse: slice(named('v1.UniqueVolumeName')), volumesAttached: raw, config: raw, runtimeHandlers: raw, features: raw,
  }),
});

/**
 * certificates.k8s.io PodCertificateRequest: v1beta1 of 1.35 (no stubPKCS10Request), of 1.36 (with
 * it), v1 (no pkixPublicKey, proofOfPossession); status conditions are metav1.Condition.
 */
function podCertificateRequest(version: string, stub: boolean): GoType {
  const legacy = version === 'v1' ? {} : { pkixPublicKey: bytes, proofOfPossession: bytes };
  return struct(`${version}.PodCertificateRequest`, {
    kind: string, apiVersion: string, metadata: objectMeta,
    spec: struct(`${version}.PodCertificateRequestSpec`, {
      signerName: string, podName: string, podUID: uid, serviceAccountName: string, serviceAccountUID: uid, nodeName: named('types.NodeName'), nodeUID: uid,
      maxExpirationSeconds: int32, ...legacy, ...(stub ? { stubPKCS10Request: bytes } : {}), unverifiedUserAnnotations: map(string),
    }),
    status: struct(`${version}.PodCertificateRequestStatus`, {
      conditions: slice(struct('v1.Condition', {
        type: string, status: named('v1.ConditionStatus'), observedGeneration: int64, lastTransitionTime: time, reason: string, message: string,
      })),
      certificateChain: string, notBefore: time, beginRefreshAt: time, notAfter: time,
    }),
  });
}

/** A Pod as devapi keeps it: spec and status stored as sent (the checks read spec.nodeName and spec.serviceAccountName). */
const pod = kind('Pod', { spec: raw, status: raw });
const serviceAccount = kind('ServiceAccount', { secrets: raw, imagePullSecrets: raw, automountServiceAccountToken: bool });

const configMap = kind('ConfigMap', { immutable: bool, data: map(string), binaryData: map(bytes) });

const subjectAccessReviewSpec = (name: string): GoType => struct(name, {
  resourceAttributes: struct('v1.ResourceAttributes', {
    namespace: string, verb: string, group: string, version: string, resource: string, subresource: string, name: string,
    fieldSelector: raw, labelSelector: raw,
  }),
  nonResourceAttributes: struct('v1.NonResourceAttributes', { path: string, verb: string }),
  ...(name === 'v1.SubjectAccessReviewSpec' ? { user: string, groups: slice(string), extra: map(slice(string, 'v1.ExtraValue')), uid: string } : {}),
});

/** The Go type a request body for `resource` in `group`/`version` decodes into, or undefined when devapi does not type it. */
export function goTypeOf(group: string, version: string, resource: string, podCertificateStub = true): GoType | undefined {
  switch (`${group}/${resource}`) {
    case 'certificates.k8s.io/podcertificaterequests': return podCertificateRequest(version, podCertificateStub);
    case '/pods': return pod;
    case '/serviceaccounts': return serviceAccount;
    case '/events': return coreEvent;
    case 'events.k8s.io/events': return eventsV1Event;
    case 'certificates.k8s.io/certificatesigningrequests': return csr;
    case 'certificates.k8s.io/clustertrustbundles': return clusterTrustBundle(version);
    case 'coordination.k8s.io/leases': return lease;
    case '/namespaces': return namespace;
    case '/configmaps': return configMap;
    case '/nodes': return node;
    case 'authorization.k8s.io/subjectaccessreviews': return kind('SubjectAccessReview', { spec: subjectAccessReviewSpec('v1.SubjectAccessReviewSpec'), status: raw });
    case 'authentication.k8s.io/selfsubjectreviews': return kind('SelfSubjectReview', { status: raw });
    case 'authorization.k8s.io/selfsubjectaccessreviews': return kind('SelfSubjectAccessReview', { spec: subjectAccessReviewSpec('v1.SelfSubjectAccessReviewSpec'), status: raw });
    default: return undefined;
  }
}
