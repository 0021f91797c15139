/**
 * A CSR's state, read from its conditions exactly as Kubernetes reads them
 * (certificate_controller_utils.go): approval looks at condition types only;
 * Failed counts when its status is True or empty.
 */
import { rfc3339Seconds } from '../time.js';
import type { Csr, CsrCondition } from './types.js';

type WithStatus = Pick<Csr, 'status'>;

const conditionsOf = (csr: WithStatus): readonly CsrCondition[] => csr.status?.conditions ?? [];
const hasType = (csr: WithStatus, type: string): boolean => conditionsOf(csr).some((c) => c.type === type);

/** Some condition is Denied. Its status is not looked at. */
export const isDenied = (csr: WithStatus): boolean => hasType(csr, 'Denied');

/** Some condition is Approved and none is Denied. Statuses are not looked at. */
export const isApproved = (csr: WithStatus): boolean => hasType(csr, 'Approved') && !isDenied(csr);

/** A Failed condition whose status is True or empty. */
export const isFailed = (csr: WithStatus): boolean =>
  conditionsOf(csr).some((c) => c.type === 'Failed' && (c.status === 'True' || c.status === ''));

/** status.certificate is set (non-empty). */
export const hasCertificate = (csr: WithStatus): boolean => (csr.status?.certificate ?? '') !== '';


/**
 * When the CSR was approved, in milliseconds since the epoch: the Approved
 * condition's lastUpdateTime (RFC 3339), else its lastTransitionTime; undefined
 * when it is not approved (as isApproved reads it) or has neither time.
 */
export function approvedAt(csr: WithStatus): number | undefined {
  if (!isApproved(csr)) return undefined;
  const approved = conditionsOf(csr).find((c) => c.type === 'Approved');
  const stamp = approved?.lastUpdateTime ?? approved?.lastTransitionTime;
  if (stamp === undefined || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(stamp)) return undefined;
  const ms = Date.parse(stamp);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The condition that marks a CSR Failed for good. */
export function failedCondition(reason: string, message: string, now: Date): CsrCondition {
  const time = rfc3339Seconds(now);
  return { type: 'Failed', status: 'True', reason, message, lastUpdateTime: time, lastTransitionTime: time };
}
