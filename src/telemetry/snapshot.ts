/**
 * What the sidecar reports, as plain data the composition root assembles from the
 * running parts at each request. The HTTP app and the metrics read only this (and
 * the Observer events), so they are tested with hand-made snapshots.
 */
import type { Csr, PodCertificateRequest } from '../kube/objects.js';
import type { CaCertificate } from '../pki/index.js';
import { approvedAt, hasCertificate, isApproved, isFailed } from '../signer/conditions.js';
import { isTerminal } from '../signer/pod-certificate-delivery.js';
import type { CaIssuance } from '../trust/rotation-record.js';
import { fingerprint } from '../trust/rotation-record.js';
import { rotationStatus, type RotationPhase } from '../trust/rotation-plan.js';

export interface SignerState {
  readonly name: string;
  /**
   * The CA in use; undefined when none could be loaded. `podCertificateChainTooLong`: for a
   * signer with podCertificates whose intermediates alone are more than a PodCertificateRequest's
   * chain may hold, the sentence that says so (with the size).
   */
  readonly ca?: { readonly subject: string; readonly notAfter: Date; readonly podCertificateChainTooLong?: string };
  /** Why the last load or reload failed, if it did (the previous CA, if any, stays in use). */
  readonly caError?: string;
  /** For a CA key on a PKCS#11 token: `problem` says why the token does not answer now (requests wait). Absent for a key file. */
  readonly keyProvider?: { readonly problem?: string };
  /** The watch has completed its first list. False on a replica that is not leading (it does not watch). */
  readonly watchSynced: boolean;
  /** Milliseconds since the watch last delivered a list, an event or a bookmark, or was ended by the server; undefined before the first. */
  readonly sinceWatchActivityMs?: number;
  /**
   * Milliseconds the watch has been silent beyond what is normal: since the later of its last
   * activity and the end its open watch asked the server for (negative while that end is ahead);
   * while watches keep failing at once, since its last activity (ListWatch.readySince).
   */
  readonly watchQuietMs?: number;
  /** Approved CSRs of this signer not yet issued or failed, and the age of the oldest approval, in seconds. */
  readonly approvedPending: number;
  readonly approvedPendingOldestSeconds: number;
  /** How many CA certificates its trust bundle holds (0 while it has no CA). */
  readonly trustedCas?: number;
  /** Per CA (by SHA-256 fingerprint) the latest NotAfter issued for this signer, as far as it is known. */
  readonly lastIssued?: readonly { readonly ca: string; readonly notAfter: Date }[];
  /** Where a CA rotation stands (src/trust/rotation-plan.ts); absent while no CA is loaded. */
  readonly rotationPhase?: RotationPhase;
  /**
   * A signer with podCertificates: its PodCertificateRequests not yet terminal, and the age
   * of the oldest in seconds (from its creationTimestamp); absent for a signer without.
   */
  readonly podCertificatesPending?: number;
  readonly podCertificatesOldestPendingSeconds?: number;
}

/**
 * The watch of a controller other than the signer (the approver's, per signerName; the
 * cleaner's), as readiness judges a signer's watch. `name`: `approver:<signerName>` or `cleaner`.
 */
export interface WatchState {
  readonly name: string;
  readonly watchSynced: boolean;
  readonly sinceWatchActivityMs?: number;
  readonly watchQuietMs?: number;
}

/** A running ListWatch, as far as readiness reads it. */
export interface WatchSource {
  readonly synced: boolean;
  readonly lastActivity: number;
  readonly readySince: number;
}

/** The state of one named watch at `now`. */
export function watchState(name: string, now: Date, watch: WatchSource | undefined): WatchState {
  return {
    name,
    watchSynced: watch?.synced ?? false,
    ...(watch?.synced ? { sinceWatchActivityMs: now.getTime() - watch.lastActivity, watchQuietMs: now.getTime() - watch.readySince } : {}),
  };
}

export interface LeaderState {
  readonly enabled: boolean;
  readonly leading: boolean;
  /** Milliseconds since the lease was last acquired or renewed by us; undefined when not leading. */
  readonly sinceRenewMs?: number;
  readonly renewDeadlineMs: number;
  readonly identity: string;
  /** Why this replica cannot use the Lease (a permission or namespace missing); absent while it can. */
  readonly leaseError?: string;
}

export interface Snapshot {
  readonly now: Date;
  readonly signers: readonly SignerState[];
  /** The approver's and the cleaner's watches, when they run (they run while this replica leads). */
  readonly watches?: readonly WatchState[];
  readonly leader: LeaderState;
  /** A watch silent longer than this is not healthy (the controller restarts it). */
  readonly watchQuietTimeoutMs: number;
  readonly queueDepth: number;
  /** Why discovery has not learnt yet which PodCertificateRequest versions the cluster serves, while it retries at start. */
  readonly podCertificateApiError?: string;
  /** Shutting down: not ready any more. */
  readonly stopping: boolean;
}

/** What the running parts know, read at one instant, for `signerStates`. */
export interface SignerSources {
  readonly now: Date;
  readonly signers: readonly string[];
  /** The CSRs the signing controller holds (none while this replica does not lead). */
  readonly csrs: Iterable<Csr>;
  readonly ca: (signer: string) => {
    readonly ca?: { readonly subject: string; readonly notAfter: Date; readonly podCertificateChainTooLong?: string };
    readonly error?: string;
    readonly keyProvider?: { readonly problem?: string };
  };
  readonly trust: (signer: string) => readonly CaCertificate[];
  /** The rotation record: per CA fingerprint, the latest certificate issued. */
  readonly latest: ReadonlyMap<string, CaIssuance>;
  /** The signer's watch, while one runs. */
  readonly watch: (signer: string) => WatchSource | undefined;
  /** The signers with podCertificates (default none). */
  readonly podCertificateSigners?: readonly string[];
  /** The PodCertificateRequests the pod-certificate controller holds (none while this replica does not lead). */
  readonly pcrs?: Iterable<PodCertificateRequest>;
}

/** Per signer: approved CSRs still waiting (and the oldest approval's age), from the controller's cache. */
export function approvedPending(csrs: Iterable<Csr>, now: Date): Map<string, { count: number; oldestSeconds: number }> {
  const pending = new Map<string, { count: number; oldestSeconds: number }>();
  for (const csr of csrs) {
    if (!isApproved(csr) || isFailed(csr) || hasCertificate(csr)) continue;
    const at = approvedAt(csr);
    const p = pending.get(csr.spec.signerName) ?? { count: 0, oldestSeconds: 0 };
    p.count++;
    if (at !== undefined) p.oldestSeconds = Math.max(p.oldestSeconds, (now.getTime() - at) / 1000);
    pending.set(csr.spec.signerName, p);
  }
  return pending;
}

/** Per signer: PodCertificateRequests not yet terminal, and the age of the oldest, from the controller's cache. */
export function podCertificatesPending(pcrs: Iterable<PodCertificateRequest>, now: Date): Map<string, { count: number; oldestSeconds: number }> {
  const pending = new Map<string, { count: number; oldestSeconds: number }>();
  for (const pcr of pcrs) {
    if (isTerminal(pcr)) continue;
    const p = pending.get(pcr.spec.signerName) ?? { count: 0, oldestSeconds: 0 };
    p.count++;
    const created = Date.parse(pcr.metadata.creationTimestamp ?? '');
    if (!Number.isNaN(created)) p.oldestSeconds = Math.max(p.oldestSeconds, (now.getTime() - created) / 1000);
    pending.set(pcr.spec.signerName, p);
  }
  return pending;
}

export function signerStates(sources: SignerSources): SignerState[] {
  const { now } = sources;
  const pending = approvedPending(sources.csrs, now);
  const pods = new Set(sources.podCertificateSigners ?? []);
  const pcrsPending = podCertificatesPending(sources.pcrs ?? [], now);
  return sources.signers.map((name) => {
    const { ca, error, keyProvider } = sources.ca(name);
    const trust = sources.trust(name);
    const issued = [...sources.latest].filter(([, e]) => e.signer === name);
    const { watchSynced, sinceWatchActivityMs, watchQuietMs } = watchState(name, now, sources.watch(name));
    return {
      name,
      ...(ca ? { ca } : {}),
      ...(error ? { caError: error } : {}),
      ...(keyProvider ? { keyProvider } : {}),
      watchSynced,
      ...(sinceWatchActivityMs === undefined ? {} : { sinceWatchActivityMs }),
      ...(watchQuietMs === undefined ? {} : { watchQuietMs }),
      approvedPending: pending.get(name)?.count ?? 0,
      approvedPendingOldestSeconds: pending.get(name)?.oldestSeconds ?? 0,
      trustedCas: trust.length,
      lastIssued: issued.map(([ca, e]) => ({ ca, notAfter: e.notAfter })),
      ...(pods.has(name) ? {
        podCertificatesPending: pcrsPending.get(name)?.count ?? 0,
        podCertificatesOldestPendingSeconds: pcrsPending.get(name)?.oldestSeconds ?? 0,
      } : {}),
      ...(trust.length === 0 ? {} : { rotationPhase: rotationStatus(name, trust, new Map(issued.map(([ca, e]) => [ca, e.notAfter])), now, fingerprint).phase }),
    };
  });
}
