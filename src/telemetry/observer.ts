/**
 * What the controller reports as it works. The metrics of the operations issue
 * implement it; tests record it; by default nobody listens.
 */
import type { KeyProviderOperation } from '../pki/index.js';
import type { CleanupReason } from '../signer/cleanup.js';
import type { Csr } from '../signer/types.js';

export interface Observer {
  /** A certificate was written; `signSeconds` covers parse, decide and sign. */
  issued(signer: string, signSeconds: number, csr: Csr): void;
  /** A Failed condition was written. */
  failed(signer: string, reason: string): void;
  /** A status write answered 409. */
  conflict(): void;
  /** A CSR goes back to the queue after a transient error. */
  retried(signer: string | undefined): void;
  /** A watch was restarted. */
  watchRestarted(signer: string, reason: 'error' | 'gone' | 'quiet'): void;
  /** The CA files were read again: a new CA in use, the same bytes, or a bad pair (the old CA stays). */
  caReloaded(signer: string, result: 'success' | 'unchanged' | 'error'): void;
  /** A trust bundle target was checked and, where needed, written. */
  trustPublished?(signer: string, target: TrustTarget, result: TrustResult): void;
  /** The approver decided on a CSR (in audit mode too, where nothing is written); `rule` names what decided. */
  approval?(signer: string, decision: ApprovalOutcome, rule: string): void;
  /** The cleaner deleted a CSR. */
  cleanupDeleted?(reason: CleanupReason): void;
  /**
   * A PodCertificateRequest got its one terminal condition from us (written, or seen stored
   * after the write's answer was lost); `seconds` since its creation, when that is known.
   */
  podCertificate?(signer: string, result: PodCertificateResult, seconds: number | undefined): void;
  /** A signer's key provider (a PKCS#11 token) failed an operation; it retries, and requests wait. */
  keyProviderError?(signer: string, op: KeyProviderOperation): void;
}

/** A PodCertificateRequest's end, as counted: the condition written (Issued, Denied, Failed). */
export type PodCertificateResult = 'issued' | 'denied' | 'failed';

/** The approver's decisions, as counted: a condition Approved or Denied written (or, in audit mode, that would be), or left pending. */
export type ApprovalOutcome = 'approved' | 'denied' | 'waiting';

export type TrustTarget = 'configmap' | 'clustertrustbundle';
/**
 * unavailable: the ClusterTrustBundle API is not served; not-owned: an object of that name exists without
 * csr-signer's label; skipped: the namespace is being deleted (Terminating), so nothing is created in it.
 */
export type TrustResult = 'created' | 'updated' | 'unchanged' | 'not-owned' | 'skipped' | 'unavailable' | 'error';

export const noopObserver: Observer = {
  issued: () => undefined,
  failed: () => undefined,
  conflict: () => undefined,
  retried: () => undefined,
  watchRestarted: () => undefined,
  caReloaded: () => undefined,
  trustPublished: () => undefined,
  approval: () => undefined,
  cleanupDeleted: () => undefined,
  podCertificate: () => undefined,
  keyProviderError: () => undefined,
};
