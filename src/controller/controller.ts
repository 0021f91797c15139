/**
 * The loop: one source (list + watch) per signerName feeding one keyed queue,
 * `workers` reconciling in parallel. It never signs itself.
 */
import type { Logger } from 'pino';
import type { RequestLimits } from '../pki/index.js';
import type { SignerConfig } from '../signer/types.js';
import type { CsrApi } from '../kube/csr-api.js';
import { CsrCache } from './csr-cache.js';
import { CsrSource } from './csr-source.js';
import { KubeApiError } from '../kube/http.js';
import { noopObserver, type Observer } from '../telemetry/observer.js';
import { runWorkers, WorkQueue, type Clock } from './queue.js';
import { Reconciler, StaleObject, type CaLookup } from './reconciler.js';
import type { RotationRecord } from '../trust/rotation-record.js';

export interface ControllerOptions {
  readonly signers: readonly SignerConfig[];
  readonly ca: CaLookup;
  readonly api: CsrApi;
  readonly logger: Logger;
  readonly workers: number;
  readonly retry: { readonly baseDelayMs: number; readonly maxDelayMs: number; readonly qps: number; readonly burst: number };
  readonly watchQuietTimeoutMs: number;
  readonly limits: RequestLimits;
  readonly events: boolean;
  readonly observer?: Observer;
  readonly record?: RotationRecord;
  readonly clock?: Clock;
  readonly now?: () => Date;
}

export class Controller {
  readonly cache = new CsrCache();
  readonly queue: WorkQueue;
  readonly sources: ReadonlyMap<string, CsrSource>;
  private readonly reconciler: Reconciler;
  private readonly observer: Observer;
  private workers: Promise<void> | undefined;

  constructor(private readonly options: ControllerOptions) {
    this.observer = options.observer ?? noopObserver;
    this.queue = new WorkQueue({ ...options.retry, ...(options.clock ? { clock: options.clock } : {}) });
    this.reconciler = new Reconciler({
      signers: new Map(options.signers.map((s) => [s.name, s])),
      ca: options.ca,
      api: options.api,
      cache: this.cache,
      logger: options.logger,
      limits: options.limits,
      events: options.events,
      observer: this.observer,
      ...(options.record ? { record: options.record } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.sources = new Map(options.signers.map((s) => [s.name, new CsrSource({
      signerName: s.name,
      api: options.api,
      cache: this.cache,
      logger: options.logger,
      onChange: (name) => this.queue.add(name),
      quietTimeoutMs: options.watchQuietTimeoutMs,
      onRestart: (reason) => this.observer.watchRestarted(s.name, reason),
      ...(options.clock ? { clock: options.clock } : {}),
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

  /** Stops watching and taking work; waits for signings in flight to finish their writes. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
    await this.workers;
  }

  private async handle(key: string): Promise<void> {
    try {
      await this.reconciler.reconcile(key);
      this.queue.forget(key);
    } catch (e) {
      const signer = this.cache.get(key)?.spec.signerName;
      if (e instanceof StaleObject) {
        this.options.logger.debug({ csr: key, signer }, 'changed while signing; deciding again');
        this.queue.add(key);
        return;
      }
      const retryAfter = e instanceof KubeApiError ? e.retryAfterMs ?? 0 : 0;
      const delay = this.queue.addRateLimited(key, retryAfter);
      this.observer.retried(signer);
      this.options.logger.warn({
        csr: key, signer, err: (e as Error).message, code: (e as { code?: unknown }).code, retries: this.queue.retries(key), retryInMs: delay,
      }, 'will retry');
    }
  }
}
