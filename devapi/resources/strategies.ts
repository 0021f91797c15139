/**
 * Per-resource rules applied around the generic REST verbs: what create resets,
 * what it validates, and what an update may change (the apiserver's "strategies").
 */
import { admitClusterTrustBundle, validateClusterTrustBundle } from './cluster-trust-bundles.js';
import { checkConfigMapDecodes, validateConfigMap, validateConfigMapUpdate } from './configmaps.js';
import { admitCsrCreate, prepareCsrCreate, prepareCsrUpdate, validateCsrCreate } from './csr.js';
import { validateEventCreate, validateEventUpdate } from './events.js';
import { prepareNamespaceCreate, prepareNamespaceUpdate, validateNamespace } from './namespaces.js';
import { admitNodeWrite, duplicateAddresses, NODE_MERGE_STRATEGIES, prepareNodeUpdate } from './nodes.js';
import { preparePcrCreate, preparePcrUpdate, validatePcrCreate, type PcrForm } from './pod-certificate-requests.js';
import type { RequestAuthorizer, UserInfo } from '../auth/rbac.js';
import type { ApiError, FieldError } from '../api/errors.js';
import type { KubeObject } from '../storage/kube-object.js';
import type { MergeStrategies } from '../storage/strategic-merge.js';

export type Subresource = '' | 'status' | 'approval';
type Obj = Record<string, unknown>;

export interface Strategy {
  prepareCreate(body: Obj, user: UserInfo): Obj;
  validateCreate(object: Obj): FieldError[];
  admitCreate(object: Obj): ApiError | undefined;
  prepareUpdate(old: KubeObject, incoming: Obj, subresource: Subresource, now: Date): { object: Obj; errors: FieldError[] };
  /** An update without metadata.resourceVersion is allowed (latest wins). */
  readonly allowUnconditionalUpdate: boolean;
  /** PUT of a missing object creates it. */
  readonly allowCreateOnUpdate: boolean;
  /** Admission that needs the requester (ClusterTrustBundleAttest): on create (`old` undefined) and on update, after validation. */
  admitWrite?(object: Obj, old: KubeObject | undefined, user: UserInfo, authorizer: RequestAuthorizer): ApiError | undefined;
  /** The lists a strategic merge patch merges (by key, or '' for scalars); absent: a strategic merge patch is a merge patch. */
  readonly strategicMerge?: MergeStrategies;
  /** Admission on delete (NodeRestriction). */
  admitDelete?(object: KubeObject, user: UserInfo): ApiError | undefined;
}

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function nameErrors(object: Obj, dnsSubdomain: boolean): FieldError[] {
  const metadata = (object.metadata ?? {}) as Obj;
  const name = metadata.name as string | undefined;
  if (!name) return [];
  if (dnsSubdomain && (name.length > 253 || !dns1123Subdomain.test(name))) {
    return [{ type: 'FieldValueInvalid', field: 'metadata.name', value: JSON.stringify(name), detail: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" }];
  }
  return [];
}

/** Keeps the system fields of the stored object; takes metadata and everything else from the update. */
function keepSystemFields(old: KubeObject, incoming: Obj): Obj {
  const metadata: Obj = { ...((incoming.metadata ?? {}) as Obj), uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp, name: old.metadata.name };
  if (old.metadata.namespace !== undefined) metadata.namespace = old.metadata.namespace;
  return { ...incoming, metadata };
}

export const csrStrategy: Strategy = {
  // The requester's extra too (a client certificate's credential id): certificates/strategy.go PrepareForCreate copies user.GetExtra().
  prepareCreate: (body, user) => prepareCsrCreate(body, {
    name: user.name, groups: [...user.groups], ...(user.uid ? { uid: user.uid } : {}), ...(user.extra ? { extra: user.extra } : {}),
  }),
  validateCreate: (object) => validateCsrCreate(object),
  admitCreate: (object) => admitCsrCreate(object),
  prepareUpdate: (old, incoming, subresource, now) => {
    const result = prepareCsrUpdate(old, keepSystemFields(old, incoming), subresource === '' ? 'main' : subresource, now);
    return { object: result.object, errors: result.errors };
  },
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: false,
};

function leaseErrors(object: Obj): FieldError[] {
  const spec = (object.spec ?? {}) as Obj;
  const errors = nameErrors(object, true);
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && duration !== null && (typeof duration !== 'number' || duration <= 0)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.leaseDurationSeconds', value: JSON.stringify(duration), detail: 'must be greater than 0' });
  }
  const transitions = spec.leaseTransitions;
  if (transitions !== undefined && transitions !== null && (typeof transitions !== 'number' || transitions < 0)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.leaseTransitions', value: JSON.stringify(transitions), detail: 'must be greater than or equal to 0' });
  }
  return errors;
}

export const leaseStrategy: Strategy = {
  prepareCreate: (body) => body,
  validateCreate: leaseErrors,
  admitCreate: () => undefined,
  prepareUpdate: (old, incoming) => {
    const object = keepSystemFields(old, incoming);
    return { object, errors: leaseErrors(object) };
  },
  allowUnconditionalUpdate: false,
  allowCreateOnUpdate: true,
};

/**
 * Events (kubernetes pkg/registry/core/event/strategy.go and events/v1's REST storage, one
 * store): validated as events.go does for the API the request came through (`strict` for
 * events.k8s.io/v1); a PUT of a missing Event creates it; an update needs no resourceVersion.
 */
const eventStrategyFor = (strict: boolean): Strategy => ({
  prepareCreate: (body) => body,
  validateCreate: (object) => validateEventCreate(object, strict),
  admitCreate: () => undefined,
  prepareUpdate: (old, incoming) => {
    const object = keepSystemFields(old, incoming);
    return { object, errors: validateEventUpdate(object, old, strict) };
  },
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: true,
});

export const eventStrategy: Strategy = eventStrategyFor(false);
export const eventsV1Strategy: Strategy = eventStrategyFor(true);

export const namespaceStrategy: Strategy = {
  prepareCreate: (body) => prepareNamespaceCreate(body),
  validateCreate: validateNamespace,
  admitCreate: () => undefined,
  prepareUpdate: (old, incoming) => {
    const object = prepareNamespaceUpdate(old, keepSystemFields(old, incoming));
    return { object, errors: validateNamespace(object) };
  },
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: false,
};

export const configMapStrategy: Strategy = {
  prepareCreate: (body) => {
    checkConfigMapDecodes(body);
    return body;
  },
  validateCreate: validateConfigMap,
  admitCreate: () => undefined,
  prepareUpdate: (old, incoming) => {
    checkConfigMapDecodes(incoming);
    const object = keepSystemFields(old, incoming);
    return { object, errors: validateConfigMapUpdate(object, old) };
  },
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: false,
};

export const clusterTrustBundleStrategy: Strategy = {
  prepareCreate: (body) => body,
  validateCreate: (object) => validateClusterTrustBundle(object),
  admitCreate: () => undefined,
  prepareUpdate: (old, incoming) => {
    const object = keepSystemFields(old, incoming);
    return { object, errors: validateClusterTrustBundle(object, old) };
  },
  allowUnconditionalUpdate: false,
  allowCreateOnUpdate: false,
  admitWrite: admitClusterTrustBundle,
};

/** Nodes (resources/nodes.ts): status set on create, kept by PUT/PATCH, the only thing `/status` changes. */
export const nodeStrategy: Strategy = {
  prepareCreate: (body) => body,
  validateCreate: (object) => nameErrors(object, true),
  admitCreate: () => undefined,
  prepareUpdate: (old, incoming, subresource) => {
    const object = prepareNodeUpdate(old, keepSystemFields(old, incoming), subresource === 'status' ? 'status' : '');
    return { object, errors: [...nameErrors(object, true), ...duplicateAddresses(object)] };
  },
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: false,
  admitWrite: (object, _old, user) => {
    const name = (object.metadata as Obj | undefined)?.name;
    return admitNodeWrite(user, typeof name === 'string' ? name : '');
  },
  admitDelete: (object, user) => admitNodeWrite(user, object.metadata.name),
  strategicMerge: NODE_MERGE_STRATEGIES,
};

/**
 * PodCertificateRequests (resources/pod-certificate-requests.ts) in one form of the API: its create and
 * update rules; NodeRestriction and the `sign` check need the store and the authorizer (server/rest.ts).
 * Unconditional updates are allowed (strategy.go AllowUnconditionalUpdate), a PUT does not create.
 */
export function podCertificateRequestStrategy(form: PcrForm): Strategy {
  return {
    prepareCreate: (body) => preparePcrCreate(body),
    validateCreate: (object) => validatePcrCreate(object, form),
    admitCreate: () => undefined,
    prepareUpdate: (old, incoming, subresource, now) => preparePcrUpdate(old, keepSystemFields(old, incoming), subresource === 'status' ? 'status' : '', now, form),
    allowUnconditionalUpdate: true,
    allowCreateOnUpdate: false,
  };
}

/**
 * Pods, reduced to what the pod-certificate checks need: a DNS-1123 name, `spec.serviceAccountName`
 * defaulted to `default` (the ServiceAccount admission plugin), everything else stored as sent; an
 * update keeps the stored status unless it comes through `/status` (not served).
 */
export const podStrategy: Strategy = {
  prepareCreate: (body) => {
    const spec = (body.spec ?? {}) as Obj;
    return { ...body, spec: { ...spec, ...(typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '' ? {} : { serviceAccountName: 'default' }) } };
  },
  validateCreate: (object) => nameErrors(object, true),
  admitCreate: () => undefined,
  prepareUpdate: (old, incoming) => {
    const object = prepareNodeUpdate(old, keepSystemFields(old, incoming), '');
    return { object, errors: nameErrors(object, true) };
  },
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: false,
};

/** ServiceAccounts: a DNS-1123 name, otherwise stored as sent. */
export const serviceAccountStrategy: Strategy = {
  prepareCreate: (body) => body,
  validateCreate: (object) => nameErrors(object, true),
  admitCreate: () => undefined,
  prepareUpdate: (old, incoming) => {
    const object = keepSystemFields(old, incoming);
    return { object, errors: nameErrors(object, true) };
  },
  allowUnconditionalUpdate: true,
  allowCreateOnUpdate: false,
};

/**
 * The strategy for a resource of an API group (the two Event APIs share a store, not their rules); a
 * PodCertificateRequest's depends on the API it came through (`podCertificateStub`, v1).
 */
export function strategyFor(group: string, resource: string, version = '', podCertificateStub = true): Strategy | undefined {
  if (group === 'events.k8s.io') return eventsV1Strategy;
  if (resource === 'podcertificaterequests') return podCertificateRequestStrategy({ stub: podCertificateStub, v1: version === 'v1' });
  return strategies[resource];
}

export const strategies: Readonly<Record<string, Strategy>> = {
  certificatesigningrequests: csrStrategy,
  leases: leaseStrategy,
  events: eventStrategy,
  namespaces: namespaceStrategy,
  configmaps: configMapStrategy,
  clustertrustbundles: clusterTrustBundleStrategy,
  nodes: nodeStrategy,
  pods: podStrategy,
  serviceaccounts: serviceAccountStrategy,
};
