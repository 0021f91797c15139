/**
 * List, then watch, one kind of object (the CSRs of one signerName, or the
 * namespaces), keeping a cache current and telling the owner which keys changed
 * (objectKey: the name, or `namespace/name` for a namespaced kind).
 * Resumes from the last resourceVersion seen (events and bookmarks), relists on
 * 410 Gone, and waits a capped, jittered backoff between failed attempts.
 *
 * Each watch asks the server to end it after a random 5–10 minutes, as client-go's
 * reflector does (tools/cache/reflector.go `watch`: `timeoutSeconds` of
 * minWatchTimeout × (1 + rand), minWatchTimeout 5 minutes). A resource nobody
 * changes gets no events, and the API promises no bookmarks, so silence until that
 * end is normal, and the server's clean end is a silent re-watch. Only a watch that
 * stays silent `quietTimeoutMs` past both its last event or bookmark and the end it
 * asked for is taken as hung (a dead connection, or client-node's informer stalling
 * without an error) and restarted by the watchdog.
 *
 * A watch the server ends cleanly within a second having delivered nothing is not
 * that normal end but a failure (a server, aggregator or load balancer that answers
 * and closes at once), backed off like any other: client-go's reflector does the same
 * (tools/cache/reflector.go `watchHandler`: "very short watch").
 */
import type { Logger } from 'pino';
import { objectKey, type Feed, type Listed, type WatchEvent } from './resource.js';

export { objectKey, type Feed, type Listed } from './resource.js';
import { KubeApiError } from './http.js';
import { systemClock, type Clock } from '../clock.js';

export interface ListWatchOptions<T extends Listed> {
  readonly feed: Feed<T>;
  readonly cache: { set(object: T): unknown; delete(name: string): void };
  /** Fields on every log line, e.g. `{ signer }`. */
  readonly logFields: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** A key was added, changed or relisted. */
  readonly onChange: (name: string) => void;
  /** A key was deleted: a watch event, or a relist that no longer shows it. */
  readonly onDelete?: (name: string) => void;
  /** A watch silent this long past its last event or bookmark and past the end it asked the server for is restarted. */
  readonly quietTimeoutMs: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly listPageSize?: number;
  readonly onRestart?: (reason: 'error' | 'gone' | 'quiet') => void;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Each watch asks for a server-side timeout of 5–10 minutes: client-go's reflector's minWatchTimeout × (1 + rand). */
const MIN_WATCH_TIMEOUT_S = 300;
/** A clean end sooner than this after the watch opened, with no event or bookmark, is a failure (client-go's reflector: 1 s). */
const SHORT_WATCH_MS = 1000;

class Gone extends Error {}
class ShortWatch extends Error {}

export class ListWatch<T extends Listed> {
  private resourceVersion: string | undefined;
  private readonly names = new Set<string>();
  private stopped = false;
  private current: AbortController | undefined;
  private quiet = false;
  /** 410s in a row with no event between them. */
  private gones = 0;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;
  /** The first list has completed. */
  synced = false;
  /** Clock time of the last list, event, bookmark or clean end of a watch by the server (not a very short one). */
  lastActivity = 0;
  /** Clock time by which the open watch asked the server to end it; undefined while none is open. */
  private watchEnds: number | undefined;
  /** Clock time the open watch was opened at; undefined while none is open. */
  private openedAt: number | undefined;
  /** A list or watch failed before a watch stayed open a second, and none has since delivered something or stayed open a second. */
  private failing = false;
  /** The current attempt's watch stayed open a second or more (a later error is a single failure, not a failing run). */
  private established = false;
  restarts = 0;

  constructor(private readonly options: ListWatchOptions<T>) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger, logFields } = this.options;
    let failures = 0;
    while (!this.stopped) {
      this.established = false;
      try {
        if (this.resourceVersion === undefined) await this.relist();
        await this.watchOnce(this.resourceVersion ?? '');
        failures = 0;
        this.gones = 0;
      } catch (e) {
        if (this.stopped) break;
        if (this.quiet) {
          this.quiet = false;
          this.restarted('quiet');
          logger.warn({ ...logFields, quietSeconds: this.options.quietTimeoutMs / 1000 }, 'watch stayed open and silent past its own timeout; restarting it');
          continue;
        }
        if (e instanceof Gone || (e instanceof KubeApiError && e.status === 410)) {
          this.resourceVersion = undefined;
          this.restarted('gone');
          logger.info(logFields, 'watch resourceVersion expired; relisting');
          // A second 410 with no event in between would relist in a hot loop: back off first.
          if (++this.gones === 1) continue;
        }
        failures++;
        if (!this.established) this.failing = true;
        const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
        const delay = Math.round(cap / 2 + (this.random() * cap) / 2);
        this.restarted('error');
        if (e instanceof ShortWatch) logger.warn({ ...logFields, retryInMs: delay, failures }, e.message);
        else logger.warn({ ...logFields, err: e, retryInMs: delay, failures }, 'watch failed; retrying');
        await this.sleep(delay);
      }
    }
  }

  private restarted(reason: 'error' | 'gone' | 'quiet'): void {
    this.restarts++;
    this.options.onRestart?.(reason);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.clock.setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { this.clock.clearTimeout(handle); this.wake = undefined; resolve(); };
    });
  }

  private async relist(): Promise<void> {
    const { feed, cache, onChange } = this.options;
    const seen = new Set<string>();
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await feed.list({ limit: this.options.listPageSize ?? 500, ...(cont ? { continue: cont } : {}) });
      for (const csr of page.items) {
        seen.add(objectKey(csr));
        cache.set(csr);
      }
      resourceVersion = page.resourceVersion;
      cont = page.continue;
    } while (cont);
    for (const name of this.names) {
      if (seen.has(name)) continue;
      cache.delete(name);
      this.options.onDelete?.(name);
    }
    this.names.clear();
    for (const name of seen) {
      this.names.add(name);
      onChange(name);
    }
    this.resourceVersion = resourceVersion;
    this.synced = true;
    this.lastActivity = this.clock.now();
    this.options.logger.debug({ ...this.options.logFields, count: seen.size, resourceVersion }, 'listed');
  }

  /**
   * Since when silence counts against the watch: the later of its last activity and the end
   * the open watch asked the server for. Quiet (restarted, and not ready) `quietTimeoutMs` after.
   */
  get quietSince(): number {
    return Math.max(this.lastActivity, this.watchEnds ?? -Infinity);
  }

  /**
   * Since when silence counts for readiness: quietSince, except while watches keep failing
   * (each one ended at once, or with an error, and the one now open, if any, is younger than
   * a second). Each attempt asks for a new end, so quietSince alone would stay ahead of a
   * server that ends every watch at once, and /readyz green; counted from the last real
   * activity instead, such a run turns it red after the quiet timeout, and it stays red.
   */
  get readySince(): number {
    const established = this.openedAt !== undefined && this.clock.now() - this.openedAt >= SHORT_WATCH_MS;
    return this.failing && !established ? this.lastActivity : this.quietSince;
  }

  private async watchOnce(from: string): Promise<void> {
    const controller = new AbortController();
    this.current = controller;
    const timeout = Math.round(MIN_WATCH_TIMEOUT_S * (1 + this.random()));
    const opened = this.clock.now();
    this.openedAt = opened;
    this.watchEnds = opened + timeout * 1000;
    let events = 0;
    const period = Math.max(50, Math.floor(this.options.quietTimeoutMs / 4));
    let watchdog: unknown;
    const check = (): void => {
      if (this.clock.now() - this.quietSince >= this.options.quietTimeoutMs) {
        this.quiet = true;
        controller.abort();
        return;
      }
      watchdog = this.clock.setTimeout(check, period);
    };
    watchdog = this.clock.setTimeout(check, period);
    try {
      await this.options.feed.watch(from, timeout, (e) => { events++; this.onEvent(e); }, controller.signal);
      if (this.quiet) throw new Error('watch went quiet');
      const lasted = this.clock.now() - opened;
      if (lasted < SHORT_WATCH_MS && events === 0) {
        throw new ShortWatch(`very short watch: the server ended it after ${lasted} ms with no events; retrying after a backoff`);
      }
      // The server ended the watch, as asked: it is alive, and a new watch starts at once.
      this.lastActivity = this.clock.now();
      this.failing = false;
      this.options.logger.debug({ ...this.options.logFields, timeoutSeconds: timeout }, 'watch ended by the server; watching again');
    } finally {
      this.clock.clearTimeout(watchdog);
      if (this.clock.now() - opened >= SHORT_WATCH_MS) {
        this.established = true;
        this.failing = false;
      }
      this.watchEnds = undefined;
      this.openedAt = undefined;
      this.current = undefined;
    }
  }

  private onEvent(e: WatchEvent<T>): void {
    this.lastActivity = this.clock.now();
    this.failing = false;
    if (e.type !== 'ERROR') this.gones = 0;
    const { cache, onChange } = this.options;
    switch (e.type) {
      case 'BOOKMARK':
        if (e.resourceVersion) this.resourceVersion = e.resourceVersion;
        return;
      case 'ERROR':
        if (e.status.code === 410) throw new Gone(e.status.message ?? 'Gone');
        throw new KubeApiError(e.status.code ?? 500, e.status.reason ?? 'WatchError', e.status.message ?? 'watch error', undefined);
      case 'DELETED':
        this.resourceVersion = e.object.metadata.resourceVersion ?? this.resourceVersion;
        this.names.delete(objectKey(e.object));
        cache.delete(objectKey(e.object));
        this.options.onDelete?.(objectKey(e.object));
        return;
      case 'ADDED':
      case 'MODIFIED':
        this.resourceVersion = e.object.metadata.resourceVersion ?? this.resourceVersion;
        this.names.add(objectKey(e.object));
        cache.set(e.object);
        onChange(objectKey(e.object));
        return;
    }
  }
}
