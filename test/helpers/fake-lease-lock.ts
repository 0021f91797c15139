/**
 * An in-memory Lease with the API server's compare-and-swap: a store shared by
 * any number of locks (one per replica). A lock can fail its calls (a replica
 * cut off from the API) or hold them until the test lets each one through, so
 * a test decides the order in which concurrent requests reach the "server".
 * A held call goes in two steps, as a request does: it reaches the server (its
 * effect happens), then its answer reaches the caller; either can be delayed.
 */
import { KubeApiError } from '../../src/kube/http.js';
import type { LeaseLock, LeaseRecord, VersionedLeaseRecord } from '../../src/leader/lease-lock.js';

export class FakeLeaseStore {
  record: VersionedLeaseRecord | undefined;
  /** Every successful write, in order, with the writer's name. */
  readonly writes: { by: string; record: VersionedLeaseRecord }[] = [];
  private version = 0;

  lock(name: string): FakeLeaseLock {
    return new FakeLeaseLock(this, name);
  }

  /**
   * Stores `record` as a new version, as an accepted POST or PUT would. A PUT
   * that changes nothing keeps the version and is no write, as on the API
   * server (its update path skips the storage write when the object is equal).
   */
  put(by: string, record: LeaseRecord): VersionedLeaseRecord {
    const last = this.record;
    if (last && sameRecord(last, record)) return last;
    const stored = { ...record, resourceVersion: String(++this.version) };
    this.record = stored;
    this.writes.push({ by, record: stored });
    return stored;
  }
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return a.holderIdentity === b.holderIdentity && a.leaseDurationSeconds === b.leaseDurationSeconds
    && a.acquireTime === b.acquireTime && a.renewTime === b.renewTime && a.leaseTransitions === b.leaseTransitions;
}

type Op = 'get' | 'create' | 'update';

interface Pending {
  readonly op: Op;
  /** 'request': not yet at the server; 'answer': done there, the caller has not heard. */
  stage: 'request' | 'answer';
  next: () => void;
}

const conflict = (message: string): KubeApiError => new KubeApiError(409, 'Conflict', `409 Conflict: ${message}`, undefined);

export class FakeLeaseLock implements LeaseLock {
  readonly description = 'test/lease';
  readonly lease = { namespace: 'test', name: 'lease' };
  readonly calls: Op[] = [];
  /** When set, every call that goes through (of `failOnly`, when given) rejects with it. */
  failWith: Error | undefined;
  /** The calls `failWith` applies to; undefined: all of them. */
  failOnly: readonly Op[] | undefined;
  /** When true, calls wait in `pending` until `step` or `release` lets them through. */
  hold = false;
  readonly pending: Pending[] = [];

  constructor(private readonly store: FakeLeaseStore, readonly name: string) {}

  get(): Promise<VersionedLeaseRecord | undefined> {
    return this.call('get', () => this.store.record);
  }

  create(record: LeaseRecord): Promise<VersionedLeaseRecord> {
    return this.call('create', () => {
      if (this.store.record) throw conflict('leases.coordination.k8s.io "lease" already exists');
      return this.store.put(this.name, record);
    });
  }

  update(record: LeaseRecord, resourceVersion: string): Promise<VersionedLeaseRecord> {
    return this.call('update', () => {
      if (this.store.record?.resourceVersion !== resourceVersion) throw conflict('the object has been modified');
      return this.store.put(this.name, record);
    });
  }

  /** Moves the i-th held call one step: to the server, or its answer back to the caller. */
  step(i = 0): void {
    const p = this.pending[i];
    if (!p) return;
    if (p.stage === 'answer') this.pending.splice(i, 1);
    p.next();
  }

  /** The i-th held call's whole round trip. */
  release(i = 0): void {
    const p = this.pending[i];
    if (!p) return;
    if (p.stage === 'request') this.step(i);
    this.step(this.pending.indexOf(p));
  }

  /** Lets every held call through, and stops holding. */
  releaseAll(): void {
    this.hold = false;
    while (this.pending.length > 0) this.release();
  }

  private call<T>(op: Op, effect: () => T): Promise<T> {
    this.calls.push(op);
    return new Promise<T>((resolve, reject) => {
      const answer = (): (() => void) => {
        if (this.failWith && (this.failOnly === undefined || this.failOnly.includes(op))) {
          const e = this.failWith;
          return () => reject(e);
        }
        try {
          const value = effect();
          return () => resolve(value);
        } catch (e) {
          return () => reject(e instanceof Error ? e : new Error(String(e)));
        }
      };
      if (!this.hold) return answer()();
      const pending: Pending = {
        op, stage: 'request',
        next: () => {
          const reply = answer();
          pending.stage = 'answer';
          pending.next = reply;
        },
      };
      this.pending.push(pending);
    });
  }
}
