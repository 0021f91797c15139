/** The Snapshot's per-signer state, from the controllers' caches: the PodCertificateRequest backlog. */
import t from 'tap';
import type { PodCertificateRequest } from '../../src/kube/objects.js';
import { podCertificatesPending, signerStates } from '../../src/telemetry/snapshot.js';

const now = new Date('2030-01-01T00:10:00Z');

const pcr = (name: string, signerName: string, created: string | undefined, status?: PodCertificateRequest['status']): PodCertificateRequest => ({
  metadata: { name, namespace: 'shop', ...(created ? { creationTimestamp: created } : {}) },
  spec: { signerName, podName: 'p', podUID: 'u', serviceAccountName: 's', serviceAccountUID: 'su', nodeName: 'n', nodeUID: 'nu' },
  ...(status ? { status } : {}),
});
const done = { conditions: [{ type: 'Denied', status: 'True', reason: 'R', message: 'm', lastTransitionTime: '2030-01-01T00:00:00Z' }] };

void t.test('pending: requests not yet terminal, per signer, and the age of the oldest creation', (t) => {
  const pending = podCertificatesPending([
    pcr('a', 'example.com/pods', '2030-01-01T00:04:00Z'),
    pcr('b', 'example.com/pods', '2030-01-01T00:09:30Z'),
    pcr('c', 'example.com/pods', '2029-12-31T00:00:00Z', done),
    pcr('d', 'example.com/pods', '2029-12-31T00:00:00Z', { certificateChain: 'x' }),
    pcr('e', 'example.com/other', undefined),
    pcr('f', 'example.com/other', '2030-01-01T00:11:00Z'),
  ], now);
  t.same(pending.get('example.com/pods'), { count: 2, oldestSeconds: 360 });
  t.same(pending.get('example.com/other'), { count: 2, oldestSeconds: 0 }, 'no creation time, or one in our future, counts no age');
  t.end();
});

void t.test('only signers with podCertificates carry the backlog fields', (t) => {
  const states = signerStates({
    now, signers: ['example.com/pods', 'example.com/serving'], csrs: [], ca: () => ({}), trust: () => [], latest: new Map(), watch: () => undefined,
    podCertificateSigners: ['example.com/pods'], pcrs: [pcr('a', 'example.com/pods', '2030-01-01T00:04:00Z')],
  });
  t.match(states[0], { name: 'example.com/pods', podCertificatesPending: 1, podCertificatesOldestPendingSeconds: 360 });
  t.notOk('podCertificatesPending' in (states[1] ?? {}));
  const idle = signerStates({ now, signers: ['example.com/pods'], csrs: [], ca: () => ({}), trust: () => [], latest: new Map(), watch: () => undefined, podCertificateSigners: ['example.com/pods'] });
  t.match(idle[0], { podCertificatesPending: 0, podCertificatesOldestPendingSeconds: 0 }, 'a standby (no cache): 0');
  t.end();
});
