/**
 * Whether a status we wrote reached the PodCertificateRequest: exactly our chain, or
 * exactly our condition (its time included), is ours; a request not yet terminal is still
 * open; anything else terminal, another uid or no request at all never will be.
 */
import t from 'tap';
import type { Condition, PodCertificateRequest } from '../../src/kube/objects.js';
import { isTerminal, podCertificateDeliveryOf } from '../../src/signer/pod-certificate-delivery.js';

const base: PodCertificateRequest = {
  metadata: { name: 'req-1', namespace: 'shop', uid: 'u-1' },
  spec: { signerName: 'example.com/pods', podName: 'web', podUID: 'p', serviceAccountName: 'web', serviceAccountUID: 's', nodeName: 'n', nodeUID: 'nu' },
};
const condition = (type: string, changes: Partial<Condition> = {}): Condition => ({
  type, status: 'True', reason: type === 'Issued' ? 'Issued' : 'CsrSignerPolicyDenied', message: 'm', lastTransitionTime: '2030-01-01T00:00:00Z', ...changes,
});
const withStatus = (status: PodCertificateRequest['status'], uid = 'u-1'): PodCertificateRequest => ({ ...base, metadata: { ...base.metadata, uid }, ...(status ? { status } : {}) });

const issued = { conditions: [condition('Issued')], certificateChain: '-----BEGIN CERTIFICATE-----\nours\n-----END CERTIFICATE-----\n' };
const denied = { conditions: [condition('Denied')] };

const cases: { name: string; written: NonNullable<PodCertificateRequest['status']>; seen: PodCertificateRequest | undefined; want: string }[] = [
  { name: 'our chain there is delivered', written: issued, seen: withStatus({ ...issued, conditions: [condition('Issued', { lastTransitionTime: '2030-01-01T00:00:09Z' })] }), want: 'delivered' },
  { name: 'another chain there is another writer\'s', written: issued, seen: withStatus({ ...issued, certificateChain: 'theirs' }), want: 'other-status' },
  { name: 'a denial there where we issued is another writer\'s', written: issued, seen: withStatus(denied), want: 'other-status' },
  { name: 'our denial, time included, is delivered', written: denied, seen: withStatus(denied), want: 'delivered' },
  { name: 'the same denial a second later is not ours', written: denied, seen: withStatus({ conditions: [condition('Denied', { lastTransitionTime: '2030-01-01T00:00:01Z' })] }), want: 'other-status' },
  { name: 'a Failed condition where we denied is not ours', written: denied, seen: withStatus({ conditions: [condition('Failed')] }), want: 'other-status' },
  { name: 'no terminal status yet: still open', written: issued, seen: withStatus(undefined), want: 'pending' },
  { name: 'a non-terminal condition does not end it', written: denied, seen: withStatus({ conditions: [condition('SomethingElse')] }), want: 'pending' },
  { name: 'a request of the same name with another uid was recreated', written: issued, seen: withStatus(issued, 'u-2'), want: 'recreated' },
  { name: 'no request: deleted', written: issued, seen: undefined, want: 'deleted' },
];

for (const c of cases) {
  void t.test(c.name, (t) => {
    t.equal(podCertificateDeliveryOf(c.written, 'u-1', c.seen), c.want);
    t.end();
  });
}

void t.test('terminal: a chain, or an Issued, Denied or Failed condition (its status not looked at)', (t) => {
  t.ok(isTerminal(withStatus({ certificateChain: 'x' })));
  t.ok(isTerminal(withStatus({ conditions: [condition('Failed', { status: 'False' })] })));
  t.notOk(isTerminal(withStatus(undefined)));
  t.notOk(isTerminal(withStatus({ certificateChain: '', conditions: [] })));
  t.end();
});
