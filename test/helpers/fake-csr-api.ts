/**
 * An in-process CsrApi for the controller's unit tests: objects with increasing
 * resourceVersions, watches fed from a history, optimistic concurrency on
 * /status, and scripted faults. Records every write.
 */
import { openWatcher, type FakeWatcher } from './fake-watcher.js';
import type { CsrApi, CsrList, KubeEvent, WatchEvent } from '../../src/kube/csr-api.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { Csr } from '../../src/signer/types.js';

type Method = 'list' | 'watch' | 'get' | 'updateStatus' | 'delete' | 'createEvent';

type Watcher = FakeWatcher<WatchEvent<Csr>> & { readonly signerName: string | undefined };

/** `signerName` undefined selects every CSR, as a list or watch without a field selector does. */
const selects = (signerName: string | undefined, csr: Csr): boolean => signerName === undefined || csr.spec.signerName === signerName;

export class FakeCsrApi implements CsrApi {
  private rv = 100;
  readonly objects = new Map<string, Csr>();
  private readonly history: { rv: number; event: WatchEvent<Csr> & { object: Csr } }[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly faults: { method: Method; error: Error }[] = [];
  /** History before this resourceVersion is gone (410). */
  compactedBefore = 0;
  /** When true, new watches stay silent (no events, no end). */
  silent = false;
  readonly statusWrites: Csr[] = [];
  readonly events: KubeEvent[] = [];
  readonly calls: Method[] = [];

  /** Creates or replaces an object as a user would (not through /status). */
  put(csr: Csr): Csr {
    const type = this.objects.has(csr.metadata.name) ? 'MODIFIED' : 'ADDED';
    return this.store(csr, type);
  }

  remove(name: string): void {
    const current = this.objects.get(name);
    if (!current) return;
    this.objects.delete(name);
    this.rv++;
    this.emit({ type: 'DELETED', object: { ...current, metadata: { ...current.metadata, resourceVersion: String(this.rv) } } });
  }

  /** The next call of `method` throws `error`. */
  failNext(method: Method, error: Error = new KubeApiError(500, 'InternalError', 'injected', undefined)): void {
    this.faults.push({ method, error });
  }

  /** Ends every open watch as a server would (cleanly, or with an error). */
  closeWatches(error?: Error): void {
    for (const w of [...this.watchers]) w.end(error);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /** The scripted error for this call, if any. */
  private fault(method: Method): Error | undefined {
    this.calls.push(method);
    const i = this.faults.findIndex((f) => f.method === method);
    return i >= 0 ? this.faults.splice(i, 1)[0]?.error : undefined;
  }

  private store(csr: Csr, type: 'ADDED' | 'MODIFIED'): Csr {
    this.rv++;
    const stored: Csr = structuredClone({ ...csr, metadata: { ...csr.metadata, resourceVersion: String(this.rv), uid: csr.metadata.uid ?? `uid-${csr.metadata.name}` } });
    this.objects.set(stored.metadata.name, stored);
    this.emit({ type, object: stored });
    return stored;
  }

  private emit(event: WatchEvent<Csr> & { object: Csr }): void {
    this.history.push({ rv: this.rv, event });
    for (const w of this.watchers) if (selects(w.signerName, event.object)) w.onEvent(structuredClone(event));
  }

  list(signerName: string | undefined, options: { limit: number; continue?: string }): Promise<CsrList> {
    const fault = this.fault('list');
    if (fault) return Promise.reject(fault);
    const all = [...this.objects.values()].filter((c) => selects(signerName, c)).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const start = Number(options.continue ?? 0);
    const items = all.slice(start, start + options.limit).map((c) => structuredClone(c));
    const next = start + options.limit < all.length ? String(start + options.limit) : undefined;
    return Promise.resolve({ items, resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) });
  }

  watch(signerName: string | undefined, resourceVersion: string, _timeout: number, onEvent: (e: WatchEvent<Csr>) => void, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fault = this.fault('watch');
      if (fault) return reject(fault);
      const from = Number(resourceVersion);
      if (from < this.compactedBefore) {
        return reject(new KubeApiError(410, 'Expired', `too old resource version: ${from} (${this.compactedBefore})`, undefined));
      }
      const watcher = openWatcher(this.watchers, { signerName }, onEvent, signal, resolve, reject);
      if (this.silent) return;
      for (const h of this.history) if (h.rv > from && selects(signerName, h.event.object)) watcher.onEvent(structuredClone(h.event));
    });
  }

  get(name: string): Promise<Csr> {
    const fault = this.fault('get');
    if (fault) return Promise.reject(fault);
    const csr = this.objects.get(name);
    return csr ? Promise.resolve(structuredClone(csr)) : Promise.reject(new KubeApiError(404, 'NotFound', `${name} not found`, undefined));
  }

  updateStatus(csr: Csr): Promise<Csr> {
    const fault = this.fault('updateStatus');
    if (fault) return Promise.reject(fault);
    const current = this.objects.get(csr.metadata.name);
    if (!current) return Promise.reject(new KubeApiError(404, 'NotFound', 'not found', undefined));
    if (csr.metadata.resourceVersion !== current.metadata.resourceVersion) {
      return Promise.reject(new KubeApiError(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again', undefined));
    }
    if (current.status?.certificate && csr.status?.certificate !== current.status.certificate) {
      return Promise.reject(new KubeApiError(422, 'Invalid', 'status.certificate: Forbidden: updates may not modify existing certificate content', undefined));
    }
    this.statusWrites.push(structuredClone(csr));
    return Promise.resolve(structuredClone(this.store({ ...current, status: csr.status ?? {} }, 'MODIFIED')));
  }

  readonly deletes: string[] = [];

  delete(name: string, preconditions: { uid?: string; resourceVersion?: string }): Promise<void> {
    const fault = this.fault('delete');
    if (fault) return Promise.reject(fault);
    const current = this.objects.get(name);
    if (!current) return Promise.reject(new KubeApiError(404, 'NotFound', `${name} not found`, undefined));
    if ((preconditions.uid !== undefined && preconditions.uid !== current.metadata.uid)
      || (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion)) {
      return Promise.reject(new KubeApiError(409, 'Conflict', 'Precondition failed', undefined));
    }
    this.deletes.push(name);
    this.remove(name);
    return Promise.resolve();
  }

  createEvent(event: KubeEvent): Promise<void> {
    const fault = this.fault('createEvent');
    if (fault) return Promise.reject(fault);
    this.events.push(event);
    return Promise.resolve();
  }
}
