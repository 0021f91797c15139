/**
 * A stored object's JSON, made once and shared: the state log, every plain watcher and the
 * response to the write that stored it all send the same text. Stored objects are never
 * changed in place (every write stores a new object), so the text cannot go stale.
 */
import { apiVersionOf, type ResourceDef } from '../api/resource-definitions.js';
import type { KubeObject } from './kube-object.js';

const texts = new WeakMap<KubeObject, string>();

export function objectJson(o: KubeObject): string {
  let text = texts.get(o);
  if (text === undefined) {
    text = JSON.stringify(o);
    texts.set(o, text);
  }
  return text;
}

/** The object as the API serves it, `{"apiVersion":…,"kind":…,…}`: the same text as JSON.stringify of withType. */
export function typedJson(def: ResourceDef, o: KubeObject): string {
  if (def.convert || Object.hasOwn(o, 'apiVersion') || Object.hasOwn(o, 'kind')) {
    return JSON.stringify({ apiVersion: apiVersionOf(def), kind: def.kind, ...(def.convert ? def.convert.fromStorage(o) : o) });
  }
  const text = objectJson(o);
  const head = `{"apiVersion":${JSON.stringify(apiVersionOf(def))},"kind":${JSON.stringify(def.kind)}`;
  return text === '{}' ? `${head}}` : `${head},${text.slice(1)}`;
}
