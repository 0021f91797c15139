/**
 * The Event body both clients post: a new Event (generateName from the object's name, count
 * 1, both timestamps the same second) about `involvedObject` as given, reported by csr-signer.
 * Checked as serialized, so the fields' order is what is sent.
 */
import t from 'tap';
import { csrApi } from '../../src/kube/csr-api.js';
import { eventBody } from '../../src/kube/events.js';
import type { KubeHttp, Query } from '../../src/kube/http.js';
import type { Csr } from '../../src/kube/objects.js';

const now = new Date('2026-01-02T03:04:05.678Z');

void t.test('the body names the object, is stored where asked and is reported by this instance', (t) => {
  const body = eventBody({
    involvedObject: { apiVersion: 'certificates.k8s.io/v1', kind: 'PodCertificateRequest', namespace: 'shop', name: 'req-x', uid: 'u-1' },
    namespace: 'shop', type: 'Warning', reason: 'PodCertificateDenied', message: 'no', now, reportingInstance: 'replica-1',
  });
  t.equal(JSON.stringify(body), JSON.stringify({
    apiVersion: 'v1', kind: 'Event', metadata: { generateName: 'req-x.', namespace: 'shop' },
    involvedObject: { apiVersion: 'certificates.k8s.io/v1', kind: 'PodCertificateRequest', namespace: 'shop', name: 'req-x', uid: 'u-1' },
    type: 'Warning', reason: 'PodCertificateDenied', message: 'no',
    source: { component: 'csr-signer' }, reportingComponent: 'csr-signer', reportingInstance: 'replica-1',
    firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:04:05Z', count: 1,
  }));
  t.end();
});

void t.test('a CSR\'s Event goes to default and names the cluster-scoped CSR (no namespace), with its uid when it has one', async (t) => {
  const sent: { method: string; path: string; body?: unknown }[] = [];
  const kube = {
    request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
      sent.push({ method, path, body: options.body });
      return Promise.resolve({} as T);
    },
  } as unknown as KubeHttp;
  const api = csrApi(kube, 'replica-1');
  await api.createEvent({ csr: { metadata: { name: 'node-csr-1', uid: 'u-2' } } as Csr, type: 'Normal', reason: 'CertificateIssued', message: 'ok', now });
  await api.createEvent({ csr: { metadata: { name: 'node-csr-2' } } as Csr, type: 'Normal', reason: 'CertificateIssued', message: 'ok', now });
  t.same(sent.map((s) => `${s.method} ${s.path}`), ['POST /api/v1/namespaces/default/events', 'POST /api/v1/namespaces/default/events']);
  const expected = (name: string, uid: object): string => JSON.stringify({
    apiVersion: 'v1', kind: 'Event', metadata: { generateName: `${name}.`, namespace: 'default' },
    involvedObject: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name, ...uid },
    type: 'Normal', reason: 'CertificateIssued', message: 'ok',
    source: { component: 'csr-signer' }, reportingComponent: 'csr-signer', reportingInstance: 'replica-1',
    firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:04:05Z', count: 1,
  });
  t.equal(JSON.stringify(sent[0]?.body), expected('node-csr-1', { uid: 'u-2' }));
  t.equal(JSON.stringify(sent[1]?.body), expected('node-csr-2', {}));
});
