/**
 * The one in-process Kubernetes resource behind the API fakes (FakeCsrApi,
 * FakeTrustApi): objects by key with increasing resourceVersions from a revision
 * counter that several resources may share (as etcd's is shared by every kind), a
 * history so a watch can start from any resourceVersion (410 before `compactedBefore`),
 * optimistic concurrency (409 on a stale resourceVersion, 409 AlreadyExists on a
 * second create, 409 on a delete whose preconditions no longer hold), 404, list paging with `continue`, and watch streams that the test
 * can end. `FakeFaults` scripts failures and interleaved writes per API method.
 * The fakes above it only adapt this to one interface each.
 */
import type { Preconditions, WatchEvent } from '../../src/kube/resource.js';
import { KubeApiError } from '../../src/kube/http.js';

export interface FakeObject {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly resourceVersion?: string };
}

type ObjectEvent<T> = { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T };

/** The resourceVersion counter; pass one to several resources to share it. */
export class Revisions {
  constructor(public value = 100) {}
  next(): number {
    return ++this.value;
  }
}

/** One open watch: events go to the caller; an error thrown by its handler, an abort or the fake ends it. */
interface Watcher<T> {
  readonly accepts: (object: T) => boolean;
  readonly onEvent: (e: WatchEvent<T>) => void;
  readonly end: (error?: Error) => void;
}

export const injected = (): KubeApiError => new KubeApiError(500, 'InternalError', 'injected', undefined);

export class FakeResource<T extends FakeObject> {
  /** The stored objects by key (name, or namespace/name). Tests may read and edit it directly. */
  readonly objects = new Map<string, T>();
  private readonly history: { rv: number; event: ObjectEvent<T> }[] = [];
  private readonly watchers = new Set<Watcher<T>>();
  /** History before this resourceVersion is gone: a watch from earlier gets 410. */
  compactedBefore = 0;
  /** When true, new watches stay silent (no history, no end) until the test ends them. */
  silent = false;

  /** `plural` names the resource in API messages (`configmaps "x" not found`). */
  constructor(
    readonly plural: string,
    readonly revisions = new Revisions(),
    readonly keyOf: (object: FakeObject) => string = (o) => o.metadata.name,
  ) {}

  /** The current resourceVersion (of the shared counter), as a list returns it. */
  get resourceVersion(): string {
    return String(this.revisions.value);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  find(key: string): T | undefined {
    return this.objects.get(key);
  }

  /** Stores `object` as a user would, with the next resourceVersion; open watches see ADDED or MODIFIED. Returns the stored object. */
  put(object: T): T {
    const key = this.keyOf(object);
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const rv = this.revisions.next();
    const stored = structuredClone({ ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } });
    this.objects.set(key, stored);
    this.emit(rv, { type, object: stored });
    return stored;
  }

  /** Deletes by key; open watches see DELETED carrying a new resourceVersion. */
  remove(key: string): void {
    const current = this.objects.get(key);
    if (!current) return;
    this.objects.delete(key);
    const rv = this.revisions.next();
    this.emit(rv, { type: 'DELETED', object: { ...current, metadata: { ...current.metadata, resourceVersion: String(rv) } } });
  }

  notFound(name: string): KubeApiError {
    return new KubeApiError(404, 'NotFound', `${this.plural} "${name}" not found`, undefined);
  }

  /** The stored object, or a 404. */
  get(key: string): T {
    const found = this.objects.get(key);
    if (!found) throw this.notFound(key);
    return found;
  }

  /** POST: 409 AlreadyExists when the key is taken. */
  create(object: T): T {
    if (this.objects.has(this.keyOf(object))) {
      throw new KubeApiError(409, 'AlreadyExists', `${this.plural} "${object.metadata.name}" already exists`, undefined);
    }
    return this.put(object);
  }

  /**
   * PUT with the caller's resourceVersion: 404 when absent, 409 Conflict when stale,
   * then `check` (the server's own validation: an error refuses the write), then
   * `apply` decides what is stored (default: the object as given).
   */
  update(object: T, options: { check?: (current: T) => Error | undefined; apply?: (current: T) => T } = {}): T {
    const current = this.objects.get(this.keyOf(object));
    if (!current) throw this.notFound(object.metadata.name);
    if (object.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', `Operation cannot be fulfilled on ${this.plural} "${object.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`, undefined);
    }
    const refused = options.check?.(current);
    if (refused) throw refused;
    return this.put(options.apply ? options.apply(current) : object);
  }

  /** DELETE with preconditions: 404 when absent, 409 when the uid or resourceVersion given is not the stored one. */
  delete(key: string, preconditions: Preconditions = {}): void {
    const current = this.objects.get(key);
    if (!current) throw this.notFound(key);
    const meta = current.metadata as FakeObject['metadata'] & { readonly uid?: string };
    if ((preconditions.uid !== undefined && preconditions.uid !== meta.uid)
      || (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== meta.resourceVersion)) {
      throw new KubeApiError(409, 'Conflict', `Precondition failed for ${this.plural} "${current.metadata.name}"`, undefined);
    }
    this.remove(key);
  }

  /** One page of the objects `filter` accepts, by key order; `continue` is the offset of the next page. */
  list(options: { limit: number; continue?: string }, filter: (object: T) => boolean = () => true): { items: T[]; resourceVersion: string; continue?: string } {
    const all = [...this.objects.entries()].filter(([, o]) => filter(o)).sort(([a], [b]) => a.localeCompare(b)).map(([, o]) => o);
    const start = Number(options.continue ?? 0);
    const items = all.slice(start, start + options.limit).map((o) => structuredClone(o));
    const next = start + options.limit < all.length ? String(start + options.limit) : undefined;
    return { items, resourceVersion: this.resourceVersion, ...(next ? { continue: next } : {}) };
  }

  /**
   * A watch from `resourceVersion` of the objects `filter` accepts: replays the history
   * after it, then streams. Resolves when the test ends it cleanly, rejects when it ends
   * with an error, the handler throws, or `signal` aborts.
   */
  watch(resourceVersion: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal, filter: (object: T) => boolean = () => true): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const from = Number(resourceVersion);
      if (from < this.compactedBefore) {
        return reject(new KubeApiError(410, 'Expired', `too old resource version: ${from} (${this.compactedBefore})`, undefined));
      }
      const watcher: Watcher<T> = {
        accepts: filter,
        onEvent: (e) => {
          try {
            onEvent(e);
          } catch (error) {
            watcher.end(error as Error);
          }
        },
        end: (error) => {
          this.watchers.delete(watcher);
          if (error) reject(error);
          else resolve();
        },
      };
      signal.addEventListener('abort', () => watcher.end(new Error('aborted')), { once: true });
      this.watchers.add(watcher);
      if (this.silent) return;
      for (const h of this.history) if (h.rv > from && filter(h.event.object)) watcher.onEvent(structuredClone(h.event));
    });
  }

  /** Ends every open watch as a server would (cleanly, or with an error). */
  closeWatches(error?: Error): void {
    for (const w of [...this.watchers]) w.end(error);
  }

  private emit(rv: number, event: ObjectEvent<T>): void {
    this.history.push({ rv, event });
    for (const w of this.watchers) if (w.accepts(event.object)) w.onEvent(structuredClone(event));
  }
}

/** Scripted failures and interleavings per API method; records every call in order. */
export class FakeFaults<M extends string> {
  readonly calls: M[] = [];
  private readonly faults: { method: M; error: Error }[] = [];
  private readonly before: { method: M; run: () => void }[] = [];
  private readonly after: { method: M; error: Error }[] = [];

  /** The next call of `method` throws `error` (a 500 by default). */
  failNext(method: M, error: Error = injected()): void {
    this.faults.push({ method, error });
  }

  /** The next call of `method` is carried out, then answers `error`: a write stored whose reply was lost. */
  failAfterNext(method: M, error: Error = injected()): void {
    this.after.push({ method, error });
  }

  /** Runs `run` just before the next call of `method` is served: another writer getting in between. */
  beforeNext(method: M, run: () => void): void {
    this.before.push({ method, run });
  }

  count(...methods: M[]): number {
    return this.calls.filter((c) => methods.includes(c)).length;
  }

  /** Records a call of `method`, runs its interleaved write if any, and returns its scripted error if any. */
  enter(method: M): Error | undefined {
    this.calls.push(method);
    const hook = this.before.findIndex((b) => b.method === method);
    if (hook >= 0) this.before.splice(hook, 1)[0]?.run();
    const i = this.faults.findIndex((f) => f.method === method);
    return i >= 0 ? this.faults.splice(i, 1)[0]?.error : undefined;
  }

  /** Serves `call` as `method` unless a fault is scripted for it; an error `call` throws (a 404, a 409) becomes the rejection. */
  serve<R>(method: M, call: () => R): Promise<R> {
    const fault = this.enter(method);
    if (fault) return Promise.reject(fault);
    try {
      const result = call();
      const lost = this.after.findIndex((a) => a.method === method);
      if (lost >= 0) return Promise.reject(this.after.splice(lost, 1)[0]?.error ?? injected());
      return Promise.resolve(result);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }
}
