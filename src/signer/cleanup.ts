/**
 * When a CSR may be deleted, as kube-controller-manager's csrcleaner decides it
 * (pkg/controller/certificates/cleaner/cleaner.go `handle`), checked in its order:
 *
 *   Approved with a certificate, the Approved condition updated more than 1 h ago → Issued
 *   Denied, updated more than 1 h ago                                            → Denied
 *   Failed, updated more than 1 h ago                                            → Failed
 *   no conditions at all, created more than 24 h ago                             → Pending
 *   Approved with a certificate whose first certificate's NotAfter has passed    → CertificateExpired
 *   no certificate, an Approved condition updated more than 24 h ago             → ApprovedUnissued
 *
 * The last is upstream's `isApprovedUnissuedPastDeadline` (kubernetes/kubernetes PR
 * #133116, merged 2025: approved-but-unissued CSRs are treated "in the same way it treats
 * `Pending` CSRs", so `pendingExpiration`, 24 h). This rule was written without the
 * merged function's body at hand — from the PR's description and the upstream package's
 * summary ("Approved but no certificate, older than pendingExpiration") — so two details
 * are our choice, the most defensible ones:
 *   - the time is the Approved condition's lastUpdateTime (as the Issued rule counts
 *     from it), not the CSR's creationTimestamp: 24 h after the approval, not after
 *     the request;
 *   - nothing else is looked at: an approved CSR that also carries a Denied or Failed
 *     condition is caught too when the rules above did not delete it first (a Failed
 *     condition without a time, say) — it will never be issued either.
 *
 * A missing or unreadable time is never old (upstream's zero time). Pure: the
 * caller passes the time and the certificate's NotAfter.
 */
import type { CleanupConfig, Csr } from './types.js';

/** The ages, under the name the cleaner's reconciler used before approvedUnissuedMs existed. */
export type CleanupAges = CleanupConfig;

const HOUR = 3_600_000;

/** kube-controller-manager's ages. */
export const upstreamCleanupAges: CleanupConfig = {
  issuedMs: HOUR, deniedMs: HOUR, failedMs: HOUR, pendingMs: 24 * HOUR, approvedUnissuedMs: 24 * HOUR,
};

export type CleanupReason = 'Issued' | 'Denied' | 'Failed' | 'Pending' | 'CertificateExpired' | 'ApprovedUnissued';

export type Cleanup =
  | { readonly kind: 'delete'; readonly reason: CleanupReason }
  /** `recheckInMs`: when the earliest rule will hold, if one will without a change to the object. */
  | { readonly kind: 'keep'; readonly recheckInMs?: number };

const timeOf = (value: string | undefined): number | undefined => {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

export function cleanup(csr: Csr, now: Date, ages: CleanupConfig, certificateNotAfter: Date | undefined): Cleanup {
  const conditions = csr.status?.conditions ?? [];
  const issued = (csr.status?.certificate ?? '') !== '';
  const at = now.getTime();
  /** Per rule that applies: how long until it holds (≤ 0: it holds now). */
  const waits: { reason: CleanupReason; inMs: number }[] = [];
  // Older than `age` means strictly more than `age` ago: it holds once `at > since + age`.
  const olderThan = (reason: CleanupReason, since: number | undefined, age: number): void => {
    if (since !== undefined) waits.push({ reason, inMs: since + age + 1 - at });
  };
  for (const c of conditions) if (c.type === 'Approved' && issued) olderThan('Issued', timeOf(c.lastUpdateTime), ages.issuedMs);
  for (const c of conditions) if (c.type === 'Denied') olderThan('Denied', timeOf(c.lastUpdateTime), ages.deniedMs);
  for (const c of conditions) if (c.type === 'Failed') olderThan('Failed', timeOf(c.lastUpdateTime), ages.failedMs);
  if (conditions.length === 0) olderThan('Pending', timeOf(csr.metadata.creationTimestamp), ages.pendingMs);
  if (issued && certificateNotAfter && conditions.some((c) => c.type === 'Approved')) {
    // "After NotAfter": it holds from NotAfter + 1 ms.
    waits.push({ reason: 'CertificateExpired', inMs: certificateNotAfter.getTime() + 1 - at });
  }
  for (const c of conditions) if (c.type === 'Approved' && !issued) olderThan('ApprovedUnissued', timeOf(c.lastUpdateTime), ages.approvedUnissuedMs);
  const due = waits.find((w) => w.inMs <= 0);
  if (due) return { kind: 'delete', reason: due.reason };
  if (waits.length === 0) return { kind: 'keep' };
  return { kind: 'keep', recheckInMs: Math.min(...waits.map((w) => w.inMs)) };
}
