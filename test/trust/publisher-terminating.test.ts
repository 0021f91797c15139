/**
 * The trust publisher and a namespace being deleted, through the product's HTTP client
 * against devapi (which keeps a deleted namespace Terminating and refuses creates in it
 * with NamespaceLifecycle's 403, as kube-apiserver does). A Terminating namespace is
 * skipped: no create, no warning, no retry, one info line; if the create races the
 * deletion, the 403's NamespaceTerminating cause is recognised the same way; a namespace
 * created again under the same name gets its bundle. The publisher runs on a manual clock,
 * so a retry could only happen when the test moves it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { DevApi } from '../../devapi/server/server.js';
import { readBoundedText } from '../../src/files.js';
import { loadKubeConfig } from '../../src/kube/config.js';
import { kubeHttp } from '../../src/kube/http.js';
import type { WatchEvent } from '../../src/kube/resource.js';
import { trustApi, type Namespace, type TrustApi } from '../../src/kube/trust-api.js';
import { readCertificateBundle, type CaCertificate } from '../../src/pki/index.js';
import type { SignerConfig } from '../../src/signer/types.js';
import type { TrustResult } from '../../src/telemetry/observer.js';
import { TrustPublisher } from '../../src/trust/publisher.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { ManualClock } from '../helpers/clock.js';
import { control, devapiCall } from '../helpers/devapi.js';
import { needTool, tempDir } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

if (!needTool(t, 'openssl')) process.exit(0);

const SIGNER = 'example.com/serving';
const CM = 'example-trust';
const openssl = makeOpensslCa(tempDir('trust-terminating-'), 'a', 'p256');
const ca = readCertificateBundle({ name: openssl.certPath, bytes: Buffer.from(openssl.certPem) })[0] as CaCertificate;
const signer: SignerConfig = {
  name: SIGNER, source: 'test', ca: { certFile: 'unused', keyFile: 'unused' },
  defaultDurationMs: 3_600_000, maxDurationMs: 3_600_000, includeChain: false,
  trust: { configMap: { name: CM, key: 'ca.crt', namespaceSelector: { matchLabels: { trust: 'yes' } } } },
};

const stateDir = mkdtempSync(join(tmpdir(), 'devapi-trust-terminating-'));
/** Every request devapi served, as `METHOD path status`. */
const requests: string[] = [];
const devapi = new DevApi({
  stateDir, readText: readBoundedText, namespaceTerminationSeconds: 3600,
  log: (line) => { if (!line.startsWith('devapi:')) requests.push(line.split(' ').slice(0, 3).join(' ')); },
});
await devapi.start();
const kube = kubeHttp((await loadKubeConfig(devapi.kubeconfigPath('admin'), {})).endpoint);
t.teardown(async () => {
  kube.close();
  await devapi.stop();
});
const call = (method: string, path: string, body?: unknown): ReturnType<typeof devapiCall> => devapiCall({ url: devapi.url, stateDir }, 'admin', method, path, body);
const createNamespace = (name: string): ReturnType<typeof devapiCall> => call('POST', '/api/v1/namespaces', { metadata: { name, labels: { trust: 'yes' } } });
const posts = (namespace: string): string[] => requests.filter((r) => r.startsWith(`POST /api/v1/namespaces/${namespace}/configmaps`));

/**
 * The real API, with the namespace feed lagging behind for the names in `lagging`: their
 * MODIFIED events are not delivered, as an informer that has not caught up yet would be.
 */
function lagging(api: TrustApi, names: Set<string>): TrustApi {
  return {
    ...api,
    namespaces: {
      list: (options) => api.namespaces.list(options),
      watch: (rv, timeout, onEvent, signal) => api.namespaces.watch(rv, timeout, (e: WatchEvent<Namespace>) => {
        if (!(e.type === 'MODIFIED' && names.has(e.object.metadata.name))) onEvent(e);
      }, signal),
    },
  };
}

function start(t: Test, laggingFor: Set<string> = new Set()): { clock: ManualClock; seen: [string, TrustResult][]; lines: Record<string, unknown>[]; publisher: TrustPublisher } {
  const clock = new ManualClock(Date.now());
  const seen: [string, TrustResult][] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const ignore = (): void => undefined;
  const publisher = new TrustPublisher({
    signers: [signer], trust: () => [ca], api: lagging(trustApi(kube), laggingFor), logger, clock,
    observer: { issued: ignore, failed: ignore, conflict: ignore, retried: ignore, watchRestarted: ignore, caReloaded: ignore, trustPublished: (_s, target, result) => { seen.push([target, result]); } },
    resyncIntervalMs: 600_000, watchQuietTimeoutMs: 3_600_000,
    retry: { baseDelayMs: 100, maxDelayMs: 1_000, qps: 1000, burst: 1000 },
  });
  publisher.start();
  t.teardown(() => publisher.stop());
  return { clock, seen, lines, publisher };
}

const warnings = (lines: Record<string, unknown>[]): Record<string, unknown>[] => lines.filter((l) => Number(l.level) >= 40);
const skippedLines = (lines: Record<string, unknown>[], namespace: string): Record<string, unknown>[] =>
  lines.filter((l) => l.msg === 'namespace is being deleted; no trust bundle published there' && l.namespace === namespace);

void t.test('a namespace seen Terminating is skipped quietly, and one created again under its name is published to', async (t) => {
  await createNamespace('leaving');
  const s = start(t);
  await until(() => s.seen.some(([, r]) => r === 'created'), { what: 'the first ConfigMap' });
  t.equal((await call('DELETE', '/api/v1/namespaces/leaving/configmaps/example-trust')).code, 200, 'someone deletes the bundle');
  t.equal((await call('DELETE', '/api/v1/namespaces/leaving')).code, 200, 'and the namespace');
  await until(() => s.seen.some(([, r]) => r === 'skipped'), { what: 'the namespace skipped' });
  s.clock.advance(600_000); // a resync
  await until(() => s.seen.filter(([, r]) => r === 'skipped').length === 2, { what: 'the resync skipping it again' });
  s.clock.advance(10_000);
  t.same(posts('leaving'), ['POST /api/v1/namespaces/leaving/configmaps 201'], 'no create was tried in the Terminating namespace');
  t.same(warnings(s.lines), [], 'no warning');
  t.equal(skippedLines(s.lines, 'leaving').length, 1, 'one info line for the namespace');
  t.same(skippedLines(s.lines, 'leaving')[0]?.level, 30, 'at info');

  await control({ url: devapi.url, stateDir }, 'POST', '/devapi/v1/namespaces/finish-termination', {});
  await until(async () => (await call('GET', '/api/v1/namespaces/leaving')).code === 404, { what: 'the namespace gone' });
  await createNamespace('leaving');
  await until(() => posts('leaving').length === 2, { what: 'a create in the new namespace' });
  t.same(posts('leaving'), ['POST /api/v1/namespaces/leaving/configmaps 201', 'POST /api/v1/namespaces/leaving/configmaps 201'], 'the namespace created again gets its bundle');
  t.equal((await call('DELETE', '/api/v1/namespaces/leaving')).code, 200, 'deleted once more');
  await until(() => skippedLines(s.lines, 'leaving').length === 2, { what: 'the new namespace logged as skipped in its turn' });
  await control({ url: devapi.url, stateDir }, 'POST', '/devapi/v1/namespaces/finish-termination', {});
});

void t.test('a create that races the deletion gets the 403 with the NamespaceTerminating cause: skipped, not retried, no warning', async (t) => {
  await createNamespace('racing');
  const behind = new Set(['racing']);
  const s = start(t, behind);
  await until(() => posts('racing').length === 1, { what: 'the first ConfigMap' });
  await call('DELETE', '/api/v1/namespaces/racing/configmaps/example-trust');
  t.equal((await call('DELETE', '/api/v1/namespaces/racing')).code, 200, 'the namespace is deleted; the publisher has not seen it yet');
  s.publisher.caChanged(SIGNER);
  await until(() => posts('racing').length === 2, { what: 'the create the API refuses' });
  t.equal(posts('racing')[1], 'POST /api/v1/namespaces/racing/configmaps 403', 'refused: the namespace is being terminated');
  await until(() => s.seen.filter(([, r]) => r === 'skipped').length === 1, { what: 'the refusal counted as skipped' });
  for (let i = 0; i < 5; i++) {
    s.clock.advance(2_000); // past the longest retry delay, five times over
    await new Promise((resolve) => setImmediate(resolve));
  }
  await call('GET', '/version'); // one round trip for any retry already under way to show
  t.equal(posts('racing').length, 2, 'not retried');
  t.same(s.seen.filter(([, r]) => r === 'error'), [], 'not counted as an error');
  t.same(warnings(s.lines), [], 'no warning');
  t.equal(skippedLines(s.lines, 'racing').length, 1, 'one info line');
});
