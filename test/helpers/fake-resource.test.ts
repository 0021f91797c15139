/** The generic fake behaves as the API server does where the fakes above it rely on it. */
import t from 'tap';
import type { WatchEvent } from '../../src/kube/csr-api.js';
import { KubeApiError } from '../../src/kube/http.js';
import { FakeFaults, FakeResource, Revisions } from './fake-resource.js';

interface Thing {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly resourceVersion?: string };
  readonly value: number;
}
const thing = (name: string, value = 0, resourceVersion?: string): Thing =>
  ({ metadata: { name, ...(resourceVersion === undefined ? {} : { resourceVersion }) }, value });

const status = (f: () => unknown): number | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof KubeApiError ? e.status : -1;
  }
};

const rejection = (p: Promise<unknown>): Promise<number | undefined> =>
  p.then(() => undefined, (e: unknown) => (e instanceof KubeApiError ? e.status : -1));

void t.test('writes get increasing resourceVersions from a counter resources may share', (t) => {
  const shared = new Revisions();
  const a = new FakeResource<Thing>('things', shared);
  const b = new FakeResource<Thing>('others', shared);
  t.equal(a.put(thing('x')).metadata.resourceVersion, '101');
  t.equal(b.put(thing('y')).metadata.resourceVersion, '102');
  t.equal(a.resourceVersion, '102', 'a list answers with the shared counter');
  t.end();
});

void t.test('create, update and get answer 409 and 404 as the API server does', (t) => {
  const r = new FakeResource<Thing>('things');
  const stored = r.create(thing('x'));
  t.equal(status(() => r.create(thing('x'))), 409, 'a second create is AlreadyExists');
  t.equal(status(() => r.update(thing('x', 1, '1'))), 409, 'a stale resourceVersion is a Conflict');
  t.equal(status(() => r.update(thing('gone', 1, '1'))), 404);
  t.equal(status(() => r.get('gone')), 404);
  const updated = r.update({ ...stored, value: 2 });
  t.equal(updated.value, 2);
  t.ok(Number(updated.metadata.resourceVersion) > Number(stored.metadata.resourceVersion));
  t.equal(status(() => r.update({ ...updated, value: 3 }, { check: () => new KubeApiError(422, 'Invalid', 'no', undefined) })), 422, 'a check refuses the write');
  t.equal(r.get('x').value, 2, 'and nothing was stored');
  t.end();
});

void t.test('a list pages by key with continue', (t) => {
  const r = new FakeResource<Thing>('things');
  for (const name of ['c', 'a', 'b']) r.put(thing(name));
  const first = r.list({ limit: 2 });
  t.same(first.items.map((i) => i.metadata.name), ['a', 'b']);
  t.equal(first.continue, '2');
  const second = r.list({ limit: 2, continue: first.continue ?? '' });
  t.same(second.items.map((i) => i.metadata.name), ['c']);
  t.notOk('continue' in second);
  t.same(r.list({ limit: 10 }, (i) => i.metadata.name !== 'b').items.map((i) => i.metadata.name), ['a', 'c'], 'filtered');
  t.end();
});

void t.test('a watch replays history after its resourceVersion, streams, filters, and ends as told', async (t) => {
  const r = new FakeResource<Thing>('things');
  const from = r.put(thing('old')).metadata.resourceVersion ?? '';
  r.put(thing('replayed'));
  const seen: string[] = [];
  const onEvent = (e: WatchEvent<Thing>): void => {
    if ('object' in e) seen.push(`${e.type} ${e.object.metadata.name}`);
  };
  const watch = r.watch(from, onEvent, new AbortController().signal, (o) => o.metadata.name !== 'hidden');
  r.put(thing('hidden'));
  r.put(thing('live'));
  r.remove('live');
  t.equal(r.openWatches, 1);
  r.closeWatches();
  await watch;
  t.same(seen, ['ADDED replayed', 'ADDED live', 'DELETED live']);
  t.equal(r.openWatches, 0);

  r.compactedBefore = 1000;
  t.equal(await rejection(r.watch('5', onEvent, new AbortController().signal)), 410, 'history before compactedBefore is gone');
  r.compactedBefore = 0;
  const aborted = new AbortController();
  const pending = r.watch('0', () => { throw new Error('handler failed'); }, aborted.signal);
  await t.rejects(pending, /handler failed/, 'a throwing handler ends its watch with that error');
  r.silent = true;
  const quiet = r.watch('0', () => t.fail('a silent watch replays nothing'), aborted.signal);
  aborted.abort();
  await t.rejects(quiet, /aborted/);
});

void t.test('faults: the next call of a method fails or lets another writer in first, and every call is recorded', async (t) => {
  const faults = new FakeFaults<'get' | 'put'>();
  const order: string[] = [];
  faults.failNext('get');
  faults.beforeNext('put', () => order.push('other writer'));
  t.equal(await rejection(faults.serve('get', () => 1)), 500);
  t.equal(await faults.serve('get', () => 2), 2, 'only the next call');
  t.equal(await faults.serve('put', () => { order.push('put'); return 3; }), 3);
  t.same(order, ['other writer', 'put']);
  t.equal(await rejection(faults.serve('put', () => { throw new KubeApiError(404, 'NotFound', 'x', undefined); })), 404, 'a thrown API error rejects');
  t.same(faults.calls, ['get', 'get', 'put', 'put']);
  t.equal(faults.count('put'), 2);
});
