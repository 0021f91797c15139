/**
 * Watch streams: newline-delimited JSON events, headers flushed at once,
 * resumable from a resourceVersion while it is in history (410 Expired after),
 * optional bookmarks, a timeout, and hooks to end every stream (cleanly or by
 * resetting the socket) for tests of a client's restart logic.
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

export interface WatchOptions {
  readonly bookmarkIntervalMs: number;
  readonly defaultTimeoutSeconds: number;
}

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
  const timers: NodeJS.Timeout[] = [];
  const end = (): void => {
    unsubscribe();
    unregister();
    timers.forEach(clearTimeout);
    timers.forEach(clearInterval);
    flush();
    if (!res.writableEnded) res.end();
  };
  res.on('close', end);

  const from = rvParam === null || rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
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

  if (url.searchParams.get('allowWatchBookmarks') === 'true') {
    timers.push(setInterval(() => send('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(deps.store.resourceVersion) } }), options.bookmarkIntervalMs));
  }
  const timeout = Number(url.searchParams.get('timeoutSeconds') ?? url.searchParams.get('timeout')?.replace(/s$/, '') ?? options.defaultTimeoutSeconds);
  timers.push(setTimeout(end, (Number.isFinite(timeout) && timeout > 0 ? timeout : options.defaultTimeoutSeconds) * 1000));
}
