/**
 * When an update changes nothing. The etcd3 store compares the bytes it would write with
 * the bytes stored and skips an equal write (apiserver pkg/storage/etcd3/store.go
 * GuaranteedUpdate): the object keeps its resourceVersion and no watch event is sent.
 * Go encodes struct fields in a fixed order and map keys sorted, so two objects have the
 * same bytes exactly when their JSON with sorted keys is the same; the resourceVersion is
 * not part of the stored bytes.
 */
import type { KubeObject } from './kube-object.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with every object's keys sorted (undefined members dropped, as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (isObj(value)) {
    const members = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${members.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const withMetadata = (o: Obj, metadata: Obj): Obj => ({ ...o, metadata });

/** Whether `next` would be stored as the same bytes as `stored`, resourceVersion aside. */
export function sameStoredObject(stored: KubeObject, next: KubeObject): boolean {
  const strip = (o: KubeObject): Obj => withMetadata(o, { ...o.metadata, resourceVersion: undefined });
  return canonicalJson(strip(stored)) === canonicalJson(strip(next));
}

/**
 * The update with the stored managedFields when they differ from them only in their
 * timestamps and nothing else changed, so such an update stays a no-op: the registry's
 * IgnoreManagedFieldsTimestampsTransformer (apiserver pkg/endpoints/handlers/fieldmanager,
 * called from registry/generic/registry/store.go Update).
 */
export function ignoreManagedFieldsTimestamps(next: Obj, stored: KubeObject): Obj {
  const nextMeta = isObj(next.metadata) ? next.metadata : {};
  const fields = nextMeta.managedFields;
  const storedFields = stored.metadata.managedFields;
  if (!Array.isArray(fields) || !Array.isArray(storedFields) || fields.length !== storedFields.length) return next;
  const untimed = (entries: unknown[]): string => canonicalJson(entries.map((e) => (isObj(e) ? { ...e, time: undefined } : e)));
  if (untimed(fields) !== untimed(storedFields)) return next;
  const rest = (o: Obj, meta: Obj): string => canonicalJson(withMetadata(o, { ...meta, managedFields: undefined, resourceVersion: undefined }));
  if (rest(next, nextMeta) !== rest(stored, stored.metadata)) return next;
  return withMetadata(next, { ...nextMeta, managedFields: storedFields });
}
