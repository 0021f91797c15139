/**
 * What the sidecar reports, as plain data the composition root assembles from the
 * running parts at each request. The HTTP app and the metrics read only this (and
 * the Observer events), so they are tested with hand-made snapshots.
 */
import type { RotationPhase } from '../trust/rotation-plan.js';

export interface SignerState {
  readonly name: string;
  /** The CA in use; undefined when none could be loaded. */
  readonly ca?: { readonly subject: string; readonly notAfter: Date };
  /** Why the last load or reload failed, if it did (the previous CA, if any, stays in use). */
  readonly caError?: string;
  /** The watch has completed its first list. False on a replica that is not leading (it does not watch). */
  readonly watchSynced: boolean;
  /** Milliseconds since the watch last delivered a list, an event or a bookmark; undefined before the first. */
  readonly sinceWatchActivityMs?: number;
  /** Approved CSRs of this signer not yet issued or failed, and the age of the oldest approval, in seconds. */
  readonly approvedPending: number;
  readonly approvedPendingOldestSeconds: number;
  /** How many CA certificates its trust bundle holds (0 while it has no CA). */
  readonly trustedCas?: number;
  /** Per CA (by SHA-256 fingerprint) the latest NotAfter issued for this signer, as far as it is known. */
  readonly lastIssued?: readonly { readonly ca: string; readonly notAfter: Date }[];
  /** Where a CA rotation stands (src/trust/rotation-plan.ts); absent while no CA is loaded. */
  readonly rotationPhase?: RotationPhase;
}

export interface LeaderState {
  readonly enabled: boolean;
  readonly leading: boolean;
  /** Milliseconds since the lease was last acquired or renewed by us; undefined when not leading. */
  readonly sinceRenewMs?: number;
  readonly renewDeadlineMs: number;
  readonly identity: string;
}

export interface Snapshot {
  readonly now: Date;
  readonly signers: readonly SignerState[];
  readonly leader: LeaderState;
  /** A watch silent longer than this is not healthy (the controller restarts it). */
  readonly watchQuietTimeoutMs: number;
  readonly queueDepth: number;
  /** Shutting down: not ready any more. */
  readonly stopping: boolean;
}
