/**
 * Watch streams: newline-delimited JSON events, headers flushed at once,
 * resumable from a resourceVersion while it is in history (410 Expired after),
 * bookmarks as kube-apiserver's watch cache sends them, a timeout, and hooks to
 * end every stream (cleanly or by resetting the socket) for tests of a client's
 * restart logic.
 */
import type { ServerResponse } from 'node:http';
import { typedJson } from '../storage/object-json.js';
import { apiVersionOf } from '../api/resource-definitions.js';
import type { RequestContext, RestDeps } from './rest.js';
import { parseFieldSelector, parseLabelSelector } from '../storage/selectors.js';
import type { Change, KubeObject } from '../storage/kube-object.js';
import { toTable } from './tables.js';
import { resourceVersionProblem, validateListOptions } from './list-pages.js';
import { ApiError } from '../api/errors.js';

/** The clock a watch's timeout and bookmarks run on (a test may pass a manual one). */
export interface WatchTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: WatchTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface WatchOptions {
  /** false: no bookmarks even when asked for (the API promises none). */
  readonly bookmarks: boolean;
  readonly bookmarkIntervalMs: number;
  readonly defaultTimeoutSeconds: number;
  readonly timers: WatchTimers;
}

/** Upstream's last bookmark comes this long before the watch's deadline (cache_watcher.go nextBookmarkTime). */
const PRE_TIMEOUT_BOOKMARK_MS = 2000;

/** Open watch streams, so faults can end them. */
export class WatchRegistry {
  readonly #open = new Set<{ res: ServerResponse; end: () => void }>();

  add(entry: { res: ServerResponse; end: () => void }): () => void {
    this.#open.add(entry);
    return () => {
      this.#open.delete(entry);
    };
  }

  get size(): number {
    return this.#open.size;
  }

  /** Ends every stream: `clean` finishes the response, `reset` destroys the socket. */
  closeAll(mode: 'clean' | 'reset'): number {
    const entries = [...this.#open];
    for (const entry of entries) {
      if (mode === 'reset') entry.res.socket?.destroy();
      else entry.end();
    }
    return entries.length;
  }
}

/**
 * Each change is serialized once per resource definition, however many plain watchers of it receive it
 * (the object's text is shared with the log and the response). Keyed by definition too: one stored change
 * reaches watchers of several versions (ClusterTrustBundle v1 and v1beta1), each with its own apiVersion.
 */
const plainLines = new WeakMap<Change, { readonly def: RequestContext['def']; readonly line: string }>();
function plainLine(def: RequestContext['def'], change: Change): string {
  const cached = plainLines.get(change);
  if (cached?.def === def) return cached.line;
  const line = `{"type":"${change.type}","object":${typedJson(def, change.object)}}\n`;
  if (!def.convert) plainLines.set(change, { def, line });
  return line;
}

export function watch(ctx: RequestContext, deps: RestDeps, registry: WatchRegistry, options: WatchOptions): void {
  const { def, url, res } = ctx;
  const fieldMatch = parseFieldSelector(url.searchParams.get('fieldSelector'), def.fields);
  const labelMatch = parseLabelSelector(url.searchParams.get('labelSelector'));
  const matches = (o: KubeObject): boolean => (ctx.namespace === undefined || o.metadata.namespace === ctx.namespace) && fieldMatch(o) && labelMatch(o);
  validateListOptions(url.searchParams, true);
  const rvParam = url.searchParams.get('resourceVersion');
  // The watch cache (or, for Events, etcd3 store.Watch) parses the version before any event
  // is sent; its storage InvalidError reaches the handler unconverted, so the apiserver
  // answers it as an unknown error: 500 with no reason (responsewriters ErrorToAPIStatus).
  const problem = resourceVersionProblem(rvParam ?? '');
  if (problem !== undefined) throw new ApiError(500, '', problem);
  let firstTable = true;
  res.writeHead(200, { 'Content-Type': ctx.table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  // Events that arrive together leave in one write (one chunk, one TLS record): a socket write per event per
  // watcher costs more than the event, for devapi and for the client reading it.
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0 || res.writableEnded) return;
    const text = pending.length === 1 ? pending[0] ?? '' : pending.join('');
    pending = [];
    res.write(text);
  };
  const write = (line: string): void => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
  const send = (type: string, object: unknown): void => {
    write(`${JSON.stringify({ type, object })}\n`);
  };
  const sendObject = (type: string, o: KubeObject): void => {
    if (!ctx.table) return write(`{"type":"${type}","object":${typedJson(def, o)}}\n`);
    send(type, toTable(def, [o], deps.store.now(), firstTable));
    firstTable = false;
  };

  let unsubscribe = (): void => undefined;
  let unregister = (): unknown => undefined;
  const { timers } = options;
  const handles = new Set<unknown>();
  const end = (): void => {
    unsubscribe();
    unregister();
    handles.forEach((h) => timers.clearTimeout(h));
    handles.clear();
    flush();
    if (!res.writableEnded) res.end();
  };
  res.on('close', end);

  const from = rvParam === null || rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
  // Where the watch starts: the version asked for, or (none) how far the resource's watch cache has seen.
  const start = from ?? deps.store.progressOf(def.storeKey);
  if (from === undefined) {
    for (const o of deps.store.list(def.storeKey, ctx.namespace)) if (matches(o)) sendObject('ADDED', o);
  } else {
    const changes = Number.isFinite(from) ? deps.store.changesSince(from) : undefined;
    if (!changes) {
      send('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410, message: `too old resource version: ${rvParam ?? ''} (${deps.store.oldestResumableVersion})` });
      end();
      return;
    }
    for (const change of changes) if (change.resource === def.storeKey && matches(change.object)) sendObject(change.type, change.object);
  }
  unsubscribe = deps.store.subscribe((change: Change) => {
    if (change.resource !== def.storeKey || !matches(change.object)) return;
    if (ctx.table) sendObject(change.type, change.object);
    else write(plainLine(def, change));
  });
  unregister = registry.add({ res, end });

  const timeout = Number(url.searchParams.get('timeoutSeconds') ?? url.searchParams.get('timeout')?.replace(/s$/, '') ?? options.defaultTimeoutSeconds);
  const timeoutMs = (Number.isFinite(timeout) && timeout > 0 ? timeout : options.defaultTimeoutSeconds) * 1000;
  const deadline = timers.now() + timeoutMs;
  handles.add(timers.setTimeout(end, timeoutMs));
  if (options.bookmarks && url.searchParams.get('allowWatchBookmarks') === 'true') {
    scheduleBookmarks({ deadline, start, intervalMs: options.bookmarkIntervalMs, timers, handles }, () => {
      // The cacher's bookmark carries how far its cache has seen, and a watcher passes on only
      // what is past its start (cache_watcher.go process): nothing while the resource is quiet.
      const rv = deps.store.progressOf(def.storeKey);
      if (rv > start) send('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(rv) } });
    });
  }
}

/**
 * When upstream offers a watcher a bookmark (apiserver pkg/storage/cacher/cache_watcher.go
 * `nextBookmarkTime`, with `defaultBookmarkFrequency` of a minute in cacher.go): every
 * `intervalMs`, and last 2 s before the watch's deadline; none once that moment has passed.
 */
function scheduleBookmarks(
  w: { readonly deadline: number; readonly start: number; readonly intervalMs: number; readonly timers: WatchTimers; readonly handles: Set<unknown> },
  offer: () => void,
): void {
  const last = w.deadline - PRE_TIMEOUT_BOOKMARK_MS;
  const next = (now: number): void => {
    const at = Math.min(now + w.intervalMs, last);
    if (at < now) return;
    const handle = w.timers.setTimeout(() => {
      w.handles.delete(handle);
      offer();
      if (at < last) next(at);
    }, at - now);
    w.handles.add(handle);
  };
  next(w.timers.now());
}
