/**
 * The objects the watches have delivered, by key (objectKey: the name, or
 * `namespace/name` for a namespaced kind). An object never replaces a
 * newer one of the same name: resourceVersions are compared as integers when both
 * are (etcd's and devapi's are), so a lagging watch event cannot undo what a write
 * just returned.
 */
import { objectKey, type Listed } from '../kube/list-watch.js';

const INTEGER = /^\d+$/;

export function isNewer(candidate: string | undefined, current: string | undefined): boolean {
  if (candidate === undefined || current === undefined) return true;
  if (INTEGER.test(candidate) && INTEGER.test(current)) {
    return candidate.length === current.length ? candidate >= current : candidate.length > current.length;
  }
  return true;
}

export class ObjectCache<T extends Listed> {
  private readonly objects = new Map<string, T>();

  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  /** Stores the object unless the cache holds a newer one; returns whether it was stored. */
  set(object: T): boolean {
    const key = objectKey(object);
    const current = this.objects.get(key);
    if (current && !isNewer(object.metadata.resourceVersion, current.metadata.resourceVersion)) return false;
    this.objects.set(key, object);
    return true;
  }

  /**
   * What a write path uses (an object a write returned, or a re-read after a 409): replaces the
   * cached object only while one is cached and is not newer, and never adds one. The watch may
   * have delivered the DELETED event while the write or the re-read was in flight; `set` would
   * put the deleted object back, and with the watch no longer knowing its name nothing would
   * ever take it out again. Returns whether it was stored.
   */
  update(object: T): boolean {
    if (!this.objects.has(objectKey(object))) return false;
    return this.set(object);
  }

  delete(name: string): void {
    this.objects.delete(name);
  }

  get size(): number {
    return this.objects.size;
  }

  values(): IterableIterator<T> {
    return this.objects.values();
  }
}
