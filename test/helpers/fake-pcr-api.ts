/**
 * An in-process PodCertificateRequestApi for the pod-certificate controller's unit tests:
 * a thin adapter over one FakeResource of requests keyed namespace/name (resourceVersions,
 * history-fed watches by signerName across namespaces, 409 on a stale /status write, 404,
 * paging, faults before or after the call is carried out). Adds what only these requests
 * have: the status is frozen once terminal (422, as kube-apiserver's status validation),
 * the version served (v1 hides pkixPublicKey and proofOfPossession; getLegacy shows them
 * while v1beta1 is served), Events. Also FakePodFacts, the Pod and Namespace reads.
 * Records every status write and Event.
 */
import { FakeFaults, FakeResource, injected } from './fake-resource.js';
import { KubeApiError } from '../../src/kube/http.js';
import type { Namespace, Pod, PodCertificateRequest } from '../../src/kube/objects.js';
import type { PodCertificateEvent, PodCertificateRequestApi, PodCertificateRequestVersion } from '../../src/kube/pcr-api.js';
import type { PodFactsApi } from '../../src/kube/pod-api.js';
import type { ListPage, WatchEvent } from '../../src/kube/resource.js';

export type PcrMethod = 'list' | 'watch' | 'get' | 'getLegacy' | 'updateStatus' | 'createEvent';

const TERMINAL = ['Issued', 'Denied', 'Failed'];
const terminal = (pcr: PodCertificateRequest): boolean =>
  (pcr.status?.certificateChain ?? '') !== '' || (pcr.status?.conditions ?? []).some((c) => TERMINAL.includes(c.type));

export class FakePcrApi implements PodCertificateRequestApi {
  readonly resource = new FakeResource<PodCertificateRequest>('podcertificaterequests', undefined, (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  readonly faults = new FakeFaults<PcrMethod>();
  readonly statusWrites: PodCertificateRequest[] = [];
  readonly events: PodCertificateEvent[] = [];

  /** While true, open watches deliver nothing: a watch lagging behind the writes. */
  lagging = false;

  /** Whether the cluster serves v1beta1 now (getLegacy answers 404 while not); `legacyServed` is what discovery last found. */
  servesLegacy: boolean;
  /** How many times rediscoverLegacy was called. */
  rediscoveries = 0;

  constructor(readonly version: PodCertificateRequestVersion = 'v1', public legacyServed = true) {
    this.servesLegacy = legacyServed;
  }

  /** Discovery again: learns `servesLegacy` (the real one is bounded to once a minute; this one answers at once). */
  rediscoverLegacy(): Promise<boolean> {
    this.rediscoveries++;
    this.legacyServed = this.version === 'v1beta1' || this.servesLegacy;
    return Promise.resolve(this.legacyServed);
  }

  /** The stored requests by namespace/name, with every field (as etcd holds them). */
  get objects(): Map<string, PodCertificateRequest> {
    return this.resource.objects;
  }

  get openWatches(): number {
    return this.resource.openWatches;
  }

  /** Creates or replaces a request as a kubelet would (not through /status); a uid and a creationTimestamp if it has none. */
  put(pcr: PodCertificateRequest): PodCertificateRequest {
    return this.resource.put({
      ...pcr,
      metadata: { ...pcr.metadata, uid: pcr.metadata.uid ?? `uid-${pcr.metadata.name}`, creationTimestamp: pcr.metadata.creationTimestamp ?? new Date().toISOString() },
    });
  }

  remove(namespace: string, name: string): void {
    this.resource.remove(`${namespace}/${name}`);
  }

  /** What a client of `version` sees: v1 drops the legacy key fields. */
  private view(pcr: PodCertificateRequest): PodCertificateRequest {
    const copy = structuredClone(pcr);
    if (this.version === 'v1') {
      const spec: Record<string, unknown> = copy.spec;
      delete spec.pkixPublicKey;
      delete spec.proofOfPossession;
    }
    return copy;
  }

  list(signerName: string, options: { limit: number; continue?: string }): Promise<ListPage<PodCertificateRequest>> {
    return this.faults.serve('list', () => {
      const page = this.resource.list(options, (p) => p.spec.signerName === signerName);
      return { ...page, items: page.items.map((p) => this.view(p)) };
    });
  }

  watch(signerName: string, resourceVersion: string, _timeout: number, onEvent: (e: WatchEvent<PodCertificateRequest>) => void, signal: AbortSignal): Promise<void> {
    const fault = this.faults.enter('watch');
    if (fault) return Promise.reject(fault);
    return this.resource.watch(resourceVersion, (e) => {
      if (!this.lagging) onEvent('object' in e ? { ...e, object: this.view(e.object) } : e);
    }, signal, (p) => p.spec.signerName === signerName);
  }

  get(namespace: string, name: string): Promise<PodCertificateRequest> {
    return this.faults.serve('get', () => this.view(this.resource.get(`${namespace}/${name}`)));
  }

  getLegacy(namespace: string, name: string): Promise<PodCertificateRequest> {
    return this.faults.serve('getLegacy', () => {
      if (!this.servesLegacy) throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', undefined);
      return structuredClone(this.resource.get(`${namespace}/${name}`));
    });
  }

  /** As kube-apiserver's status strategy: only status is taken from the body, and a terminal status is frozen. */
  updateStatus(pcr: PodCertificateRequest): Promise<PodCertificateRequest> {
    return this.faults.serve('updateStatus', () => this.view(this.resource.update(pcr, {
      check: (current) => terminal(current) && JSON.stringify(current.status) !== JSON.stringify(pcr.status)
        ? new KubeApiError(422, 'Invalid', 'status: Invalid value: immutable after PodCertificateRequest is issued, denied, or failed', undefined)
        : undefined,
      apply: (current) => {
        this.statusWrites.push(structuredClone(pcr));
        return { ...current, status: pcr.status ?? {} };
      },
    })));
  }

  createEvent(event: PodCertificateEvent): Promise<void> {
    return this.faults.serve('createEvent', () => {
      this.events.push(event);
    });
  }
}

/** Pods and Namespaces by name; a missing one is null. Scripted faults; counts the reads. */
export class FakePodFacts implements PodFactsApi {
  readonly pods = new Map<string, Pod>();
  readonly namespaces = new Map<string, Namespace>();
  readonly faults = new FakeFaults<'getPod' | 'getNamespace'>();

  getPod(namespace: string, name: string): Promise<Pod | null> {
    return this.faults.serve('getPod', () => structuredClone(this.pods.get(`${namespace}/${name}`) ?? null));
  }

  getNamespace(name: string): Promise<Namespace | null> {
    return this.faults.serve('getNamespace', () => structuredClone(this.namespaces.get(name) ?? null));
  }
}

export { injected };
