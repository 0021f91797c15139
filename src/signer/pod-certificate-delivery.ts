/**
 * Whether a status we wrote to a PodCertificateRequest reached it, read from what the
 * API shows now. A PUT /status can be stored although its answer is lost (a 504 from
 * the API server's timeout filter, a reset connection), so the answer to the write is
 * not the answer to this question; the request is. The apiserver freezes the status
 * once it holds Issued, Denied or Failed, so a terminal status seen is final.
 */
import type { PodCertificateRequest } from './types.js';

type Status = NonNullable<PodCertificateRequest['status']>;

/**
 * delivered: the request carries exactly what we wrote (our certificate chain; for a
 * denial or failure our condition, its time included). pending: not terminal yet, so a
 * later sight decides. Otherwise why it never will be: the request is gone, is another
 * object of the same name, or ended with another status (another writer's).
 */
export type PodCertificateDelivery = 'delivered' | 'pending' | 'deleted' | 'recreated' | 'other-status';

const TERMINAL = new Set(['Issued', 'Denied', 'Failed']);

/** The request has a terminal condition or a certificate chain: its status can no longer change. */
export const isTerminal = (pcr: Pick<PodCertificateRequest, 'status'>): boolean =>
  (pcr.status?.certificateChain ?? '') !== '' || (pcr.status?.conditions ?? []).some((c) => TERMINAL.has(c.type));

/** `written`: the status we sent; `uid`: the request's uid when we decided; `pcr` undefined: it is gone. */
export function podCertificateDeliveryOf(written: Status, uid: string | undefined, pcr: PodCertificateRequest | undefined): PodCertificateDelivery {
  if (!pcr) return 'deleted';
  if (uid !== undefined && pcr.metadata.uid !== undefined && pcr.metadata.uid !== uid) return 'recreated';
  if (!isTerminal(pcr)) return 'pending';
  const chain = written.certificateChain ?? '';
  if (chain !== '') return pcr.status?.certificateChain === chain ? 'delivered' : 'other-status';
  const [ours] = written.conditions ?? [];
  const carries = ours !== undefined && (pcr.status?.conditions ?? []).some((c) => c.type === ours.type && c.status === ours.status
    && c.reason === ours.reason && c.message === ours.message && c.lastTransitionTime === ours.lastTransitionTime);
  return carries ? 'delivered' : 'other-status';
}
