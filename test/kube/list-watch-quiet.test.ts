/**
 * A quiet watch on a cluster that sends no bookmarks: devapi with bookmarks off, its
 * watch timeouts and the ListWatch on one manual clock. Each watch asks for a
 * server-side timeout (client-go's reflector's 5–10 minutes) and devapi ends it there;
 * the ListWatch watches again from the same version with no restart, no warning, and
 * /readyz's watch-active check passing throughout, however long nothing changes and
 * however often Leases elsewhere move the global resourceVersion.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { DevApi } from '../../devapi/server/server.js';
import { readBoundedText } from '../../src/files.js';
import { readinessChecks } from '../../src/http/health.js';
import { loadKubeConfig } from '../../src/kube/config.js';
import { kubeHttp } from '../../src/kube/http.js';
import { ListWatch } from '../../src/kube/list-watch.js';
import { trustApi, type Namespace } from '../../src/kube/trust-api.js';
import { signerStates } from '../../src/telemetry/snapshot.js';
import { ManualClock } from '../helpers/clock.js';
import { devapiCall } from '../helpers/devapi.js';
import { until } from '../helpers/wait.js';

const QUIET_MS = 300_000;
const clock = new ManualClock(Date.now());
const stateDir = mkdtempSync(join(tmpdir(), 'devapi-quiet-watch-'));
/** The watch requests devapi served: path and query. */
const watches: string[] = [];
const devapi = new DevApi({
  stateDir, readText: readBoundedText, timers: clock, watchBookmarks: false, progressNotifyIntervalMs: 0,
  log: (line) => { if (line.startsWith('GET /api/v1/namespaces?') && line.includes('watch=1')) watches.push(line.split(' ')[1] ?? ''); },
});
await devapi.start();
const kube = kubeHttp((await loadKubeConfig(devapi.kubeconfigPath('admin'), {})).endpoint);
t.teardown(async () => {
  kube.close();
  await devapi.stop();
});

/** The watch-active readiness check of a snapshot built from `source`, as the sidecar builds it. */
function watchActive(source: ListWatch<Namespace>): string | undefined {
  const now = new Date(clock.now());
  const signers = signerStates({
    now, signers: ['example.com/serving'], csrs: [], ca: () => ({ ca: { subject: 'CN=x', notAfter: new Date(now.getTime() + 86_400_000) } }),
    trust: () => [], latest: new Map(), watch: () => source,
  });
  const snapshot = { now, signers, leader: { enabled: false, leading: true, renewDeadlineMs: 10_000, identity: 'x' }, watchQuietTimeoutMs: QUIET_MS, queueDepth: 0, stopping: false };
  const check = readinessChecks(snapshot).find((c) => c.name.startsWith('watch-active:'));
  return check ? check.failure ?? 'ok' : 'missing';
}

void t.test('a watch nothing happens on is ended by the server at the timeout it asked for and watched again silently; /readyz stays ready', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const restarts: string[] = [];
  const source = new ListWatch<Namespace>({
    feed: trustApi(kube).namespaces, cache: { set: () => undefined, delete: () => undefined }, logFields: { watch: 'namespaces' },
    logger: pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } }),
    onChange: () => undefined, onRestart: (reason) => restarts.push(reason),
    quietTimeoutMs: QUIET_MS, clock, random: () => 0.5, // every watch asks for 450 s
  });
  source.start();
  t.teardown(() => source.stop());
  await until(() => source.synced && devapi.watches.size === 1, { what: 'the first watch' });
  let renewals = 0;
  for (let cycle = 1; cycle <= 4; cycle++) {
    // A Lease elsewhere renews: the global resourceVersion moves, the namespaces do not.
    const lease = `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/elsewhere-${cycle}`;
    await devapiCall({ url: devapi.url, stateDir }, 'admin', 'PUT', lease, { metadata: { name: `elsewhere-${cycle}` }, spec: { holderIdentity: `x${renewals++}` } });
    clock.advance(449_000);
    await new Promise((resolve) => setImmediate(resolve));
    t.equal(watchActive(source), 'ok', `cycle ${cycle}: ready 449 s into a silent watch`);
    clock.advance(1_000);
    await until(() => watches.length === cycle + 1 && devapi.watches.size === 1, { what: `watch ${cycle + 1}` });
    t.equal(watchActive(source), 'ok', `cycle ${cycle}: ready once watching again`);
  }
  t.same(restarts, [], 'no restart of any kind');
  t.same(lines.filter((l) => Number(l.level) >= 40), [], 'no warning');
  t.equal(lines.filter((l) => l.msg === 'watch ended by the server; watching again').length, 4, 'each end logged at debug');
  const versions = new Set(watches.map((w) => new URLSearchParams(w.split('?')[1]).get('resourceVersion')));
  t.equal(versions.size, 1, 'every watch resumes from the listed version');
  t.ok(watches.every((w) => new URLSearchParams(w.split('?')[1]).get('timeoutSeconds') === '450'), 'every watch asks for its timeout');
});
