/**
 * An in-process CsrApi for the controller's unit tests: a thin adapter over one
 * FakeResource of CSRs (resourceVersions, history-fed watches by signerName, 409 on
 * a stale /status write, deletes with preconditions, 404, paging, faults before or
 * after the call is carried out). Adds what
 * only CSRs have: /status may not change an issued certificate (422), and Events.
 * Records every write and delete.
 */
import { FakeFaults, FakeResource, injected } from './fake-resource.js';
import { until } from './wait.js';
import type { CsrApi, CsrList, KubeEvent } from '../../src/kube/csr-api.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { Preconditions, WatchEvent } from '../../src/kube/resource.js';
import type { Csr } from '../../src/signer/types.js';

type Method = 'list' | 'watch' | 'get' | 'updateStatus' | 'updateApproval' | 'delete' | 'createEvent';

/** `signerName` undefined selects every CSR, as a list or watch without a field selector does. */
const selects = (signerName: string | undefined) => (csr: Csr): boolean => signerName === undefined || csr.spec.signerName === signerName;

export class FakeCsrApi implements CsrApi {
  readonly resource = new FakeResource<Csr>('certificatesigningrequests');
  private readonly faults = new FakeFaults<Method>();
  readonly statusWrites: Csr[] = [];
  readonly approvalWrites: Csr[] = [];
  readonly events: KubeEvent[] = [];
  readonly deletes: string[] = [];

  /** The stored CSRs by name. */
  get objects(): Map<string, Csr> {
    return this.resource.objects;
  }

  get calls(): Method[] {
    return this.faults.calls;
  }

  /** History before this resourceVersion is gone (410). */
  get compactedBefore(): number {
    return this.resource.compactedBefore;
  }

  set compactedBefore(rv: number) {
    this.resource.compactedBefore = rv;
  }

  /** The timeoutSeconds each watch asked for, in order (the fake never ends a watch on it). */
  readonly watchTimeouts: number[] = [];

  /** When true, new watches stay silent (no events, no end). */
  get silent(): boolean {
    return this.resource.silent;
  }

  set silent(on: boolean) {
    this.resource.silent = on;
  }

  get openWatches(): number {
    return this.resource.openWatches;
  }

  /** Creates or replaces an object as a user would (not through /status). */
  put(csr: Csr): Csr {
    return this.resource.put({ ...csr, metadata: { ...csr.metadata, uid: csr.metadata.uid ?? `uid-${csr.metadata.name}` } });
  }

  remove(name: string): void {
    this.resource.remove(name);
  }

  /** The next call of `method` throws `error`. */
  failNext(method: Method, error: Error = injected()): void {
    this.faults.failNext(method, error);
  }

  /** The next call of `method` is carried out, then throws `error` (its reply lost). */
  failAfterNext(method: Method, error: Error = injected()): void {
    this.faults.failAfterNext(method, error);
  }

  /** Ends every open watch as a server would (cleanly, or with an error). */
  closeWatches(error?: Error): void {
    this.resource.closeWatches(error);
  }

  list(signerName: string | undefined, options: { limit: number; continue?: string }): Promise<CsrList> {
    return this.faults.serve('list', () => this.resource.list(options, selects(signerName)));
  }

  watch(signerName: string | undefined, resourceVersion: string, timeout: number, onEvent: (e: WatchEvent<Csr>) => void, signal: AbortSignal): Promise<void> {
    this.watchTimeouts.push(timeout);
    const fault = this.faults.enter('watch');
    if (fault) return Promise.reject(fault);
    return this.resource.watch(resourceVersion, onEvent, signal, selects(signerName));
  }

  get(name: string): Promise<Csr> {
    return this.faults.serve('get', () => structuredClone(this.resource.get(name)));
  }

  updateStatus(csr: Csr): Promise<Csr> {
    return this.faults.serve('updateStatus', () => structuredClone(this.resource.update(csr, {
      check: (current) => current.status?.certificate && csr.status?.certificate !== current.status.certificate
        ? new KubeApiError(422, 'Invalid', 'status.certificate: Forbidden: updates may not modify existing certificate content', undefined)
        : undefined,
      apply: (current) => {
        this.statusWrites.push(structuredClone(csr));
        return { ...current, status: csr.status ?? {} };
      },
    })));
  }

  /**
   * As kube-apiserver's approval strategy: only status.conditions of the body are kept
   * (spec and certificate stay), and Approved and Denied may not both be there (422).
   */
  updateApproval(csr: Csr): Promise<Csr> {
    return this.faults.serve('updateApproval', () => structuredClone(this.resource.update(csr, {
      check: () => {
        const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
        return types.has('Approved') && types.has('Denied')
          ? new KubeApiError(422, 'Invalid', 'status.conditions: Invalid value: Approved and Denied conditions are mutually exclusive', undefined)
          : undefined;
      },
      apply: (current) => {
        this.approvalWrites.push(structuredClone(csr));
        return { ...current, status: { ...current.status, conditions: csr.status?.conditions ?? [] } };
      },
    })));
  }

  delete(name: string, preconditions: Preconditions): Promise<void> {
    return this.faults.serve('delete', () => {
      this.resource.delete(name, preconditions);
      this.deletes.push(name);
    });
  }

  createEvent(event: KubeEvent): Promise<void> {
    return this.faults.serve('createEvent', () => {
      this.events.push(event);
    });
  }
}

/**
 * A FakeCsrApi for the race of a delete with a write path: `raceNextGet` makes the next get
 * read the CSR, delete it and answer only once the watch delivered the DELETED event (as a
 * slow GET answered after the event would); while `lagging`, open watches deliver nothing.
 */
export class RacingCsrApi extends FakeCsrApi {
  deletedDelivered = 0;
  raceNextGet = false;
  lagging = false;

  override watch(signerName: string | undefined, resourceVersion: string, timeout: number, onEvent: (e: WatchEvent<Csr>) => void, signal: AbortSignal): Promise<void> {
    return super.watch(signerName, resourceVersion, timeout, (e) => {
      if (this.lagging) return;
      onEvent(e);
      if (e.type === 'DELETED') this.deletedDelivered++;
    }, signal);
  }

  override async get(name: string): Promise<Csr> {
    if (!this.raceNextGet) return super.get(name);
    this.raceNextGet = false;
    const answer = await super.get(name);
    this.remove(name);
    await until(() => this.deletedDelivered > 0);
    return answer;
  }
}
