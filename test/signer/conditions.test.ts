/** Reading a CSR's conditions exactly as Kubernetes does, and the Failed condition csr-signer writes. */
import t from 'tap';
import { approvedAt, failedCondition, hasCertificate, isApproved, isDenied, isFailed } from '../../src/signer/conditions.js';
import type { Csr, CsrCondition } from '../../src/signer/types.js';
import { approved, csrBuilder, denied, failed, withCertificate, withCondition, type CsrModifier } from '../helpers/csr.js';

const cond = (type: string, status: string): CsrModifier => withCondition({ type, status });

void t.test('approval, denial and failure as certificate_controller_utils.go reads them', (t) => {
  const cases: { name: string; modifiers: CsrModifier[]; approved: boolean; denied: boolean; failed: boolean }[] = [
    { name: 'a CSR with no conditions is none of them', modifiers: [], approved: false, denied: false, failed: false },
    { name: 'an Approved condition approves', modifiers: [approved()], approved: true, denied: false, failed: false },
    { name: 'an Approved condition with status False still approves: only the type is looked at', modifiers: [cond('Approved', 'False')], approved: true, denied: false, failed: false },
    { name: 'a Denied condition denies, whatever its status', modifiers: [cond('Denied', 'False')], approved: false, denied: true, failed: false },
    { name: 'Approved and Denied together is not approved', modifiers: [approved(), denied()], approved: false, denied: true, failed: false },
    { name: 'Failed with status True is failed', modifiers: [approved(), failed()], approved: true, denied: false, failed: true },
    { name: 'Failed with an empty status is failed', modifiers: [failed('')], approved: false, denied: false, failed: true },
    { name: 'Failed with status False is not failed', modifiers: [failed('False')], approved: false, denied: false, failed: false },
    { name: 'Failed with status Unknown is not failed', modifiers: [failed('Unknown')], approved: false, denied: false, failed: false },
    { name: 'another condition type counts for nothing', modifiers: [cond('Ready', 'True')], approved: false, denied: false, failed: false },
  ];
  for (const c of cases) {
    const csr = csrBuilder(...c.modifiers);
    t.same({ approved: isApproved(csr), denied: isDenied(csr), failed: isFailed(csr) }, { approved: c.approved, denied: c.denied, failed: c.failed }, c.name);
  }
  t.end();
});

void t.test('a certificate is there only when status.certificate is non-empty', (t) => {
  t.equal(hasCertificate(csrBuilder()), false, 'no status');
  t.equal(hasCertificate(csrBuilder(withCertificate())), true, 'a certificate');
  const empty: Csr = { ...csrBuilder(), status: { certificate: '' } };
  t.equal(hasCertificate(empty), false, 'an empty string is no certificate');
  t.end();
});

void t.test('the Failed condition: status True, the reason and message, both times in RFC 3339 seconds', (t) => {
  const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  const expected: CsrCondition = {
    type: 'Failed', status: 'True', reason: 'PolicyViolation', message: 'no',
    lastUpdateTime: '2026-01-02T03:04:05Z', lastTransitionTime: '2026-01-02T03:04:05Z',
  };
  t.same(failedCondition('PolicyViolation', 'no', now), expected);
  t.end();
});

void t.test('approvedAt: the Approved condition\'s time, for exactly the CSRs isApproved calls approved', (t) => {
  const at = (c: CsrCondition): CsrModifier => withCondition(c);
  const time = '2030-01-01T00:00:00Z';
  const ms = Date.parse(time);
  t.equal(approvedAt(csrBuilder(at({ type: 'Approved', status: 'True', lastUpdateTime: time }))), ms);
  t.equal(approvedAt(csrBuilder(at({ type: 'Approved', status: 'False', lastUpdateTime: time }))), ms, 'status is not looked at, as for isApproved (the metrics once read it differently)');
  t.equal(approvedAt(csrBuilder(at({ type: 'Approved', status: 'True', lastTransitionTime: time }))), ms, 'lastTransitionTime when lastUpdateTime is missing');
  t.equal(approvedAt(csrBuilder(at({ type: 'Approved', status: 'True', lastUpdateTime: time }), denied())), undefined, 'denied: not approved');
  t.equal(approvedAt(csrBuilder(at({ type: 'Approved', status: 'True', lastUpdateTime: 'Tue, 31 Dec 2029 23:58:30 GMT' }))), undefined, 'not RFC 3339');
  t.equal(approvedAt(csrBuilder()), undefined);
  t.end();
});
