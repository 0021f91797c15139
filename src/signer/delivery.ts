/**
 * Whether a certificate we issued reached the CSR, read from what the API shows
 * now. A status write can fail on the wire after the API server stored it (a
 * 504 from its timeout filter, an etcd timeout, a reset connection), so the
 * answer to the write is not the answer to this question; the CSR is.
 */
import { hasCertificate, isFailed } from './conditions.js';
import type { Csr } from './types.js';

/** Why a certificate we signed will never be in the CSR. */
export type NotDelivered = 'deleted' | 'recreated' | 'other-certificate' | 'failed';

/**
 * delivered: the CSR carries exactly our certificate. pending: not known yet; a
 * later sight of the CSR decides. Otherwise why it never will be.
 */
export type Delivery = 'delivered' | 'pending' | NotDelivered;

/**
 * `written` is status.certificate as we sent it (the bytes before the API's
 * base64); `uid` the CSR's uid when we issued. `csr` undefined: it is gone.
 * A certificate once set cannot change (the API refuses it), so a certificate
 * seen is final. A Failed CSR without ours was failed before our write could
 * land: after it, our write (on the older resourceVersion) could only conflict.
 */
export function deliveryOf(written: Uint8Array, uid: string | undefined, csr: Csr | undefined): Delivery {
  if (!csr) return 'deleted';
  if (uid !== undefined && csr.metadata.uid !== undefined && csr.metadata.uid !== uid) return 'recreated';
  if (hasCertificate(csr)) return Buffer.from(csr.status?.certificate ?? '', 'base64').equals(written) ? 'delivered' : 'other-certificate';
  return isFailed(csr) ? 'failed' : 'pending';
}
