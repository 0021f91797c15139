/**
 * TrustPublisher against an in-process TrustApi and a manual clock: the bundle
 * goes to a ConfigMap in each selected namespace (later ones too) and to a
 * signer-linked ClusterTrustBundle; objects without csr-signer's label are never
 * modified; CA changes re-publish; errors retry; a missing API is reported once.
 * The fake answers in microtasks and the clock moves only when told, so one
 * macrotask turn (`settle`) runs every pending step to its end.
 */
import { pino, type Logger } from 'pino';
import t, { type Test } from 'tap';
import { KubeApiError } from '../../src/kube/http.js';
import type { Observer, TrustResult, TrustTarget } from '../../src/telemetry/observer.js';
import type { ClusterTrustBundleVersion, ConfigMap } from '../../src/kube/trust-api.js';
import { managedLabel, signerAnnotation, TrustPublisher } from '../../src/trust/publisher.js';
import { readCertificateBundle, type CaCertificate } from '../../src/pki/index.js';
import type { SignerConfig } from '../../src/signer/types.js';
import { makeOpensslCa, type TestCa } from '../helpers/ca.js';
import { ManualClock } from '../helpers/clock.js';
import { until } from '../helpers/wait.js';
import { FakeTrustApi } from '../helpers/fake-trust-api.js';
import { needTool, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const SIGNER = 'example.com/serving';
const CM = 'example-trust';
const KEY = 'ca.crt';
const CTB = 'example.com:serving:bundle';
const RESYNC_MS = 600_000;
const BASE_DELAY_MS = 100;

const dir = tempDir('trust-publisher-');
const opensslA = makeOpensslCa(dir, 'a', 'p256');
const opensslB = makeOpensslCa(dir, 'b', 'p256');
const cert = (c: TestCa): CaCertificate => readCertificateBundle({ name: c.certPath, bytes: Buffer.from(c.certPem) })[0] as CaCertificate;
const caA = cert(opensslA);
const caB = cert(opensslB);
/** The bundle as openssl wrote it: an independent encoder of the same PEM. */
const pemA = opensslA.certPem;
const pemAB = opensslA.certPem + opensslB.certPem;

const serving: SignerConfig = {
  name: SIGNER, source: 'test', ca: { certFile: 'unused', keyFile: 'unused' },
  defaultDurationMs: 3_600_000, maxDurationMs: 3_600_000, includeChain: false,
  trust: {
    configMap: {
      name: CM, key: KEY,
      namespaceSelector: { matchLabels: { trust: 'yes' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] },
    },
    clusterTrustBundle: { name: CTB, labels: { 'example.com/bundle': 'serving' } },
  },
};
const configMapOnly: SignerConfig = { ...serving, trust: { configMap: { name: CM, key: KEY } } };
const bundleOnly: SignerConfig = { ...serving, trust: { clusterTrustBundle: { name: CTB, labels: {} } } };

type Seen = [string, TrustTarget, TrustResult];

interface Setup {
  readonly api: FakeTrustApi;
  readonly clock: ManualClock;
  readonly publisher: TrustPublisher;
  readonly seen: Seen[];
  readonly lines: Record<string, unknown>[];
  /** The signer's current trust bundle; change it, then call caChanged. */
  readonly bundles: Map<string, readonly CaCertificate[]>;
}

function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } }) };
}

function setup(t: Test, options: { api?: FakeTrustApi; signers?: SignerConfig[]; bundle?: readonly CaCertificate[] } = {}): Setup {
  const api = options.api ?? new FakeTrustApi();
  const clock = new ManualClock();
  const seen: Seen[] = [];
  const { logger, lines } = capture();
  const ignore = (): void => undefined;
  const observer: Observer = {
    issued: ignore, failed: ignore, conflict: ignore, retried: ignore, watchRestarted: ignore, caReloaded: ignore,
    trustPublished: (signer, target, result) => { seen.push([signer, target, result]); },
  };
  const signers = options.signers ?? [serving];
  const bundles = new Map<string, readonly CaCertificate[]>(signers.map((s) => [s.name, options.bundle ?? [caA]]));
  const publisher = new TrustPublisher({
    signers, trust: (name) => bundles.get(name) ?? [], api, logger, observer, clock,
    resyncIntervalMs: RESYNC_MS, watchQuietTimeoutMs: 3_600_000,
    retry: { baseDelayMs: BASE_DELAY_MS, maxDelayMs: 10_000, qps: 1000, burst: 1000 },
  });
  t.teardown(() => publisher.stop());
  return { api, clock, publisher, seen, lines, bundles };
}

/** One macrotask turn: every microtask chain the fake started has run to its end. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

async function started(s: Setup): Promise<void> {
  s.publisher.start();
  await until(() => s.publisher.synced && (s.api.count('listNamespaces') === 0 || s.api.openWatches === 1));
  await settle();
}

const configMapsIn = (api: FakeTrustApi): string[] => [...api.configMaps.keys()].filter((k) => k.endsWith(`/${CM}`)).map((k) => k.split('/')[0] ?? '').sort();
const results = (seen: Seen[], target: TrustTarget): TrustResult[] => seen.filter(([, tt]) => tt === target).map(([, , r]) => r);
const warnings = (lines: Record<string, unknown>[], msg: RegExp): Record<string, unknown>[] => lines.filter((l) => l['level'] === 40 && msg.test(String(l['msg'])));

// ------------------------------------------------------------------ ConfigMaps

void t.test('a ConfigMap is created in each namespace the selector matches and in no other', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('apps', { trust: 'yes' });
  api.putNamespace('prod', { trust: 'yes', env: 'prod' });
  api.putNamespace('dev', { trust: 'yes', env: 'dev' });
  api.putNamespace('plain');
  const s = setup(t, { api, signers: [serving] });
  await started(s);
  t.same(configMapsIn(api), ['apps', 'prod'], 'matchLabels and matchExpressions both applied');
  const cm = api.configMap('apps', CM);
  t.same(cm?.metadata.labels, { [managedLabel]: 'true' }, 'marked as csr-signer\'s');
  t.same(cm?.metadata.annotations, { [signerAnnotation]: SIGNER }, 'naming the signer');
  t.same(cm?.data, { [KEY]: pemA }, 'the PEM bundle under the configured key, byte for byte what openssl wrote');
  t.same(results(s.seen, 'configmap'), ['created', 'created']);
  t.equal(api.count('getConfigMap'), 2, 'unselected namespaces are not even read');
});

void t.test('without a namespaceSelector every namespace gets one', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('one');
  api.putNamespace('two', { env: 'dev' });
  const s = setup(t, { api, signers: [configMapOnly] });
  await started(s);
  t.same(configMapsIn(api), ['one', 'two']);
});

void t.test('a namespace being deleted is skipped: no create, no retry, one info line; a 403 without that cause is still an error', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('leaving', { trust: 'yes' });
  api.terminateNamespace('leaving');
  api.putNamespace('racing', { trust: 'yes' });
  api.failNext('createConfigMap', new KubeApiError(403, 'Forbidden', 'configmaps "example-trust" is forbidden: unable to create new content in namespace racing because it is being terminated', undefined, ['NamespaceTerminating']));
  const s = setup(t, { api });
  await started(s);
  t.same(results(s.seen, 'configmap'), ['skipped', 'skipped'], 'the Terminating namespace, and the one whose create was refused as terminating, are skipped');
  t.equal(api.count('createConfigMap'), 1, 'nothing is created in the Terminating namespace');
  s.clock.advance(RESYNC_MS / 2);
  await settle();
  t.equal(api.count('createConfigMap'), 1, 'the refused create is not retried');
  s.clock.advance(RESYNC_MS / 2);
  await settle();
  t.same(configMapsIn(api), ['racing'], 'the resync publishes where the namespace was not in fact going away, and still not in the Terminating one');
  const info = s.lines.filter((l) => l['msg'] === 'namespace is being deleted; no trust bundle published there');
  t.same(info.map((l) => [l['level'], l['namespace']]).sort(), [[30, 'leaving'], [30, 'racing']], 'one info line per namespace, not one per resync');

  api.failNext('createConfigMap', new KubeApiError(403, 'Forbidden', 'configmaps "example-trust" is forbidden: User "x" cannot create resource "configmaps"', undefined));
  api.putNamespace('denied', { trust: 'yes' });
  await settle();
  t.equal(results(s.seen, 'configmap').at(-1), 'error', 'a 403 for another reason is an error');
  t.equal(warnings(s.lines, /could not publish/).length, 1, 'and warned about, as the skips are not');
});

void t.test('a namespace created after start gets one (watch ADDED)', async (t) => {
  const s = setup(t);
  await started(s);
  t.same(configMapsIn(s.api), []);
  s.api.putNamespace('late', { trust: 'yes' });
  s.api.putNamespace('late-unselected', { env: 'dev' });
  await until(() => s.api.configMap('late', CM) !== undefined);
  await settle();
  t.same(configMapsIn(s.api), ['late']);
  t.same(s.api.configMap('late', CM)?.data, { [KEY]: pemA });
});

void t.test('a namespace whose labels change to match gets one (watch MODIFIED)', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('team', { trust: 'no' });
  const s = setup(t, { api });
  await started(s);
  t.same(configMapsIn(api), []);
  api.putNamespace('team', { trust: 'yes' });
  await until(() => api.configMap('team', CM) !== undefined);
  t.same(api.configMap('team', CM)?.data, { [KEY]: pemA });
});

const foreign: [string, Partial<ConfigMap['metadata']>, boolean?][] = [
  ['a ConfigMap without csr-signer\'s label', { labels: { app: 'theirs' } }],
  ['a ConfigMap whose label is not "true"', { labels: { [managedLabel]: 'false' }, annotations: { [signerAnnotation]: SIGNER } }],
  ['a ConfigMap with the label but no signer annotation', { labels: { [managedLabel]: 'true' } }],
  ['a ConfigMap labelled for another signer', { labels: { [managedLabel]: 'true' }, annotations: { [signerAnnotation]: 'example.com/other' } }],
  ['an immutable ConfigMap, even one csr-signer marked', { labels: { [managedLabel]: 'true' }, annotations: { [signerAnnotation]: SIGNER } }, true],
];

for (const [name, meta, immutable] of foreign) {
  void t.test(`${name} is never modified and counts not-owned, with one warning`, async (t) => {
    const api = new FakeTrustApi();
    api.putNamespace('apps', { trust: 'yes' });
    const before = api.putConfigMap({ metadata: { name: CM, namespace: 'apps', ...meta }, data: { [KEY]: 'their bundle', other: 'x' }, ...(immutable ? { immutable } : {}) });
    const s = setup(t, { api, signers: [configMapOnly] });
    await started(s);
    s.publisher.caChanged(SIGNER);
    await settle();
    s.clock.advance(RESYNC_MS);
    await settle();
    t.same(api.configMap('apps', CM), before, 'untouched, resourceVersion and all');
    t.same(api.writes, [], 'no write was even tried');
    t.same(results(s.seen, 'configmap'), ['not-owned', 'not-owned', 'not-owned'], 'counted at start, on the CA change and on the resync');
    t.match(warnings(s.lines, /without csr-signer's label; left alone/), [{ signer: SIGNER, target: 'configmap', namespace: 'apps', configMap: CM, label: managedLabel }]);
    t.equal(warnings(s.lines, /left alone/).length, 1, 'warned once, not every resync');
  });
}

void t.test('an owned ConfigMap with a stale bundle is updated, keeping its other keys and labels', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('apps', { trust: 'yes' });
  api.putConfigMap({
    metadata: { name: CM, namespace: 'apps', labels: { [managedLabel]: 'true', team: 'a' }, annotations: { [signerAnnotation]: SIGNER, note: 'n' } },
    data: { [KEY]: 'stale', 'service-ca.crt': 'kept' },
  });
  const s = setup(t, { api, signers: [configMapOnly] });
  await started(s);
  const cm = api.configMap('apps', CM);
  t.same(cm?.data, { [KEY]: pemA, 'service-ca.crt': 'kept' });
  t.same(cm?.metadata.labels, { [managedLabel]: 'true', team: 'a' });
  t.same(cm?.metadata.annotations, { [signerAnnotation]: SIGNER, note: 'n' });
  t.same(results(s.seen, 'configmap'), ['updated']);
  t.same(api.writes.map((w) => w.method), ['updateConfigMap']);
});

void t.test('an owned ConfigMap already up to date is not written', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('apps', { trust: 'yes' });
  api.putConfigMap({ metadata: { name: CM, namespace: 'apps', labels: { [managedLabel]: 'true' }, annotations: { [signerAnnotation]: SIGNER } }, data: { [KEY]: pemA } });
  const s = setup(t, { api, signers: [configMapOnly] });
  await started(s);
  t.same(api.writes, []);
  t.same(results(s.seen, 'configmap'), ['unchanged']);
});

// ------------------------------------------------------------------ changes, errors, resync

void t.test('caChanged() re-publishes the new bundle everywhere', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('one', { trust: 'yes' });
  api.putNamespace('two', { trust: 'yes' });
  const s = setup(t, { api });
  await started(s);
  t.same(api.configMap('one', CM)?.data, { [KEY]: pemA });
  s.bundles.set(SIGNER, [caA, caB]);
  s.publisher.caChanged(SIGNER);
  s.publisher.caChanged('example.com/not-publishing');
  await settle();
  t.same(api.configMap('one', CM)?.data, { [KEY]: pemAB }, 'both CAs, signing CA first');
  t.same(api.configMap('two', CM)?.data, { [KEY]: pemAB });
  t.equal(api.clusterTrustBundles.get(CTB)?.spec.trustBundle, pemAB);
  t.same(results(s.seen, 'configmap'), ['created', 'created', 'updated', 'updated']);
  t.same(results(s.seen, 'clustertrustbundle'), ['created', 'updated']);
});

void t.test('an API error retries the target after the backoff and then succeeds', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('apps', { trust: 'yes' });
  api.failNext('createConfigMap');
  const s = setup(t, { api, signers: [configMapOnly] });
  await started(s);
  t.same(results(s.seen, 'configmap'), ['error']);
  t.equal(api.configMap('apps', CM), undefined);
  t.match(warnings(s.lines, /could not publish trust bundle; will retry/), [{ signer: SIGNER, target: 'configmap', namespace: 'apps', err: { type: 'KubeApiError', message: 'injected', status: 500, stack: String }, retryInMs: BASE_DELAY_MS }]);
  s.clock.advance(BASE_DELAY_MS - 1);
  await settle();
  t.same(results(s.seen, 'configmap'), ['error'], 'not before the backoff');
  s.clock.advance(1);
  await settle();
  t.same(results(s.seen, 'configmap'), ['error', 'created']);
  t.same(api.configMap('apps', CM)?.data, { [KEY]: pemA });
});

void t.test('a Retry-After longer than the backoff is waited for', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('apps', { trust: 'yes' });
  api.failNext('getConfigMap', new KubeApiError(429, 'TooManyRequests', 'slow down', 5000));
  const s = setup(t, { api, signers: [configMapOnly] });
  await started(s);
  s.clock.advance(4999);
  await settle();
  t.same(results(s.seen, 'configmap'), ['error']);
  s.clock.advance(1);
  await settle();
  t.same(results(s.seen, 'configmap'), ['error', 'created']);
});

void t.test('a ConfigMap deleted by someone comes back on the resync', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('apps', { trust: 'yes' });
  const s = setup(t, { api, signers: [configMapOnly] });
  await started(s);
  api.configMaps.delete(`apps/${CM}`);
  s.clock.advance(RESYNC_MS);
  await settle();
  t.same(api.configMap('apps', CM)?.data, { [KEY]: pemA });
  t.same(results(s.seen, 'configmap'), ['created', 'created']);
});

void t.test('a signer with no CA yet publishes nothing, then publishes once the store has one', async (t) => {
  const api = new FakeTrustApi();
  api.putNamespace('apps', { trust: 'yes' });
  const s = setup(t, { api, bundle: [] });
  await started(s);
  t.same(api.writes, []);
  t.same(s.seen, []);
  s.bundles.set(SIGNER, [caB]);
  s.publisher.caChanged(SIGNER);
  await settle();
  t.same(api.configMap('apps', CM)?.data, { [KEY]: opensslB.certPem });
  t.equal(api.clusterTrustBundles.get(CTB)?.spec.trustBundle, opensslB.certPem);
});

// ------------------------------------------------------------------ ClusterTrustBundle

void t.test('the ClusterTrustBundle is created with its name, signerName, PEM and labels', async (t) => {
  const s = setup(t, { signers: [serving], bundle: [caA, caB] });
  await started(s);
  const ctb = s.api.clusterTrustBundles.get(CTB);
  t.equal(ctb?.metadata.name, CTB);
  t.equal(ctb?.spec.signerName, SIGNER);
  t.equal(ctb?.spec.trustBundle, pemAB);
  t.same(ctb?.metadata.labels, { 'example.com/bundle': 'serving', [managedLabel]: 'true' });
  t.same(ctb?.metadata.annotations, { [signerAnnotation]: SIGNER });
  t.same(results(s.seen, 'clustertrustbundle'), ['created']);
});

void t.test('a ClusterTrustBundle without csr-signer\'s label is never modified', async (t) => {
  const api = new FakeTrustApi();
  const before = api.putClusterTrustBundle({ metadata: { name: CTB }, spec: { signerName: SIGNER, trustBundle: 'theirs' } });
  const s = setup(t, { api, signers: [bundleOnly] });
  await started(s);
  t.same(api.clusterTrustBundles.get(CTB), before);
  t.same(api.writes, []);
  t.same(results(s.seen, 'clustertrustbundle'), ['not-owned']);
  t.match(warnings(s.lines, /left alone/), [{ target: 'clustertrustbundle', clusterTrustBundle: CTB }]);
});

void t.test('an owned ClusterTrustBundle with a stale bundle or missing labels is updated', async (t) => {
  const api = new FakeTrustApi();
  api.putClusterTrustBundle({
    metadata: { name: CTB, labels: { [managedLabel]: 'true', keep: 'me' }, annotations: { [signerAnnotation]: SIGNER } },
    spec: { signerName: SIGNER, trustBundle: pemA },
  });
  const s = setup(t, { api, signers: [serving], bundle: [caA] });
  await started(s);
  t.same(api.clusterTrustBundles.get(CTB)?.metadata.labels, { [managedLabel]: 'true', keep: 'me', 'example.com/bundle': 'serving' }, 'the configured label added');
  s.bundles.set(SIGNER, [caB, caA]);
  s.publisher.caChanged(SIGNER);
  await settle();
  t.equal(api.clusterTrustBundles.get(CTB)?.spec.trustBundle, opensslB.certPem + opensslA.certPem);
  t.same(results(s.seen, 'clustertrustbundle'), ['updated', 'updated']);
  s.publisher.caChanged(SIGNER);
  await settle();
  t.same(results(s.seen, 'clustertrustbundle'), ['updated', 'updated', 'unchanged']);
});

void t.test('when the ClusterTrustBundle API is not served nothing is written, unavailable is counted and one warning logged', async (t) => {
  const api = new FakeTrustApi();
  api.served = false;
  const s = setup(t, { api, signers: [bundleOnly] });
  await started(s);
  s.publisher.caChanged(SIGNER);
  await settle();
  s.clock.advance(RESYNC_MS);
  await settle();
  t.same(api.writes, []);
  t.equal(api.count('getClusterTrustBundle'), 0, 'not even read');
  t.same(results(s.seen, 'clustertrustbundle'), ['unavailable', 'unavailable', 'unavailable']);
  t.equal(api.count('clusterTrustBundlesServed'), 2, 'asked at start and again after a resync interval, not per publish');
  t.match(warnings(s.lines, /ClusterTrustBundle API is not served/), [{ api: ['certificates.k8s.io/v1', 'certificates.k8s.io/v1beta1'] }]);
  t.equal(warnings(s.lines, /not served/).length, 1, 'one warning');
  api.served = true;
  s.clock.advance(RESYNC_MS);
  await settle();
  t.equal(api.clusterTrustBundles.get(CTB)?.spec.trustBundle, pemA, 'published once the API is served');
  t.same(results(s.seen, 'clustertrustbundle').at(-1), 'created');
});

const infos = (lines: Record<string, unknown>[], msg: RegExp): Record<string, unknown>[] => lines.filter((l) => l['level'] === 30 && msg.test(String(l['msg'])));

const versionCases: { name: string; served: ClusterTrustBundleVersion[]; via: ClusterTrustBundleVersion | undefined }[] = [
  { name: 'publishes through v1 when only v1 is served (Kubernetes 1.37 and later, by default)', served: ['v1'], via: 'v1' },
  { name: 'publishes through v1beta1 when only v1beta1 is served (Kubernetes 1.33 to 1.36 with the beta API on)', served: ['v1beta1'], via: 'v1beta1' },
  { name: 'prefers v1 when both are served', served: ['v1', 'v1beta1'], via: 'v1' },
  { name: 'reports unavailable and writes nothing when neither is served', served: [], via: undefined },
];
for (const c of versionCases) {
  void t.test(c.name, async (t) => {
    const api = new FakeTrustApi();
    api.servedVersions = c.served;
    const s = setup(t, { api, signers: [bundleOnly] });
    await started(s);
    if (c.via === undefined) {
      t.same(results(s.seen, 'clustertrustbundle'), ['unavailable']);
      t.same(api.clusterTrustBundleCalls, [], 'not even read');
      t.equal(warnings(s.lines, /not served/).length, 1);
      return;
    }
    t.same(results(s.seen, 'clustertrustbundle'), ['created']);
    t.same(api.clusterTrustBundleCalls, [{ method: 'getClusterTrustBundle', version: c.via }, { method: 'createClusterTrustBundle', version: c.via }]);
    t.equal(api.clusterTrustBundles.get(CTB)?.spec.trustBundle, pemA);
    t.match(infos(s.lines, /through this API version/), [{ api: `certificates.k8s.io/${c.via}` }], 'the version in use is logged once');
    t.match(infos(s.lines, /trust bundle published/), [{ clusterTrustBundle: CTB, api: `certificates.k8s.io/${c.via}` }]);
    t.equal(warnings(s.lines, /not served/).length, 0);
  });
}

void t.test('an upgrade that turns v1beta1 off and v1 on is followed at once: the 404 sends the retry back to discovery', async (t) => {
  const api = new FakeTrustApi();
  api.servedVersions = ['v1beta1'];
  const s = setup(t, { api, signers: [bundleOnly] });
  await started(s);
  t.same(results(s.seen, 'clustertrustbundle'), ['created']);
  api.servedVersions = ['v1'];
  s.bundles.set(SIGNER, [caB, caA]);
  s.publisher.caChanged(SIGNER);
  await settle();
  t.same(results(s.seen, 'clustertrustbundle'), ['created', 'error'], 'the read through v1beta1 is a 404');
  s.clock.advance(BASE_DELAY_MS);
  await settle();
  t.same(results(s.seen, 'clustertrustbundle'), ['created', 'error', 'updated'], 'the retry asks discovery again, long before the next resync');
  t.equal(api.count('clusterTrustBundlesServed'), 2);
  t.same(api.clusterTrustBundleCalls.slice(-2), [{ method: 'getClusterTrustBundle', version: 'v1' }, { method: 'updateClusterTrustBundle', version: 'v1' }]);
  t.equal(api.clusterTrustBundles.get(CTB)?.spec.trustBundle, opensslB.certPem + opensslA.certPem, 'the object written through v1beta1 is updated through v1');
  t.match(infos(s.lines, /through this API version/), [{ api: 'certificates.k8s.io/v1beta1' }, { api: 'certificates.k8s.io/v1' }]);
});

// ------------------------------------------------------------------ stop

void t.test('stop() ends the workers, the watch and every timer; later changes publish nothing', async (t) => {
  const api = new FakeTrustApi();
  api.failNext('createConfigMap');
  api.putNamespace('apps', { trust: 'yes' });
  const s = setup(t, { api, signers: [configMapOnly] });
  await started(s);
  t.same(results(s.seen, 'configmap'), ['error'], 'a retry is pending');
  await s.publisher.stop();
  t.equal(api.openWatches, 0, 'the namespace watch is closed');
  t.equal(s.clock.pending, 0, 'no resync, retry or watchdog timer left');
  const calls = api.calls.length;
  api.putNamespace('late', { trust: 'yes' });
  s.publisher.caChanged(SIGNER);
  s.clock.advance(RESYNC_MS);
  await settle();
  t.equal(api.calls.length, calls, 'no API call after stop');
  t.same(configMapsIn(api), []);
});

void t.test('with only a ClusterTrustBundle target no namespace is listed or watched, and it is synced at once', async (t) => {
  const s = setup(t, { signers: [bundleOnly] });
  t.ok(s.publisher.synced);
  s.publisher.start();
  await settle();
  t.equal(s.api.count('listNamespaces', 'watchNamespaces'), 0);
  t.ok(s.api.clusterTrustBundles.has(CTB));
});

void t.test('two signers with ClusterTrustBundles on a server without the API: each counts unavailable, one warning', async (t) => {
  const api = new FakeTrustApi();
  api.served = false;
  const other: SignerConfig = { ...bundleOnly, name: 'example.com/other', trust: { clusterTrustBundle: { name: 'example.com:other:bundle', labels: {} } } };
  const s = setup(t, { api, signers: [bundleOnly, other] });
  await started(s);
  t.same(results(s.seen, 'clustertrustbundle'), ['unavailable', 'unavailable']);
  t.equal(warnings(s.lines, /not served/).length, 1, 'one warning, though both workers asked at once');
  t.same(api.writes, []);
});
