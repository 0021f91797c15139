/**
 * etcd's key order, in which the apiserver lists objects and continue tokens resume: the
 * bytes of the key, `/registry/<resource>/<namespace>/<name>` (no namespace for a
 * cluster-scoped resource). Within one resource that is the byte order of `namespace/name`.
 */
import type { KubeObject } from './kube-object.js';

/** The part of an object's key a list orders by: `namespace/name`, or the name of a cluster-scoped object. */
export const listKey = (o: KubeObject): string => (o.metadata.namespace === undefined ? o.metadata.name : `${o.metadata.namespace}/${o.metadata.name}`);

/**
 * Compares two strings by their UTF-8 bytes, as etcd compares keys. UTF-8 orders by code
 * point; UTF-16 code units do too except that surrogates (U+D800–DFFF) stand for code
 * points above U+FFFF and so must sort after U+E000–FFFF.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** A UTF-16 code unit moved so that surrogates rank above U+E000–FFFF, as the code points they encode do. */
const codePointRank = (unit: number): number => (unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

/** Sorts objects (in place) in key order and returns them. */
export function byKeyOrder(objects: KubeObject[]): KubeObject[] {
  return objects.sort((a, b) => compareBytes(listKey(a), listKey(b)));
}
