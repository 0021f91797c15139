/**
 * The loop every controller runs: sources (list + watch) fill one cache and feed
 * one keyed queue; `workers` call the controller's reconcile function per key, in
 * parallel, never two at once for the same key. A reconcile that throws is retried
 * with backoff (per key, and a global token bucket); one that returns
 * `requeueAfterMs` is looked at again then. What a controller does with an object is
 * all in its reconcile function (src/reconcile/); the loop knows no kind.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { KubeApiError } from '../kube/http.js';
import { ListWatch, type Feed, type Listed } from '../kube/list-watch.js';
import { ObjectCache } from './cache.js';
import { runWorkers, WorkQueue } from './queue.js';

export interface RetryOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly qps: number;
  readonly burst: number;
}

/** One list+watch feeding the controller, e.g. the CSRs of one signerName. */
export interface Source<T extends Listed> {
  /** Names the source in logs and in `sources` (a signerName, say). */
  readonly name: string;
  readonly feed: Feed<T>;
  /** Fields on the source's log lines, e.g. `{ signer }`. */
  readonly logFields: Readonly<Record<string, string>>;
}

/** What a reconcile asks of the loop when it succeeds. */
export interface Reconciled {
  /** Look at the key again after this long (e.g. when an age will have passed). */
  readonly requeueAfterMs?: number;
}

export interface ControllerOptions<T extends Listed> {
  readonly sources: readonly Source<T>[];
  /** Where the sources keep the objects (default: a new one); the reconcile function reads it. */
  readonly cache?: ObjectCache<T>;
  /** The controller's work for one key; reads the object from `cache`. Throws to be retried. */
  readonly reconcile: (key: string, cache: ObjectCache<T>) => Promise<Reconciled | undefined>;
  readonly workers: number;
  readonly retry: RetryOptions;
  readonly watchQuietTimeoutMs: number;
  readonly logger: Logger;
  /** Log fields that name a key's object in a retry line (default `{ key }`), e.g. `{ csr, signer }`. */
  readonly describe?: (key: string, object: T | undefined) => Readonly<Record<string, unknown>>;
  /** An error that means "changed meanwhile: look again now", not a failure to back off from. */
  readonly isRetryNow?: (e: unknown) => boolean;
  /** A key goes back to the queue after an error. */
  readonly onRetry?: (key: string, object: T | undefined) => void;
  readonly onWatchRestart?: (source: string, reason: 'error' | 'gone' | 'quiet') => void;
  /** An object left the cache (deleted, or gone at a relist); it is not reconciled for that. */
  readonly onDelete?: (key: string) => void;
  /** Runs once stop() has ended the sources and the reconciles in flight: what the kind must finish before it lets go. */
  readonly onStopped?: () => Promise<void>;
  readonly clock?: Clock;
}

/**
 * Immediate retries ("changed meanwhile: look again now") of one key in a row before the next
 * one waits out the ordinary backoff, as client-go's retry.RetryOnConflict gives up after 5
 * (k8s.io/client-go/util/retry/util.go DefaultRetry: Steps 5).
 */
export const MAX_IMMEDIATE_RETRIES = 5;

export class Controller<T extends Listed> {
  readonly cache: ObjectCache<T>;
  readonly queue: WorkQueue;
  readonly sources: ReadonlyMap<string, ListWatch<T>>;
  private workers: Promise<void> | undefined;
  /** Per key: immediate retries in a row since its last success. */
  private readonly immediate = new Map<string, number>();

  constructor(private readonly options: ControllerOptions<T>) {
    this.cache = options.cache ?? new ObjectCache<T>();
    const clock = options.clock ? { clock: options.clock } : {};
    this.queue = new WorkQueue({ ...options.retry, ...clock });
    this.sources = new Map(options.sources.map((source) => [source.name, new ListWatch<T>({
      feed: source.feed,
      cache: this.cache,
      logFields: source.logFields,
      logger: options.logger,
      onChange: (name) => this.queue.add(name),
      ...(options.onDelete ? { onDelete: options.onDelete } : {}),
      quietTimeoutMs: options.watchQuietTimeoutMs,
      onRestart: (reason) => options.onWatchRestart?.(source.name, reason),
      ...clock,
    })]));
  }

  /** Every source has completed its first list. */
  get synced(): boolean {
    return [...this.sources.values()].every((s) => s.synced);
  }

  start(): void {
    for (const source of this.sources.values()) source.start();
    this.workers ??= runWorkers(this.queue, this.options.workers, (key) => this.handle(key));
  }

  /** Stops watching and taking work; waits for the reconciles in flight to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
    await this.workers;
    await this.options.onStopped?.();
  }

  private async handle(key: string): Promise<void> {
    const { options, queue } = this;
    try {
      const result = await options.reconcile(key, this.cache);
      queue.forget(key);
      this.immediate.delete(key);
      if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
    } catch (e) {
      const object = this.cache.get(key);
      const about = options.describe?.(key, object) ?? { key };
      if (options.isRetryNow?.(e)) {
        const n = this.immediate.get(key) ?? 0;
        if (n < MAX_IMMEDIATE_RETRIES) {
          this.immediate.set(key, n + 1);
          options.logger.debug({ ...about, err: e }, 'changed meanwhile; looking again');
          queue.add(key);
          return;
        }
        // Changed under us every time: back off like any failure (the count starts again after it).
        this.immediate.delete(key);
      }
      const retryAfter = e instanceof KubeApiError ? e.retryAfterMs ?? 0 : 0;
      const delay = queue.addRateLimited(key, retryAfter);
      options.onRetry?.(key, object);
      options.logger.warn({ ...about, err: e, retries: queue.retries(key), retryInMs: delay }, 'will retry');
    }
  }
}
