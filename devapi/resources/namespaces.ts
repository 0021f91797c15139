/**
 * core/v1 Namespace: the strategy (pkg/registry/core/namespace/strategy.go: create sets
 * phase Active and the `kubernetes` finalizer, update keeps spec.finalizers and status),
 * the defaulted `kubernetes.io/metadata.name` label, name validation (a DNS-1123 label),
 * and deletion. devapi has no namespace controller: a delete removes the namespace and
 * every namespaced object in it at once (no Terminating phase). The NamespaceLifecycle
 * admission's other rules are kept: a create in a missing namespace is 404, and
 * `default`, `kube-system` and `kube-public` may not be deleted.
 */
import { isObj, str, type Obj } from './json.js';
import { labelErrors } from './csr-validation.js';
import { resources } from '../api/resource-definitions.js';
import { forbidden, quote, type FieldError } from '../api/errors.js';
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

/** PrepareForUpdate: spec.finalizers and status come from the stored object (they change only through /finalize and /status). */
export function prepareNamespaceUpdate(old: KubeObject, incoming: Obj): Obj {
  const spec = isObj(incoming.spec) ? incoming.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  const rest = Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'finalizers'));
  return withNameLabel({
    ...incoming,
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

/** Every namespaced resource's store key (two APIs may share one). */
const namespacedStoreKeys = [...new Set(resources.filter((r) => r.namespaced && !r.virtual).map((r) => r.storeKey))];

/** Deletes every namespaced object in `namespace`: one DELETED event each, before the namespace's own. */
export function deleteNamespaceContents(store: Store, namespace: string): void {
  for (const key of namespacedStoreKeys) {
    for (const o of store.list(key, namespace)) store.delete(key, namespace, o.metadata.name);
  }
}
