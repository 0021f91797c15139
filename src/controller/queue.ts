/**
 * A keyed work queue with client-go's semantics: a key is queued at most once,
 * a key being processed is never handed to a second worker (a re-add while it
 * runs queues it again when it is done), and retries wait for the longer of a
 * per-key exponential backoff and a global token bucket.
 */
import { systemClock, type Clock } from '../clock.js';

/**
 * The longest timer Node keeps: a longer one (or a non-finite one) fires after 1 ms, with a
 * TimeoutOverflowWarning, which for a queue means a hot loop. Longer delays are cut to it: the key
 * is looked at then, and its reconcile asks again for what is left.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface QueueOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly qps: number;
  readonly burst: number;
  readonly clock?: Clock;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly clock: Clock;
  private tokens: number;
  private tokensAt: number;
  private closed = false;

  constructor(private readonly options: QueueOptions) {
    this.clock = options.clock ?? systemClock;
    this.tokens = options.burst;
    this.tokensAt = this.clock.now();
  }

  /** Keys waiting for a worker (not counting delayed retries). */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Keys waiting for a retry delay to pass. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  add(key: string): void {
    if (this.closed) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queued.add(key);
    this.queue.push(key);
  }

  /** Adds the key once `ms` (at most MAX_TIMER_MS) have passed; an earlier pending add of the same key wins. */
  addAfter(key: string, requested: number): void {
    if (this.closed) return;
    if (!(requested > 0)) return this.add(key);
    const ms = Math.min(requested, MAX_TIMER_MS);
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Retries the key later, after at least `minDelayMs` (a server's Retry-After); returns the delay chosen. */
  addRateLimited(key: string, minDelayMs = 0): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const backoff = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** n);
    const delay = Math.max(backoff, this.reserveToken(), minDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** How many times the key has been retried since it last succeeded. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The key succeeded (or will never be retried): reset its backoff. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key to work on; undefined once the queue is shut down (queued keys are dropped: the next leader relists). */
  get(): Promise<string | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++] as string;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker finished the key; a re-add that came meanwhile queues it again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Stops handing out keys; pending get() calls resolve to undefined. */
  shutDown(): void {
    this.closed = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /** The global bucket (qps, burst): the wait before one more retry may start. */
  private reserveToken(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.options.qps);
    this.tokensAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.options.qps) * 1000);
  }
}

/** Runs `workers` loops taking keys from the queue until it shuts down. */
export async function runWorkers(queue: WorkQueue, workers: number, handle: (key: string) => Promise<void>): Promise<void> {
  const loop = async (): Promise<void> => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      try {
        await handle(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}
