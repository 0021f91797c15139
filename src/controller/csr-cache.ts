/**
 * The CSRs the watches have delivered, by name. An object never replaces a newer
 * one of the same name: resourceVersions are compared as integers when both are
 * (etcd's and devapi's are), so a lagging watch event cannot undo what a status
 * write just returned.
 */
import type { Csr } from '../signer/types.js';

const INTEGER = /^\d+$/;

export function isNewer(candidate: string | undefined, current: string | undefined): boolean {
  if (candidate === undefined || current === undefined) return true;
  if (INTEGER.test(candidate) && INTEGER.test(current)) {
    return candidate.length === current.length ? candidate >= current : candidate.length > current.length;
  }
  return true;
}

export class CsrCache {
  private readonly objects = new Map<string, Csr>();

  get(name: string): Csr | undefined {
    return this.objects.get(name);
  }

  /** Stores the object unless the cache holds a newer one; returns whether it was stored. */
  set(csr: Csr): boolean {
    const current = this.objects.get(csr.metadata.name);
    if (current && !isNewer(csr.metadata.resourceVersion, current.metadata.resourceVersion)) return false;
    this.objects.set(csr.metadata.name, csr);
    return true;
  }

  delete(name: string): void {
    this.objects.delete(name);
  }

  get size(): number {
    return this.objects.size;
  }

  values(): IterableIterator<Csr> {
    return this.objects.values();
  }
}
