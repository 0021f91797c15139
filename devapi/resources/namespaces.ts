/**
 * core/v1 Namespace: the strategy (pkg/registry/core/namespace/strategy.go: create sets
 * phase Active and the `kubernetes` finalizer, update keeps spec.finalizers and status),
 * the defaulted `kubernetes.io/metadata.name` label, name validation (a DNS-1123 label),
 * and the lifecycle: a delete marks the namespace Terminating, and a stand-in for the
 * namespace controller removes its contents and then the namespace a while later
 * (namespace-termination.ts). The NamespaceLifecycle admission's rules: a create in a
 * missing namespace is 404, in a Terminating one 403, and `default`, `kube-system` and
 * `kube-public` may not be deleted.
 */
import { isObj, str, type Obj } from './json.js';
import { labelErrors } from './csr-validation.js';
import { resources } from '../api/resource-definitions.js';
import { ApiError, forbidden, qualifiedResource, quote, type FieldError } from '../api/errors.js';
import type { KubeObject } from '../storage/kube-object.js';
import type { Store } from '../storage/store.js';

export const NAME_LABEL = 'kubernetes.io/metadata.name';
/** The namespaces NamespaceLifecycle never lets go. */
const IMMORTAL = new Set(['default', 'kube-system', 'kube-public']);

const metadataOf = (o: Obj): Obj => (isObj(o.metadata) ? o.metadata : {});

/** SetDefaults_Namespace: the name label is (re)set on every write. */
function withNameLabel(o: Obj): Obj {
  const metadata = metadataOf(o);
  const name = str(metadata.name);
  if (name === '') return o;
  return { ...o, metadata: { ...metadata, labels: { ...(isObj(metadata.labels) ? metadata.labels : {}), [NAME_LABEL]: name } } };
}

/** PrepareForCreate: phase Active, and the `kubernetes` finalizer added if missing. */
export function prepareNamespaceCreate(body: Obj): Obj {
  const spec = isObj(body.spec) ? body.spec : {};
  const finalizers = Array.isArray(spec.finalizers) ? spec.finalizers.map(str) : [];
  return withNameLabel({
    ...body,
    spec: { ...spec, finalizers: finalizers.includes('kubernetes') ? finalizers : [...finalizers, 'kubernetes'] },
    status: { phase: 'Active' },
  });
}

/** PrepareForUpdate: spec.finalizers and status come from the stored object (they change only through /finalize and /status), and so does deletionTimestamp. */
export function prepareNamespaceUpdate(old: KubeObject, incoming: Obj): Obj {
  const spec = isObj(incoming.spec) ? incoming.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  const rest = Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'finalizers'));
  // Only a DELETE sets deletionTimestamp; no update sets, clears or moves it.
  const metadata = Object.fromEntries(Object.entries(metadataOf(incoming)).filter(([k]) => k !== 'deletionTimestamp'));
  const deletionTimestamp = old.metadata.deletionTimestamp;
  return withNameLabel({
    ...incoming,
    metadata: { ...metadata, ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }) },
    spec: { ...rest, ...(oldSpec.finalizers !== undefined ? { finalizers: oldSpec.finalizers } : {}) },
    ...(old.status !== undefined ? { status: old.status } : {}),
  });
}

/** ValidateNamespace's name rule (ValidateNamespaceName = NameIsDNSLabel). */
export function validateNamespace(object: Obj): FieldError[] {
  const name = str(metadataOf(object).name);
  if (name === '') return [];
  return labelErrors(name).map((detail) => ({ type: 'FieldValueInvalid', field: 'metadata.name', value: quote(name), detail }));
}

/** NamespaceLifecycle on delete: the immortal namespaces stay (403 `this namespace may not be deleted`). */
export function checkNamespaceDeletable(name: string): void {
  if (IMMORTAL.has(name)) throw forbidden(`namespaces ${quote(name)} is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
}

/** A namespace marked for deletion: its deletionTimestamp is set (and its phase Terminating). */
export const isTerminating = (ns: KubeObject): boolean => typeof ns.metadata.deletionTimestamp === 'string' && ns.metadata.deletionTimestamp !== '';

/**
 * NamespaceLifecycle on create in a Terminating namespace (apiserver
 * pkg/admission/plugin/namespace/lifecycle/admission.go `Lifecycle.Admit`): admission's
 * NewForbidden for the object being created (its name, else its generateName, else
 * `Unknown`: admission/errors.go extractResourceName), with a `NamespaceTerminating`
 * cause (core/v1 NamespaceTerminatingCause) appended. Updates and deletes in such a
 * namespace are allowed, as upstream.
 */
export function namespaceTerminating(resource: string, group: string, namespace: string, name: string): ApiError {
  return new ApiError(403, 'Forbidden',
    `${qualifiedResource(resource, group)} ${quote(name)} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
    {
      name, ...(group === '' ? {} : { group }), kind: resource,
      causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
    });
}

/**
 * A DELETE of a namespace already Terminating whose `kubernetes` finalizer is still there
 * (pkg/registry/core/namespace/storage/storage.go `REST.Delete`): 409, upstream's words.
 */
export const namespaceStillTerminating = (name: string): ApiError => new ApiError(409, 'Conflict',
  `Operation cannot be fulfilled on namespaces ${quote(name)}: The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.`,
  { name, kind: 'namespaces' });

/** Every namespaced resource's store key (two APIs may share one). */
const namespacedStoreKeys = [...new Set(resources.filter((r) => r.namespaced && !r.virtual).map((r) => r.storeKey))];

/** Deletes every namespaced object in `namespace`: one DELETED event each, before the namespace's own. */
export function deleteNamespaceContents(store: Store, namespace: string): void {
  for (const key of namespacedStoreKeys) {
    for (const o of store.list(key, namespace)) store.delete(key, namespace, o.metadata.name);
  }
}
