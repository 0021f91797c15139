import { pino } from 'pino';
import t from 'tap';
import { ObjectCache, isNewer } from '../../src/controller/cache.js';
import { signerFeed } from '../../src/kube/csr-api.js';
import { ListWatch } from '../../src/kube/list-watch.js';
import type { Csr } from '../../src/signer/types.js';
import { KubeApiError } from '../../src/kube/http.js';
import { bareCsr } from '../helpers/csr.js';
import { ManualClock } from '../helpers/clock.js';
import { until } from '../helpers/wait.js';
import { FakeCsrApi } from '../helpers/fake-csr-api.js';
import { FakeResource } from '../helpers/fake-resource.js';

const logger = pino({ level: 'silent' });

/** One macrotask turn: every microtask chain under way has run to its end. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

function setup(api: FakeCsrApi, quietTimeoutMs = 60_000, clock?: ManualClock) {
  const cache = new ObjectCache<Csr>();
  const changed: string[] = [];
  const restarts: string[] = [];
  const deleted: string[] = [];
  const source = new ListWatch<Csr>({
    feed: signerFeed(api, 'example.com/serving'), logFields: { signer: 'example.com/serving' }, cache, logger, quietTimeoutMs, listPageSize: 2,
    onChange: (name) => changed.push(name), onRestart: (reason) => restarts.push(reason), random: () => 0,
    onDelete: (name) => deleted.push(name), ...(clock ? { clock } : {}),
  });
  return { cache, changed, restarts, deleted, source };
}

void t.test('resourceVersions compare as integers, and an older object never replaces a newer one', (t) => {
  t.ok(isNewer('10', '9'));
  t.notOk(isNewer('9', '10'));
  t.ok(isNewer('10', '10'));
  t.ok(isNewer('opaque', '10'), 'non-integers: the latest delivery wins');
  const cache = new ObjectCache<Csr>();
  cache.set({ ...bareCsr('a'), metadata: { name: 'a', resourceVersion: '12' } });
  t.notOk(cache.set({ ...bareCsr('a'), metadata: { name: 'a', resourceVersion: '11' } }));
  t.equal(cache.get('a')?.metadata.resourceVersion, '12');
  t.end();
});

void t.test('lists every page of its own signer only, then reports each name and is synced', async (t) => {
  const api = new FakeCsrApi();
  for (const n of ['a', 'b', 'c', 'd', 'e']) api.put(bareCsr(n));
  api.put(bareCsr('other', 'example.com/other'));
  const { cache, changed, source } = setup(api);
  source.start();
  await until(() => source.synced);
  t.same(changed.sort(), ['a', 'b', 'c', 'd', 'e']);
  t.notOk(cache.get('other'), 'another signer\'s CSR is never cached');
  t.equal(api.calls.filter((c) => c === 'list').length, 3, 'pages of 2');
  await until(() => api.openWatches === 1);
  await source.stop();
  t.equal(api.openWatches, 0);
});

void t.test('watch events after the list update the cache; deletes remove', async (t) => {
  const api = new FakeCsrApi();
  const { cache, changed, source } = setup(api);
  source.start();
  await until(() => api.openWatches === 1);
  api.put(bareCsr('new'));
  await until(() => changed.includes('new'));
  t.ok(cache.get('new'));
  api.remove('new');
  await until(() => !cache.get('new'));
  await source.stop();
});

void t.test('a closed watch resumes from the last resourceVersion without relisting or losing events', async (t) => {
  const api = new FakeCsrApi();
  api.put(bareCsr('a'));
  const clock = new ManualClock();
  const { changed, source, restarts } = setup(api, 60_000, clock);
  source.start();
  await until(() => api.openWatches === 1);
  clock.advance(1_000);
  api.closeWatches();
  api.put(bareCsr('while-closed'));
  await until(() => changed.includes('while-closed'));
  t.equal(api.calls.filter((c) => c === 'list').length, 1, 'no relist');
  t.same(restarts, [], 'a clean end of a watch is not a failure');
  await source.stop();
});

void t.test('410 Gone on resume relists, and objects deleted meanwhile leave the cache', async (t) => {
  const api = new FakeCsrApi();
  api.put(bareCsr('a'));
  api.put(bareCsr('b'));
  const { cache, source, restarts, deleted } = setup(api);
  source.start();
  await until(() => api.openWatches === 1);
  api.compactedBefore = 10_000;
  api.closeWatches();
  // b is deleted while no watch is open, and its DELETED event is lost to the compaction.
  const b = api.objects.get('b');
  api.objects.delete('b');
  await until(() => restarts.includes('gone'));
  api.compactedBefore = 0;
  await until(() => api.calls.filter((c) => c === 'list').length >= 2 && api.openWatches === 1);
  t.ok(b);
  t.notOk(cache.get('b'), 'the relist dropped b');
  t.same(deleted, ['b'], 'and said so');
  t.ok(cache.get('a'));
  await source.stop();
});

void t.test('a failing watch is retried with backoff and counted as a restart', async (t) => {
  const api = new FakeCsrApi();
  const { source, restarts } = setup(api);
  api.failNext('watch', new KubeApiError(503, 'ServiceUnavailable', 'try later', undefined));
  source.start();
  await until(() => api.openWatches === 1);
  t.same(restarts, ['error']);
  await source.stop();
});

void t.test('a watch silent past the end it asked the server for, plus the quiet timeout, is restarted by the watchdog; silence before that is normal', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock();
  // random 0: the watch asks for timeoutSeconds=300; the fake never ends it (a hung connection).
  const { source, restarts, changed } = setup(api, 60_000, clock);
  api.silent = true;
  source.start();
  await until(() => api.openWatches === 1);
  t.same(api.watchTimeouts, [300], 'the watch asks the server to end it after 300 s');
  clock.advance(300_000 + 59_999);
  await settle();
  t.same(restarts, [], 'silent until its own end and for less than the quiet timeout after: left alone');
  t.equal(clock.now() - source.quietSince, 59_999, 'and counted quiet only from its own end');
  clock.advance(1);
  await until(() => restarts.includes('quiet'));
  t.same(restarts, ['quiet'], 'one minute past its own end: restarted');
  api.silent = false;
  api.put(bareCsr('after'));
  await until(() => changed.includes('after'));
  await source.stop();
});

void t.test('a watch ERROR event with 410 relists', async (t) => {
  const api = new FakeCsrApi();
  const { source, restarts } = setup(api);
  source.start();
  await until(() => api.openWatches === 1);
  api.closeWatches(new KubeApiError(410, 'Expired', 'gone', undefined));
  await until(() => restarts.includes('gone') && api.openWatches === 1);
  t.equal(api.calls.filter((c) => c === 'list').length, 2);
  await source.stop();
});

void t.test('a watch the server ends cleanly within a second with no events is a failure, backed off, and not activity', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock(5_000);
  const warnings: Record<string, unknown>[] = [];
  const restarts: string[] = [];
  const changed: string[] = [];
  const source = new ListWatch<Csr>({
    feed: signerFeed(api, 'example.com/serving'), logFields: { signer: 'example.com/serving' }, cache: new ObjectCache<Csr>(),
    logger: pino({ level: 'warn' }, { write: (line: string) => { warnings.push(JSON.parse(line) as Record<string, unknown>); } }),
    quietTimeoutMs: 60_000, onChange: (name) => changed.push(name), onRestart: (reason) => restarts.push(reason), random: () => 0, clock,
  });
  source.start();
  await until(() => api.openWatches === 1);
  const watches = (): number => api.calls.filter((c) => c === 'watch').length;
  t.equal(source.lastActivity, 5_000, 'the list');
  clock.advance(999);
  api.closeWatches();
  await until(() => restarts.length === 1);
  await settle();
  t.same(restarts, ['error'], '999 ms and nothing delivered: a failure');
  t.equal(source.lastActivity, 5_000, 'and not activity');
  t.equal(watches(), 1, 'no new watch at once');
  t.match(warnings, [{ signer: 'example.com/serving', failures: 1, retryInMs: 250, msg: /very short watch: the server ended it after 999 ms with no events/ }], 'a warning naming it');
  clock.advance(249);
  await settle();
  t.equal(watches(), 1, 'nor before the backoff');
  clock.advance(1);
  await until(() => api.openWatches === 1);
  api.closeWatches();
  await until(() => restarts.length === 2);
  t.equal(warnings[1]?.retryInMs, 500, 'the backoff grows: failures are not reset by a very short watch');
  clock.advance(500);
  await until(() => api.openWatches === 1);
  // A short watch that delivered something, and a long silent one, are normal ends.
  api.put(bareCsr('x'));
  await until(() => changed.includes('x'));
  api.closeWatches();
  await until(() => watches() === 4 && api.openWatches === 1);
  clock.advance(1_000);
  api.closeWatches();
  await until(() => watches() === 5 && api.openWatches === 1);
  t.equal(restarts.length, 2, 'neither is a failure');
  t.equal(source.lastActivity, clock.now(), 'the clean end of the long one is activity');
  await source.stop();
});

void t.test('watches the server keeps ending at once turn readiness red after the quiet timeout and keep it red, while each asks for a new end', async (t) => {
  const api = new FakeCsrApi();
  const clock = new ManualClock(5_000);
  const source = new ListWatch<Csr>({
    feed: signerFeed(api, 'example.com/serving'), logFields: { signer: 'example.com/serving' }, cache: new ObjectCache<Csr>(),
    logger: pino({ level: 'silent' }), quietTimeoutMs: 60_000, onChange: () => undefined, random: () => 0, clock,
  });
  source.start();
  await until(() => api.openWatches === 1);
  const silentFor = (): number => clock.now() - source.readySince;
  // A healthy open watch: its own end is ahead, so it is not silent.
  t.ok(silentFor() < 0, 'an open watch is not silent before the end it asked for');
  let opened = 1;
  let redWhileOpen = 0;
  // The server ends every watch at once, for three minutes of backoffs.
  while (clock.now() < 5_000 + 180_000) {
    api.closeWatches();
    await until(() => api.openWatches === 0);
    clock.advance(30_000);
    await until(() => api.openWatches === 1 && api.calls.filter((c) => c === 'watch').length === opened + 1);
    opened++;
    if (clock.now() - 5_000 > 60_000) {
      t.ok(source.quietSince > clock.now(), 'the open watch alone would say all is well');
      if (silentFor() > 60_000) redWhileOpen++;
    }
  }
  t.ok(redWhileOpen >= 3, `past the quiet timeout, not ready at every attempt (${redWhileOpen})`);
  // A watch that stays open a second is established: ready again.
  clock.advance(1_000);
  t.ok(silentFor() < 0, 'a watch open a second is healthy again');
  await source.stop();
});

void t.test('a namespaced kind is keyed namespace/name: two objects of one name in two namespaces are two entries', async (t) => {
  interface Item { metadata: { name: string; namespace: string; resourceVersion?: string } }
  const store = new FakeResource<Item>('podcertificaterequests', undefined, (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  const cache = new ObjectCache<Item>();
  const changed: string[] = [];
  const deleted: string[] = [];
  const source = new ListWatch<Item>({
    feed: { list: (page) => Promise.resolve(store.list(page)), watch: (rv, _timeout, onEvent, signal) => store.watch(rv, onEvent, signal) },
    logFields: {}, cache, logger, quietTimeoutMs: 60_000, random: () => 0,
    onChange: (key) => changed.push(key), onDelete: (key) => deleted.push(key),
  });
  store.put({ metadata: { name: 'req', namespace: 'a' } });
  source.start();
  await until(() => store.openWatches === 1);
  store.put({ metadata: { name: 'req', namespace: 'b' } });
  await until(() => changed.includes('b/req'));
  t.same(changed, ['a/req', 'b/req']);
  t.equal(cache.get('a/req')?.metadata.namespace, 'a');
  t.equal(cache.get('b/req')?.metadata.namespace, 'b');
  t.equal(cache.size, 2);
  store.remove('a/req');
  await until(() => deleted.length === 1);
  t.same(deleted, ['a/req']);
  t.notOk(cache.get('a/req'));
  t.ok(cache.get('b/req'), 'the other namespace\'s object stays');
  await source.stop();
});
