/**
 * The cleaner's decision against kube-controller-manager's csrcleaner rules: the
 * six reasons in upstream's order (cleaner.go `handle`, approved-but-unissued last), strict ages (exactly the age is not yet old),
 * a missing or unreadable time never old, and when to look again.
 */
import t from 'tap';
import { cleanup, upstreamCleanupAges, type Cleanup } from '../../src/signer/cleanup.js';
import type { Csr } from '../../src/signer/types.js';
import { approved, csrBuilder, denied, failed, withCertificate, withCondition, type CsrModifier } from '../helpers/csr.js';

const HOUR = 3_600_000;
const now = new Date('2026-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(now.getTime() - ms).toISOString();
const created = (ms: number): CsrModifier => (csr) => ({ ...csr, metadata: { ...csr.metadata, creationTimestamp: ago(ms) } });
const updatedAgo = (ms: number): CsrModifier => (csr) =>
  ({ ...csr, status: { ...csr.status, conditions: (csr.status?.conditions ?? []).map((c) => ({ ...c, lastUpdateTime: ago(ms) })) } });
const decide = (csr: Csr, notAfter?: Date): Cleanup => cleanup(csr, now, upstreamCleanupAges, notAfter);

const cases: { name: string; csr: Csr; notAfter?: Date; expected: Cleanup }[] = [
  { name: 'issued, approved 2 h ago: Issued', csr: csrBuilder(approved(), withCertificate(), updatedAgo(2 * HOUR)), expected: { kind: 'delete', reason: 'Issued' } },
  { name: 'issued, approved exactly 1 h ago: not yet (older means more than)', csr: csrBuilder(approved(), withCertificate(), updatedAgo(HOUR)), expected: { kind: 'keep', recheckInMs: 1 } },
  { name: 'issued, approved 1 h and 1 ms ago: Issued', csr: csrBuilder(approved(), withCertificate(), updatedAgo(HOUR + 1)), expected: { kind: 'delete', reason: 'Issued' } },
  { name: 'approved 2 h ago but never issued: kept until 24 h after the approval', csr: csrBuilder(approved(), updatedAgo(2 * HOUR)), expected: { kind: 'keep', recheckInMs: 22 * HOUR + 1 } },
  { name: 'approved 25 h ago, never issued: ApprovedUnissued', csr: csrBuilder(approved(), updatedAgo(25 * HOUR)), expected: { kind: 'delete', reason: 'ApprovedUnissued' } },
  { name: 'approved exactly 24 h ago, never issued: not yet (older means more than)', csr: csrBuilder(approved(), updatedAgo(24 * HOUR)), expected: { kind: 'keep', recheckInMs: 1 } },
  { name: 'approved 24 h and 1 ms ago, never issued: ApprovedUnissued', csr: csrBuilder(approved(), updatedAgo(24 * HOUR + 1)), expected: { kind: 'delete', reason: 'ApprovedUnissued' } },
  { name: 'approved 25 h ago without lastUpdateTime: never old (upstream\'s zero time)', csr: csrBuilder(approved(), created(48 * HOUR)), expected: { kind: 'keep' } },
  { name: 'approved and issued 25 h ago: Issued, not ApprovedUnissued', csr: csrBuilder(approved(), withCertificate(), updatedAgo(25 * HOUR)), expected: { kind: 'delete', reason: 'Issued' } },
  { name: 'approved 25 h ago and failed without a time: ApprovedUnissued, as upstream looks at nothing else', csr: csrBuilder(approved(), updatedAgo(25 * HOUR), failed()), expected: { kind: 'delete', reason: 'ApprovedUnissued' } },
  { name: 'approved and failed 25 h ago: Failed, checked first', csr: csrBuilder(approved(), failed(), updatedAgo(25 * HOUR)), expected: { kind: 'delete', reason: 'Failed' } },
  { name: 'approved 23 h ago, failed 30 min ago: looked at again when the Failed rule holds, in 30 min', csr: csrBuilder(withCondition({ type: 'Approved', status: 'True', lastUpdateTime: ago(23 * HOUR) }), withCondition({ type: 'Failed', status: 'True', lastUpdateTime: ago(30 * 60_000) })), expected: { kind: 'keep', recheckInMs: 30 * 60_000 + 1 } },
  { name: 'denied 2 h ago: Denied', csr: csrBuilder(denied(), updatedAgo(2 * HOUR)), expected: { kind: 'delete', reason: 'Denied' } },
  { name: 'denied 10 min ago: kept, looked at again in 50 min', csr: csrBuilder(denied(), updatedAgo(10 * 60_000)), expected: { kind: 'keep', recheckInMs: 50 * 60_000 + 1 } },
  { name: 'failed 2 h ago: Failed', csr: csrBuilder(approved(), failed(), updatedAgo(2 * HOUR)), expected: { kind: 'delete', reason: 'Failed' } },
  { name: 'pending, created 25 h ago: Pending', csr: csrBuilder(created(25 * HOUR)), expected: { kind: 'delete', reason: 'Pending' } },
  { name: 'pending, created 23 h ago: kept for 1 h more', csr: csrBuilder(created(23 * HOUR)), expected: { kind: 'keep', recheckInMs: HOUR + 1 } },
  { name: 'pending without creationTimestamp: never old', csr: csrBuilder(), expected: { kind: 'keep' } },
  { name: 'denied without lastUpdateTime: never old (upstream\'s zero time)', csr: csrBuilder(denied(), created(48 * HOUR)), expected: { kind: 'keep' } },
  { name: 'denied with an unreadable lastUpdateTime: never old', csr: csrBuilder(withCondition({ type: 'Denied', status: 'True', lastUpdateTime: 'yesterday' })), expected: { kind: 'keep' } },
  { name: 'approved 10 min ago, certificate expired a second ago: CertificateExpired', csr: csrBuilder(approved(), withCertificate(), updatedAgo(10 * 60_000)), notAfter: new Date(now.getTime() - 1000), expected: { kind: 'delete', reason: 'CertificateExpired' } },
  { name: 'certificate expiring in 5 min, approved just now: looked at again when it expires', csr: csrBuilder(approved(), withCertificate(), updatedAgo(0)), notAfter: new Date(now.getTime() + 5 * 60_000), expected: { kind: 'keep', recheckInMs: 5 * 60_000 + 1 } },
  { name: 'NotAfter exactly now: not yet expired (after, not at)', csr: csrBuilder(approved(), withCertificate()), notAfter: now, expected: { kind: 'keep', recheckInMs: 1 } },
  { name: 'a certificate without Approved is not judged by its NotAfter', csr: csrBuilder(withCertificate(), withCondition({ type: 'Failed', status: 'True', lastUpdateTime: ago(0) })), notAfter: new Date(0), expected: { kind: 'keep', recheckInMs: HOUR + 1 } },
  { name: 'denied and failed, both old: Denied comes first, as upstream checks it first', csr: csrBuilder(denied(), failed(), updatedAgo(3 * HOUR)), expected: { kind: 'delete', reason: 'Denied' } },
];

void t.test('the cleaner decides as kube-controller-manager\'s csrcleaner', (t) => {
  for (const c of cases) t.same(decide(c.csr, c.notAfter), c.expected, c.name);
  t.end();
});

void t.test('the ages are the caller\'s', (t) => {
  const csr = csrBuilder(denied(), updatedAgo(10 * 60_000));
  t.same(cleanup(csr, now, { ...upstreamCleanupAges, deniedMs: 5 * 60_000 }, undefined), { kind: 'delete', reason: 'Denied' });
  const unissued = csrBuilder(approved(), updatedAgo(2 * HOUR));
  t.same(cleanup(unissued, now, { ...upstreamCleanupAges, approvedUnissuedMs: HOUR }, undefined), { kind: 'delete', reason: 'ApprovedUnissued' },
    'approvedUnissuedMs: 1 h deletes a CSR approved 2 h ago and never issued');
  t.same(cleanup(unissued, now, { ...upstreamCleanupAges, approvedUnissuedMs: 3 * HOUR }, undefined), { kind: 'keep', recheckInMs: HOUR + 1 },
    'approvedUnissuedMs: 3 h keeps it for 1 h more');
  t.end();
});

void t.test('upstream\'s ages: 1 h for issued, denied and failed, 24 h for pending and approved-but-unissued', (t) => {
  t.same(upstreamCleanupAges, { issuedMs: HOUR, deniedMs: HOUR, failedMs: HOUR, pendingMs: 24 * HOUR, approvedUnissuedMs: 24 * HOUR });
  t.end();
});
