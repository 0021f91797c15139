/**
 * The namespace lifecycle after a DELETE, as kube-apiserver and the controller manager's
 * namespace controller run it. The first DELETE sets `metadata.deletionTimestamp` and
 * `status.phase: Terminating` and answers with the namespace (pkg/registry/core/namespace/
 * storage/storage.go `REST.Delete`); watchers see it MODIFIED, and it stays readable. A
 * while later (`delayMs`; upstream, as long as the namespace controller takes to delete
 * what is in it) every object in it is deleted, then the namespace itself (DELETED).
 * Upstream the controller also writes status conditions and removes the `kubernetes`
 * finalizer through `/finalize` before the final delete; devapi writes neither.
 */
import type { KubeObject } from '../storage/kube-object.js';
import { kubeTime } from '../storage/kube-object.js';
import type { Store } from '../storage/store.js';
import { deleteNamespaceContents, isTerminating, namespaceStillTerminating } from './namespaces.js';

export class NamespaceTermination {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  /** `delayMs` 0 finishes within the DELETE that starts it. */
  constructor(private readonly store: Store, private readonly delayMs: number) {}

  /** A DELETE of `ns` (checked deletable): marks it Terminating and schedules the rest. */
  begin(ns: KubeObject): KubeObject {
    if (isTerminating(ns)) throw namespaceStillTerminating(ns.metadata.name);
    const status = ns.status !== null && typeof ns.status === 'object' ? ns.status : {};
    const marked = this.store.replace('namespaces', {
      ...ns,
      metadata: { ...ns.metadata, deletionTimestamp: kubeTime(this.store.now()) },
      status: { ...status, phase: 'Terminating' },
    });
    this.#schedule(marked.metadata.name);
    return marked;
  }

  /** After a restart: the namespaces stored Terminating get their end scheduled again. */
  resume(): void {
    for (const ns of this.store.list('namespaces')) if (isTerminating(ns)) this.#schedule(ns.metadata.name);
  }

  /** Ends every Terminating namespace now (the control API's hook for tests); returns how many. */
  finishAll(): number {
    const names = this.store.list('namespaces').filter(isTerminating).map((ns) => ns.metadata.name);
    for (const name of names) this.#finish(name);
    return names.length;
  }

  /** Cancels what is scheduled (devapi stopping): the namespaces stay Terminating in the state. */
  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #schedule(name: string): void {
    if (this.#timers.has(name)) return;
    if (this.delayMs <= 0) return this.#finish(name);
    this.#timers.set(name, setTimeout(() => this.#finish(name), this.delayMs));
  }

  #finish(name: string): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
    const ns = this.store.get('namespaces', undefined, name);
    if (!ns || !isTerminating(ns)) return;
    deleteNamespaceContents(this.store, name);
    this.store.delete('namespaces', undefined, name);
  }
}
