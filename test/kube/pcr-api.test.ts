/**
 * The PodCertificateRequest client: which version discovery picks (v1 when its resource
 * list has podcertificaterequests, else v1beta1; neither, or not the configured one: one
 * sentence naming the Kubernetes versions that serve them), every namespace watched by
 * spec.signerName, the legacy re-read through v1beta1, /status with the version written,
 * Events in the request's namespace, and the Pod and Namespace reads (404 as null).
 */
import t from 'tap';
import { CsrSignerError } from '../../src/errors.js';
import { KubeApiError, type KubeHttp, type Query } from '../../src/kube/http.js';
import type { PodCertificateRequest } from '../../src/kube/objects.js';
import {
  choosePodCertificateRequestVersion, podCertificateFeed, podCertificateRequestApi, podCertificateRequestVersionsServed, REDISCOVERY_INTERVAL_MS,
} from '../../src/kube/pcr-api.js';
import { podFactsApi } from '../../src/kube/pod-api.js';
import type { WatchEvent } from '../../src/kube/resource.js';

interface Sent { method: string; path: string; query?: Query; body?: unknown }

const notFound = (): KubeApiError => new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', undefined);

/** A KubeHttp that records each call and answers from `routes` by "METHOD path" (absent: 404). */
function recorder(routes: Record<string, unknown> = {}): { kube: KubeHttp; sent: Sent[] } {
  const sent: Sent[] = [];
  const kube: KubeHttp = {
    request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
      sent.push({ method, path, ...options });
      const key = `${method} ${path}`;
      if (method === 'PUT') return Promise.resolve(options.body as T);
      if (!(key in routes)) return Promise.reject(notFound());
      return Promise.resolve(routes[key] as T);
    },
    watch(path, query, onLine) {
      sent.push({ method: 'WATCH', path, query });
      onLine({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } });
      return Promise.resolve();
    },
    close: () => undefined,
  };
  return { kube, sent };
}

const resources = (...names: string[]): unknown => ({ kind: 'APIResourceList', resources: names.map((name) => ({ name })) });

void t.test('discovery: each version whose resource list has podcertificaterequests, v1 first', async (t) => {
  const cases: { name: string; routes: Record<string, unknown>; want: string[] }[] = [
    {
      name: 'a 1.37 cluster with v1beta1 on serves both',
      routes: {
        'GET /apis/certificates.k8s.io/v1': resources('certificatesigningrequests', 'podcertificaterequests', 'podcertificaterequests/status'),
        'GET /apis/certificates.k8s.io/v1beta1': resources('clustertrustbundles', 'podcertificaterequests'),
      },
      want: ['v1', 'v1beta1'],
    },
    {
      name: 'a 1.35 cluster: v1 serves only CSRs, so v1beta1',
      routes: {
        'GET /apis/certificates.k8s.io/v1': resources('certificatesigningrequests', 'certificatesigningrequests/status'),
        'GET /apis/certificates.k8s.io/v1beta1': resources('podcertificaterequests'),
      },
      want: ['v1beta1'],
    },
    {
      name: 'a 1.37 cluster with v1beta1 off (404)',
      routes: { 'GET /apis/certificates.k8s.io/v1': resources('certificatesigningrequests', 'podcertificaterequests') },
      want: ['v1'],
    },
    {
      name: 'a 1.33 cluster: v1beta1 serves ClusterTrustBundles only',
      routes: {
        'GET /apis/certificates.k8s.io/v1': resources('certificatesigningrequests'),
        'GET /apis/certificates.k8s.io/v1beta1': resources('clustertrustbundles'),
      },
      want: [],
    },
    { name: 'no certificates.k8s.io version at all (404)', routes: {}, want: [] },
  ];
  for (const c of cases) {
    const { kube, sent } = recorder(c.routes);
    t.same(await podCertificateRequestVersionsServed(kube), c.want, c.name);
    t.same(sent.map((s) => `${s.method} ${s.path}`).sort(), ['GET /apis/certificates.k8s.io/v1', 'GET /apis/certificates.k8s.io/v1beta1'], `${c.name}: two reads`);
  }
});

void t.test('discovery: an error other than 404 is not taken for "not served"', async (t) => {
  const kube: KubeHttp = {
    request: () => Promise.reject(new KubeApiError(503, 'ServiceUnavailable', 'etcd is down', undefined)),
    watch: () => Promise.resolve(),
    close: () => undefined,
  };
  await t.rejects(podCertificateRequestVersionsServed(kube), { status: 503, message: /etcd is down/ });
});

void t.test('the version used: configured if served, else v1 before v1beta1; otherwise one sentence naming what the cluster lacks', (t) => {
  t.equal(choosePodCertificateRequestVersion('example.com/pods', 'auto', ['v1', 'v1beta1']), 'v1');
  t.equal(choosePodCertificateRequestVersion('example.com/pods', 'auto', ['v1beta1']), 'v1beta1');
  t.equal(choosePodCertificateRequestVersion('example.com/pods', 'v1beta1', ['v1', 'v1beta1']), 'v1beta1');
  const refusals: { configured: 'auto' | 'v1' | 'v1beta1'; served: ('v1' | 'v1beta1')[]; message: RegExp }[] = [
    { configured: 'auto', served: [], message: /^signer example\.com\/pods has podCertificates, but the cluster serves PodCertificateRequests in neither certificates\.k8s\.io\/v1 nor v1beta1; pod certificates need Kubernetes 1\.37 .*1\.35 or 1\.36 with the PodCertificateRequest feature gate/ },
    { configured: 'v1', served: ['v1beta1'], message: /but podCertificates\.apiVersion is v1 and the cluster serves PodCertificateRequests in certificates\.k8s\.io\/v1beta1 only;/ },
    { configured: 'v1beta1', served: ['v1'], message: /apiVersion is v1beta1 and the cluster serves PodCertificateRequests in certificates\.k8s\.io\/v1 only;/ },
  ];
  for (const r of refusals) {
    t.throws(() => choosePodCertificateRequestVersion('example.com/pods', r.configured, r.served), { code: 'CSR_SIGNER_ERR_POD_CERTIFICATES_NOT_SERVED', message: r.message });
    try {
      choosePodCertificateRequestVersion('example.com/pods', r.configured, r.served);
    } catch (e) {
      t.ok(e instanceof CsrSignerError && !e.message.includes('\n'), 'one line');
    }
  }
  t.end();
});

const pcr: PodCertificateRequest = {
  metadata: { name: 'req-x', namespace: 'shop', uid: 'u-1', resourceVersion: '12' },
  spec: {
    signerName: 'example.com/pods', podName: 'web', podUID: 'p-1', serviceAccountName: 'web', serviceAccountUID: 's-1',
    nodeName: 'worker-1', nodeUID: 'n-1', stubPKCS10Request: 'AAAA',
  },
};

void t.test('v1: watch every namespace by spec.signerName, get and /status by namespace, the legacy read through v1beta1', async (t) => {
  const { kube, sent } = recorder({
    'GET /apis/certificates.k8s.io/v1/podcertificaterequests': { items: [pcr], metadata: { resourceVersion: '20' } },
    'GET /apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests/req-x': pcr,
    'GET /apis/certificates.k8s.io/v1beta1/namespaces/shop/podcertificaterequests/req-x': { ...pcr, spec: { ...pcr.spec, pkixPublicKey: 'BBBB' } },
  });
  const api = podCertificateRequestApi(kube, 'v1', ['v1', 'v1beta1'], 'replica-1');
  t.equal(api.version, 'v1');
  t.ok(api.legacyServed);
  const feed = podCertificateFeed(api, 'example.com/pods');
  t.same(await feed.list({ limit: 500 }), { items: [pcr], resourceVersion: '20' });
  const events: WatchEvent<PodCertificateRequest>[] = [];
  await feed.watch('20', 300, (e) => events.push(e), new AbortController().signal);
  t.same(events, [{ type: 'BOOKMARK', resourceVersion: '7' }]);
  t.same(await api.get('shop', 'req-x'), pcr);
  t.equal((await api.getLegacy('shop', 'req-x')).spec.pkixPublicKey, 'BBBB');
  // An object read through v1beta1 still goes back through v1, saying so.
  await api.updateStatus({ ...pcr, apiVersion: 'certificates.k8s.io/v1beta1', status: { conditions: [] } });
  t.same(sent.map(({ method, path }) => `${method} ${path}`), [
    'GET /apis/certificates.k8s.io/v1/podcertificaterequests',
    'WATCH /apis/certificates.k8s.io/v1/podcertificaterequests',
    'GET /apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests/req-x',
    'GET /apis/certificates.k8s.io/v1beta1/namespaces/shop/podcertificaterequests/req-x',
    'PUT /apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests/req-x/status',
  ]);
  t.same(sent[0]?.query, { fieldSelector: 'spec.signerName=example.com/pods', labelSelector: undefined, limit: 500, continue: undefined });
  t.match(sent[1]?.query, { fieldSelector: 'spec.signerName=example.com/pods', resourceVersion: '20', allowWatchBookmarks: true, timeoutSeconds: 300 });
  t.match(sent[4]?.body, { apiVersion: 'certificates.k8s.io/v1', kind: 'PodCertificateRequest', metadata: { resourceVersion: '12' } }, 'the resourceVersion read goes with the write');
});

void t.test('v1 alone cannot read the legacy fields; v1beta1 reads them itself', (t) => {
  const { kube } = recorder();
  t.notOk(podCertificateRequestApi(kube, 'v1', ['v1'], 'r').legacyServed);
  t.ok(podCertificateRequestApi(kube, 'v1beta1', ['v1beta1'], 'r').legacyServed);
  t.end();
});

void t.test('discovery is read again for the legacy fields at most once a minute, and learns that v1beta1 is served now', async (t) => {
  const routes: Record<string, unknown> = { 'GET /apis/certificates.k8s.io/v1': { resources: [{ name: 'podcertificaterequests' }] } };
  const { kube, sent } = recorder(routes);
  let now = 1_000_000;
  const api = podCertificateRequestApi(kube, 'v1', ['v1'], 'r', () => now);
  const discoveries = (): number => sent.filter((s) => s.path === '/apis/certificates.k8s.io/v1beta1').length;
  t.equal(await api.rediscoverLegacy(), false, 'within the minute of the start: what was found then');
  t.equal(discoveries(), 0);
  now += REDISCOVERY_INTERVAL_MS;
  t.equal(await api.rediscoverLegacy(), false);
  t.equal(discoveries(), 1, 'a minute on: read again');
  routes['GET /apis/certificates.k8s.io/v1beta1'] = { resources: [{ name: 'podcertificaterequests' }] };
  now += 30_000;
  t.equal(await api.rediscoverLegacy(), false, 'not again within the minute');
  t.equal(discoveries(), 1);
  now += 30_000;
  const [a, b] = await Promise.all([api.rediscoverLegacy(), api.rediscoverLegacy()]);
  t.ok(a && b);
  t.equal(discoveries(), 2, 'two callers at once share one read');
  t.ok(api.legacyServed, 'and the API now reads the legacy fields');
});

void t.test('v1beta1: the same calls under /apis/certificates.k8s.io/v1beta1', async (t) => {
  const { kube, sent } = recorder({ 'GET /apis/certificates.k8s.io/v1beta1/namespaces/shop/podcertificaterequests/req-x': pcr });
  const api = podCertificateRequestApi(kube, 'v1beta1', ['v1beta1'], 'r');
  await api.get('shop', 'req-x');
  await api.getLegacy('shop', 'req-x');
  await api.updateStatus(pcr);
  t.same(sent.map(({ method, path }) => `${method} ${path}`), [
    'GET /apis/certificates.k8s.io/v1beta1/namespaces/shop/podcertificaterequests/req-x',
    'GET /apis/certificates.k8s.io/v1beta1/namespaces/shop/podcertificaterequests/req-x',
    'PUT /apis/certificates.k8s.io/v1beta1/namespaces/shop/podcertificaterequests/req-x/status',
  ]);
  t.match(sent[2]?.body, { apiVersion: 'certificates.k8s.io/v1beta1' });
});

void t.test('an Event goes to the request\'s namespace and names it with the version in use', async (t) => {
  const { kube, sent } = recorder({ 'POST /api/v1/namespaces/shop/events': {} });
  const api = podCertificateRequestApi(kube, 'v1beta1', ['v1beta1'], 'replica-1');
  await api.createEvent({ pcr, type: 'Warning', reason: 'PodCertificateDenied', message: 'no', now: new Date('2026-01-02T03:04:05.678Z') });
  t.equal(sent[0]?.path, '/api/v1/namespaces/shop/events');
  t.match(sent[0]?.body, {
    apiVersion: 'v1', kind: 'Event', metadata: { generateName: 'req-x.', namespace: 'shop' },
    involvedObject: { apiVersion: 'certificates.k8s.io/v1beta1', kind: 'PodCertificateRequest', namespace: 'shop', name: 'req-x', uid: 'u-1' },
    type: 'Warning', reason: 'PodCertificateDenied', message: 'no', reportingComponent: 'csr-signer', reportingInstance: 'replica-1',
    firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:04:05Z', count: 1,
  });
});

void t.test('the Pod and the Namespace are read by name; a 404 is null, another error rejects', async (t) => {
  const pod = { metadata: { name: 'web', namespace: 'shop', uid: 'p-1' }, spec: { nodeName: 'worker-1', serviceAccountName: 'web' } };
  const { kube, sent } = recorder({ 'GET /api/v1/namespaces/shop/pods/web': pod, 'GET /api/v1/namespaces/shop': { metadata: { name: 'shop', labels: { a: 'b' } } } });
  const facts = podFactsApi(kube);
  t.same(await facts.getPod('shop', 'web'), pod);
  t.equal(await facts.getPod('shop', 'gone'), null);
  t.same(await facts.getNamespace('shop'), { metadata: { name: 'shop', labels: { a: 'b' } } });
  t.equal(await facts.getNamespace('nowhere'), null);
  t.same(sent.map((s) => s.path), ['/api/v1/namespaces/shop/pods/web', '/api/v1/namespaces/shop/pods/gone', '/api/v1/namespaces/shop', '/api/v1/namespaces/nowhere']);
  const failing: KubeHttp = { request: () => Promise.reject(new KubeApiError(403, 'Forbidden', 'no', undefined)), watch: () => Promise.resolve(), close: () => undefined };
  await t.rejects(podFactsApi(failing).getPod('shop', 'web'), { status: 403, message: /^no$/ });
});
