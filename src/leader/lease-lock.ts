/**
 * The leader-election record, kept in a `coordination.k8s.io/v1` Lease in the
 * shape client-go's LeaseLock writes (spec.holderIdentity, leaseDurationSeconds,
 * acquireTime, renewTime, leaseTransitions), so `kubectl get lease` shows the
 * holder and a Go replica could share the lock.
 *
 * Only GET, POST and PUT: the signer's Role may get/update the one named Lease
 * and create Leases, nothing else. Every PUT carries the resourceVersion its
 * caller read, so the API server's compare-and-swap decides races (409).
 */
import type { KubeHttp } from '../kube/http.js';
import { KubeApiError } from '../kube/http.js';

export interface LeaseRecord {
  /** Empty when nobody holds the lease (after a release). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** MicroTime strings as the server stores them; never used to decide anything. */
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly leaseTransitions: number;
}

/** A record as read from (or written to) the server, with the version a PUT must name. */
export interface VersionedLeaseRecord extends LeaseRecord {
  readonly resourceVersion: string;
}

export interface LeaseLock {
  /** `namespace/name`, for logs. */
  readonly description: string;
  /** Where the Lease is, for errors that name what is missing. */
  readonly lease: { readonly namespace: string; readonly name: string };
  /** The current record; undefined when the Lease does not exist. */
  get(): Promise<VersionedLeaseRecord | undefined>;
  /** Creates the Lease; a 409 means another replica created it first. */
  create(record: LeaseRecord): Promise<VersionedLeaseRecord>;
  /** Replaces the record if the Lease is still at `resourceVersion`; a 409 means someone wrote in between. */
  update(record: LeaseRecord, resourceVersion: string): Promise<VersionedLeaseRecord>;
}

/** A Lease as far as we read or write it; other fields we receive are sent back untouched. */
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
    [field: string]: unknown;
  };
}

/** Kubernetes MicroTime: RFC 3339 in UTC with exactly six fractional digits (2026-11-28T20:00:00.123456Z). */
export function formatMicroTime(ms: number): string {
  const wholeSeconds = Math.floor(ms / 1000);
  const micros = Math.min(999_999, Math.round((ms - wholeSeconds * 1000) * 1000));
  return `${new Date(wholeSeconds * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

function recordOf(lease: Lease): VersionedLeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime ?? undefined,
    renewTime: spec.renewTime ?? undefined,
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}

function specOf(record: LeaseRecord): NonNullable<Lease['spec']> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    ...(record.acquireTime === undefined ? {} : { acquireTime: record.acquireTime }),
    ...(record.renewTime === undefined ? {} : { renewTime: record.renewTime }),
    leaseTransitions: record.leaseTransitions,
  };
}

export function leaseLock(kube: KubeHttp, namespace: string, name: string): LeaseLock {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const item = `${collection}/${encodeURIComponent(name)}`;
  // The last Lease read or written, so a PUT keeps its labels, annotations and
  // spec fields we do not own (strategy, preferredHolder), as client-go does.
  let last: Lease | undefined;
  const remember = (lease: Lease): VersionedLeaseRecord => {
    last = lease;
    return recordOf(lease);
  };

  return {
    description: `${namespace}/${name}`,
    lease: { namespace, name },

    async get() {
      try {
        return remember(await kube.request<Lease>('GET', item));
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) return undefined;
        throw e;
      }
    },

    async create(record) {
      const body: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: specOf(record) };
      return remember(await kube.request<Lease>('POST', collection, { body }));
    },

    async update(record, resourceVersion) {
      const body: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { ...last?.metadata, name, namespace, resourceVersion },
        spec: { ...withoutOwnFields(last?.spec), ...specOf(record) },
      };
      return remember(await kube.request<Lease>('PUT', item, { body }));
    },
  };
}

/** The spec fields someone else may have set; ours are rewritten from the record each time. */
function withoutOwnFields(spec: Lease['spec']): Record<string, unknown> {
  const own = new Set(['holderIdentity', 'leaseDurationSeconds', 'acquireTime', 'renewTime', 'leaseTransitions']);
  return Object.fromEntries(Object.entries(spec ?? {}).filter(([field]) => !own.has(field)));
}
