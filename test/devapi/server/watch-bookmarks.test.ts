/**
 * Bookmarks as kube-apiserver's watch cache sends them (apiserver pkg/storage/cacher/
 * cache_watcher.go nextBookmarkTime and process, cacher.go dispatchEvents): offered every
 * minute and 2 s before the watch's deadline, only to a watch that asked, and only with a
 * version past the watch's start — the version the resource's cache has seen, so Lease
 * renewals elsewhere never make a quiet resource's watch get one until a progress
 * notification moves its cache. devapi can send none at all. Watch timeouts and bookmarks
 * run on a manual clock; every absence is checked against a later event on the same
 * stream, never against a wait.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi, type DevApiOptions } from '../../../devapi/server/server.js';
import { ManualClock } from '../../helpers/clock.js';
import { devapiCall } from '../../helpers/devapi.js';
import { until } from '../../helpers/wait.js';

interface Event { readonly type: string; readonly name?: string; readonly rv: string }

async function startApi(t: Test, options: Partial<DevApiOptions> = {}): Promise<{ api: DevApi; clock: ManualClock; stateDir: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'devapi-bookmarks-'));
  const clock = new ManualClock(Date.now());
  const api = new DevApi({ stateDir, readText: readBoundedText, timers: clock, progressNotifyIntervalMs: 0, ...options });
  await api.start();
  t.teardown(() => api.stop());
  return { api, clock, stateDir };
}

function calls(api: DevApi, stateDir: string): (method: string, path: string, body?: unknown) => Promise<{ code: number; body: Record<string, unknown> }> {
  return (method, path, body) => devapiCall({ url: api.url, stateDir }, 'admin', method, path, body);
}

/** A raw watch: its events in order and whether the server has ended it. */
async function openWatch(api: DevApi, stateDir: string, query: string): Promise<{ events: Event[]; ended: () => boolean; stop: () => void }> {
  const tokens = JSON.parse(readFileSync(join(stateDir, 'tokens.json'), 'utf8')) as Record<string, string>;
  const events: Event[] = [];
  let ended = false;
  const before = api.watches.size;
  const req = request(`${api.url}/api/v1/namespaces/default/configmaps?watch=true&${query}`, { ca: readFileSync(join(stateDir, 'ca.pem')), headers: { Authorization: `Bearer ${tokens.admin ?? ''}` } }, (res) => {
    let pending = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      pending += d;
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        const e = JSON.parse(pending.slice(0, i)) as { type: string; object: { metadata: { name?: string; resourceVersion: string } } };
        events.push({ type: e.type, rv: e.object.metadata.resourceVersion, ...(e.object.metadata.name ? { name: e.object.metadata.name } : {}) });
        pending = pending.slice(i + 1);
      }
    });
    res.on('end', () => { ended = true; });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  await until(() => api.watches.size > before, { what: 'the watch registered' });
  return { events, ended: () => ended, stop: () => req.destroy() };
}

const bookmarks = (events: readonly Event[]): string[] => events.filter((e) => e.type === 'BOOKMARK').map((e) => e.rv);

void t.test('a quiet resource gets no bookmark however many Leases renew; after a progress notification it gets the current version, every minute and 2 s before the deadline', async (t) => {
  const { api, clock, stateDir } = await startApi(t);
  const call = calls(api, stateDir);
  const start = ((await call('GET', '/api/v1/namespaces/default/configmaps')).body.metadata as { resourceVersion: string }).resourceVersion;
  const w = await openWatch(api, stateDir, `resourceVersion=${start}&allowWatchBookmarks=true&timeoutSeconds=600`);
  t.teardown(w.stop);
  let renewals = 0;
  const renewLease = async (): Promise<void> => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/elsewhere';
    const body = { metadata: { name: 'elsewhere' }, spec: { holderIdentity: 'x', renewTime: `2026-01-01T00:00:0${renewals++ % 10}.000000Z` } };
    if ((await call('PUT', path, body)).code !== 201) {
      const current = (await call('GET', path)).body as { metadata: { resourceVersion: string } };
      await call('PUT', path, { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } });
    }
  };
  for (let minute = 1; minute <= 5; minute++) {
    await renewLease();
    clock.advance(60_000);
  }
  await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'marker-1' } });
  await until(() => w.events.some((e) => e.name === 'marker-1'), { what: 'the marker event' });
  t.same(w.events.map((e) => e.type), ['ADDED'], 'five minutes of Lease renewals: no bookmark before the marker');
  const markerRv = w.events[0]?.rv ?? '';

  await renewLease();
  clock.advance(60_000); // minute 6: the cache has seen the marker, and nothing of this resource since
  await until(() => bookmarks(w.events).length === 1, { what: 'the minute-6 bookmark' });
  t.same(bookmarks(w.events), [markerRv], 'the bookmark carries the resource\'s own last version, not the Lease\'s');

  await renewLease();
  const progressed = (await call('POST', '/devapi/v1/progress', {})).body as { resourceVersion: string };
  clock.advance(60_000); // minute 7
  await until(() => bookmarks(w.events).length === 2, { what: 'the minute-7 bookmark' });
  t.equal(bookmarks(w.events)[1], progressed.resourceVersion, 'after a progress notification: the current version');

  clock.advance(2 * 60_000 + 58_000); // minutes 8 and 9, then 9:58, 2 s before the deadline
  await until(() => bookmarks(w.events).length === 5, { what: 'the bookmarks up to the pre-timeout one' });
  t.notOk(w.ended(), 'the watch is still open at 9:58');
  clock.advance(2_000);
  await until(() => w.ended(), { what: 'the watch ended at its timeout' });
  t.equal(bookmarks(w.events).length, 5, 'minutes 6, 7, 8 and 9, and 9:58');
});

void t.test('a watch shorter than a minute gets its one bookmark 2 s before the deadline; one of less than 2 s gets none', async (t) => {
  const { api, clock, stateDir } = await startApi(t);
  const call = calls(api, stateDir);
  const start = ((await call('GET', '/api/v1/namespaces/default/configmaps')).body.metadata as { resourceVersion: string }).resourceVersion;
  const w = await openWatch(api, stateDir, `resourceVersion=${start}&allowWatchBookmarks=true&timeoutSeconds=30`);
  const short = await openWatch(api, stateDir, `resourceVersion=${start}&allowWatchBookmarks=true&timeoutSeconds=1`);
  await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'changed' } });
  await until(() => w.events.length === 1 && short.events.length === 1, { what: 'both watches seeing the change' });
  clock.advance(27_999);
  await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'at-27999' } });
  await until(() => w.events.length === 2, { what: 'the second change' });
  t.same(w.events.map((e) => e.type), ['ADDED', 'ADDED'], 'nothing before 28 s');
  await until(() => short.ended(), { what: 'the 1 s watch ended' });
  t.same(short.events.map((e) => e.type), ['ADDED'], 'the 1 s watch ended with no bookmark');
  clock.advance(1);
  await until(() => bookmarks(w.events).length === 1, { what: 'the pre-timeout bookmark' });
  t.same(bookmarks(w.events), [w.events[1]?.rv], 'at 28 s, with the version of the last change');
  clock.advance(2_000);
  await until(() => w.ended(), { what: 'the 30 s watch ended' });
});

void t.test('no bookmark for a watch that did not ask, nor from a devapi told to send none', async (t) => {
  for (const [name, options, query] of [
    ['a watch without allowWatchBookmarks', {}, 'timeoutSeconds=600'],
    ['a devapi with watchBookmarks false', { watchBookmarks: false }, 'allowWatchBookmarks=true&timeoutSeconds=600'],
  ] as const) {
    const { api, clock, stateDir } = await startApi(t, options);
    const call = calls(api, stateDir);
    const start = ((await call('GET', '/api/v1/namespaces/default/configmaps')).body.metadata as { resourceVersion: string }).resourceVersion;
    const w = await openWatch(api, stateDir, `resourceVersion=${start}&${query}`);
    await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'first' } });
    await call('POST', '/devapi/v1/progress', {});
    clock.advance(598_000);
    await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'last' } });
    await until(() => w.events.length === 2, { what: 'both changes' });
    t.same(w.events.map((e) => e.type), ['ADDED', 'ADDED'], `${name}: no bookmark in ten minutes`);
    clock.advance(2_000);
    await until(() => w.ended(), { what: 'the watch ended' });
  }
});
