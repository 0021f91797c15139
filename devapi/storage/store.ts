/**
 * devapi's object store: every resource in one map, one global resourceVersion
 * counter, a bounded history of changes for watches, and persistence to a state
 * directory (a snapshot and a log of changes, state-log.ts) so a restarted devapi
 * resumes with the same objects and versions.
 */
import { randomUUID } from 'node:crypto';
import { kubeTime, type Change, type KubeObject } from './kube-object.js';
import { byKeyOrder, listKey } from './key-order.js';
import { sameStoredObject } from './object-equality.js';
import { objectJson } from './object-json.js';
import { StateLog, type ReadStateText } from './state-log.js';

export type Listener = (change: Change) => void;

export type StoreOptions = {
  readonly historySize?: number;
  readonly clock?: () => Date;
  readonly persistIntervalMs?: number;
} & (
  | { readonly stateFile?: undefined }
  /** Persisted: `stateFile` is the snapshot, read (with the log beside it) through `readText`. */
  | { readonly stateFile: string; readonly readText: ReadStateText }
);

const keyOf = (resource: string, namespace: string | undefined, name: string): string => `${resource}\u0000${namespace ?? ''}\u0000${name}`;

export class Store {
  #rv = 0;
  #objects = new Map<string, { resource: string; object: KubeObject }>();
  #history: Change[] = [];
  /** Changes at or below this RV are gone from history: resuming from before it gets 410. */
  #compactedThrough = 0;
  #listeners = new Set<Listener>();
  /**
   * How far each resource's watch cache has seen, as kube-apiserver's cacher knows it
   * (pkg/storage/cacher/cacher.go `dispatchEvents`: lastProcessedResourceVersion): the
   * version of the resource's last change, or of the store when it was loaded or last
   * sent a progress notification (`notifyProgress`), whichever is later.
   */
  readonly #progress = new Map<string, number>();
  #progressFloor = 0;
  #persistTimer: NodeJS.Timeout | undefined;
  readonly #log: StateLog | undefined;

  /**
   * `stateFile` is the snapshot; the log of changes lives beside it. Changes reach the log
   * every `persistIntervalMs` (500 ms), and the log is folded into the snapshot on start, on
   * `flush` and once it holds more lines than `max(10,000, 2 × objects)`.
   */
  constructor(private readonly options: StoreOptions = {}) {
    if (options.stateFile !== undefined) {
      this.#log = new StateLog(options.stateFile, options.readText);
      this.#load(this.#log);
    }
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** The resourceVersion the watch cache of `resource` has reached: what a bookmark for it carries. */
  progressOf(resource: string): number {
    return Math.max(this.#progressFloor, this.#progress.get(resource) ?? 0);
  }

  /**
   * An etcd progress notification: every resource's watch cache learns that nothing of its
   * own changed up to the current revision (etcd sends one to a quiet watch every
   * `--experimental-watch-progress-notify-interval`, 10 minutes by default).
   */
  notifyProgress(): void {
    this.#progressFloor = this.#rv;
  }

  get oldestResumableVersion(): number {
    return this.#compactedThrough;
  }

  now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#objects.get(keyOf(resource, namespace, name))?.object;
  }

  /** Objects of a resource, in a namespace or all, in etcd's key order (the bytes of namespace/name). */
  list(resource: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const entry of this.#objects.values()) {
      if (entry.resource === resource && (namespace === undefined || entry.object.metadata.namespace === namespace)) out.push(entry.object);
    }
    return byKeyOrder(out);
  }

  /**
   * The objects `list` returned when the store was at `rv`: today's objects with every later
   * change undone from the history, as etcd reads a range at an older revision. Undefined when
   * the history no longer reaches back to `rv` (etcd's ErrCompacted).
   */
  listAt(resource: string, namespace: string | undefined, rv: number): KubeObject[] | undefined {
    if (rv < this.#compactedThrough) return undefined;
    if (rv >= this.#rv) return this.list(resource, namespace);
    const objects = new Map<string, KubeObject>();
    for (const o of this.list(resource, namespace)) objects.set(listKey(o), o);
    for (let i = this.#history.length - 1; i >= 0; i--) {
      const change = this.#history[i];
      if (change === undefined || change.rv <= rv) break;
      if (change.resource !== resource || (namespace !== undefined && change.object.metadata.namespace !== namespace)) continue;
      if (change.before) objects.set(listKey(change.object), change.before);
      else objects.delete(listKey(change.object));
    }
    return byKeyOrder([...objects.values()]);
  }

  /** Stores a new object, filling uid, creationTimestamp and resourceVersion. */
  create(resource: string, object: Record<string, unknown>): KubeObject {
    const metadata = { ...(object.metadata as Record<string, unknown>) };
    const stored = {
      ...object,
      metadata: { ...metadata, uid: randomUUID(), creationTimestamp: kubeTime(this.now()), resourceVersion: String(++this.#rv) },
    } as KubeObject;
    this.#objects.set(keyOf(resource, stored.metadata.namespace, stored.metadata.name), { resource, object: stored });
    this.#record({ type: 'ADDED', resource, object: stored, rv: this.#rv });
    return stored;
  }

  /**
   * Replaces an existing object (the caller has checked preconditions). An object that
   * serializes as the stored one does is not written: the stored object comes back with its
   * resourceVersion and no watch event is sent, as the etcd3 store's GuaranteedUpdate skips
   * a write whose bytes equal the current ones (apiserver pkg/storage/etcd3/store.go).
   */
  replace(resource: string, object: KubeObject): KubeObject {
    const key = keyOf(resource, object.metadata.namespace, object.metadata.name);
    const before = this.#objects.get(key)?.object;
    if (before && sameStoredObject(before, object)) return before;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.#rv) } } as KubeObject;
    this.#objects.set(key, { resource, object: stored });
    this.#record({ type: 'MODIFIED', resource, object: stored, rv: this.#rv, ...(before ? { before } : {}) });
    return stored;
  }

  delete(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(resource, namespace, name);
    const entry = this.#objects.get(key);
    if (!entry) return undefined;
    this.#objects.delete(key);
    const last = { ...entry.object, metadata: { ...entry.object.metadata, resourceVersion: String(++this.#rv) } } as KubeObject;
    this.#record({ type: 'DELETED', resource, object: last, rv: this.#rv, before: entry.object });
    return last;
  }

  /** History after `rv`, or undefined when `rv` is older than what is kept. */
  changesSince(rv: number): Change[] | undefined {
    if (rv < this.#compactedThrough) return undefined;
    return this.#history.filter((c) => c.rv > rv);
  }

  /** Forgets all history: every watch resuming from an older version gets 410 Expired. */
  compact(): void {
    this.#history = [];
    this.#compactedThrough = this.#rv;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #record(change: Change): void {
    this.#history.push(change);
    this.#progress.set(change.resource, change.rv);
    const limit = this.options.historySize ?? 10_000;
    if (this.#history.length > limit) {
      const dropped = this.#history.splice(0, this.#history.length - limit);
      this.#compactedThrough = dropped.at(-1)?.rv ?? this.#compactedThrough;
    }
    for (const listener of this.#listeners) listener(change);
    if (!this.#log) return;
    this.#log.append(change.rv, change.type, change.resource, objectJson(change.object));
    this.#persistTimer ??= setTimeout(() => this.#writeLog(), this.options.persistIntervalMs ?? 500);
  }

  #writeLog(): void {
    this.#persistTimer = undefined;
    if (this.#log && this.#log.size > Math.max(10_000, 2 * this.#objects.size)) this.flush();
    else this.#log?.write();
  }

  /** Writes the state now: a new snapshot of every object, and an empty log. */
  flush(): void {
    if (this.#persistTimer) clearTimeout(this.#persistTimer);
    this.#persistTimer = undefined;
    this.#log?.snapshot({ rv: this.#rv, entries: [...this.#objects.values()] });
  }

  #load(log: StateLog): void {
    const state = log.load((resource, object) => keyOf(resource, object.metadata.namespace, object.metadata.name));
    this.#rv = state.rv;
    // History does not survive a restart: watches resuming from before it relist (410), as after an apiserver restart.
    this.#compactedThrough = state.rv;
    // A restarted apiserver's caches start from a list at the current revision.
    this.#progressFloor = state.rv;
    for (const entry of state.entries) this.#objects.set(keyOf(entry.resource, entry.object.metadata.namespace, entry.object.metadata.name), entry);
    // Fold the log into the snapshot now, so it only ever holds this run's changes.
    log.snapshot(state);
  }
}
