/**
 * The elector against an in-memory Lease with the server's compare-and-swap,
 * on a manual clock: who leads, when a lease may be taken, when a leader must
 * give up, and that two replicas never lead at once, whatever order their
 * requests reach the server in.
 */
import fc from 'fast-check';
import { pino } from 'pino';
import t from 'tap';
import { KubeApiError, type KubeHttp } from '../../src/kube/http.js';
import { LeaderElector } from '../../src/leader/leader-election.js';
import { formatMicroTime, leaseLock, type LeaseRecord } from '../../src/leader/lease-lock.js';
import { fixedClock, ManualClock } from '../helpers/clock.js';
import { FakeLeaseStore, type FakeLeaseLock } from '../helpers/fake-lease-lock.js';

const config = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const silent = pino({ level: 'silent' });
const unavailable = new KubeApiError(503, 'ServiceUnavailable', '503 ServiceUnavailable: etcd is down', undefined);
const microTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface Replica {
  readonly name: string;
  readonly elector: LeaderElector;
  readonly lock: FakeLeaseLock;
  /** Callback calls in order, with the time and sinceRenewMs when each came. */
  readonly events: { at: number; event: string; sinceRenewMs?: number | undefined }[];
  /** Between onStartedLeading and onStoppedLeading. */
  leading: boolean;
}

function replica(store: FakeLeaseStore, clock: ManualClock, name: string, random: () => number = () => 0): Replica {
  const lock = store.lock(name);
  const r: Replica = {
    name, lock, events: [], leading: false,
    elector: new LeaderElector({
      lock, identity: name, config, logger: silent, clock, random,
      onStartedLeading: () => {
        r.leading = true;
        r.events.push({ at: clock.now(), event: 'started' });
      },
      onStoppedLeading: () => {
        r.leading = false;
        r.events.push({ at: clock.now(), event: 'stopped', sinceRenewMs: r.elector.sinceRenewMs() });
      },
      onNewLeader: (id) => r.events.push({ at: clock.now(), event: `new leader ${id}` }),
    }),
  };
  return r;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Two replicas on one lease: a has taken it, b has just started. */
async function aLeadsThenB(): Promise<{ clock: ManualClock; store: FakeLeaseStore; a: Replica; b: Replica }> {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  const a = replica(store, clock, 'a');
  const b = replica(store, clock, 'b');
  a.elector.start();
  await flush();
  b.elector.start();
  return { clock, store, a, b };
}

/** Moves the clock `ms` forward in steps, letting the electors' promises settle after each; `check` runs after every step. */
async function run(clock: ManualClock, ms: number, check: () => void = () => undefined, step = 100): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await flush();
    check();
  }
}

const foreign = (holder: string, renewTime: string, leaseTransitions = 3): LeaseRecord => ({
  holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: renewTime, renewTime, leaseTransitions,
});

void t.test('a lease nobody has created is created with a client-go record and we lead at once', async (t) => {
  const clock = new ManualClock();
  clock.advance(Date.UTC(2026, 10, 28, 20, 0, 0, 123));
  const store = new FakeLeaseStore();
  const a = replica(store, clock, 'a');
  a.elector.start();
  await flush();
  t.ok(a.elector.isLeader);
  t.same(a.lock.calls, ['get', 'create']);
  t.same(store.record, {
    holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2026-11-28T20:00:00.123000Z', renewTime: '2026-11-28T20:00:00.123000Z',
    leaseTransitions: 0, resourceVersion: '1',
  });
  t.same(a.events.map((e) => e.event), ['new leader a', 'started']);
  t.equal(a.elector.currentHolder, 'a');
  t.equal(a.elector.sinceRenewMs(), 0);
  await a.elector.stop();
});

for (const [name, renewTime] of [
  ['respects a live foreign lease whose renewTime is long past, because only our clock counts', '2001-01-01T00:00:00.000000Z'],
  ['respects a live foreign lease whose renewTime is far in the future, and takes it after its duration by our clock', '2099-01-01T00:00:00.000000Z'],
] as const) {
  void t.test(name, async (t) => {
    const clock = new ManualClock();
    const store = new FakeLeaseStore();
    store.put('b', foreign('b', renewTime));
    const a = replica(store, clock, 'a');
    a.elector.start();
    await flush();
    t.notOk(a.elector.isLeader);
    t.equal(a.elector.currentHolder, 'b');
    await run(clock, 14_900);
    t.notOk(a.elector.isLeader, 'not before leaseDuration has passed since we first saw the record');
    t.equal(store.record?.holderIdentity, 'b');
    await run(clock, 2_100);
    t.ok(a.elector.isLeader, 'taken on the first try after it expired');
    t.equal(store.record?.leaseTransitions, 4, 'leaseTransitions + 1');
    t.equal(store.record?.acquireTime, formatMicroTime(a.events.find((e) => e.event === 'started')?.at ?? -1), 'a new acquireTime');
    t.same(a.events.map((e) => e.event), ['new leader b', 'new leader a', 'started']);
    await a.elector.stop();
  });
}

void t.test('a released lease (empty holder) is taken at once, with leaseTransitions + 1', async (t) => {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  store.put('b', { ...foreign('b', formatMicroTime(0)), holderIdentity: '', leaseDurationSeconds: 1 });
  const a = replica(store, clock, 'a');
  a.elector.start();
  await flush();
  t.ok(a.elector.isLeader);
  t.equal(store.record?.leaseTransitions, 4);
  t.equal(store.record?.leaseDurationSeconds, 15);
  await a.elector.stop();
});

void t.test('the leader renews every retryPeriod, keeping acquireTime and leaseTransitions, and a renewing holder is never taken over', async (t) => {
  const { clock, store, a, b } = await aLeadsThenB();
  await run(clock, 60_000, () => {
    t.ok(a.elector.isLeader);
    t.notOk(b.elector.isLeader);
    t.ok((a.elector.sinceRenewMs() ?? Infinity) < config.retryPeriodMs + 100);
  });
  const ours = store.writes.filter((w) => w.by === 'a');
  t.equal(ours.length, 1 + 30, 'one create, then a renew every 2 s');
  t.same(new Set(ours.map((w) => w.record.acquireTime)).size, 1);
  t.same(new Set(ours.map((w) => w.record.leaseTransitions)), new Set([0]));
  t.equal(new Set(ours.map((w) => w.record.renewTime)).size, ours.length, 'each renew writes a new renewTime');
  t.notOk(store.writes.some((w) => w.by === 'b'), 'b never wrote');
  t.equal(b.elector.currentHolder, 'a');
  await Promise.all([a.elector.stop(), b.elector.stop()]);
});

for (const [name, cutOff] of [
  ['a replica whose renews fail stops leading within renewDeadline, before the lease can expire for others', (lock: FakeLeaseLock) => { lock.failWith = unavailable; }],
  ['a replica whose renews hang stops leading within renewDeadline, before the lease can expire for others', (lock: FakeLeaseLock) => { lock.hold = true; }],
] as const) {
  void t.test(name, async (t) => {
    const { clock, store, a, b } = await aLeadsThenB();
    await run(clock, 5_000);
    cutOff(a.lock);
    await run(clock, 40_000, () => t.notOk(a.elector.isLeader && b.elector.isLeader, 'never two leaders'));
    const stopped = a.events.find((e) => e.event === 'stopped');
    const bStarted = b.events.find((e) => e.event === 'started');
    t.ok(stopped && bStarted, 'a stopped and b took over');
    t.ok((stopped?.sinceRenewMs ?? Infinity) <= config.renewDeadlineMs, `a stopped ${stopped?.sinceRenewMs} ms after its last renew was sent`);
    t.ok((stopped?.at ?? Infinity) < (bStarted?.at ?? -Infinity), 'a stopped before b started');
    t.notOk(a.elector.isLeader);
    t.equal(store.record?.holderIdentity, 'b');
    t.equal(store.record?.leaseTransitions, 1);
    a.lock.failWith = undefined;
    a.lock.releaseAll();
    await run(clock, 10_000);
    t.notOk(a.elector.isLeader, 'back as a candidate, respecting b');
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });
}

void t.test('a write the server took at once but answered only after the renew deadline does not make us leader; the next renew does', async (t) => {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  const a = replica(store, clock, 'a');
  a.lock.hold = true;
  a.elector.start();
  a.lock.release();
  await flush();
  a.lock.step();
  t.equal(store.record?.holderIdentity, 'a', 'the create reached the server at once');
  clock.advance(config.renewDeadlineMs);
  a.lock.step();
  await flush();
  t.notOk(a.elector.isLeader);
  t.same(a.events.map((e) => e.event), ['new leader a']);
  a.lock.releaseAll();
  await run(clock, 5_000);
  t.ok(a.elector.isLeader);
  t.equal(store.record?.leaseTransitions, 0, 'renewing our own record is not a transition');
  await a.elector.stop();
});

void t.test('a renew the server takes as no change (same record, same resourceVersion) does not extend our term: never two leaders', async (t) => {
  // The API server keeps the resourceVersion of an update that changes nothing, and
  // a replica waiting on the lease counts the holder's term from when it first saw
  // that version. So a renew that writes the same bytes (a wall clock that stands
  // still, or steps back onto the last renewTime) must not count as a renew.
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  const stuck = fixedClock(Date.UTC(2026, 10, 28, 20, 0, 0, 0));
  const lockA = store.lock('a');
  const a = { leading: false };
  const elector = new LeaderElector({
    lock: lockA, identity: 'a', config, logger: silent, clock, wallClock: stuck, random: () => 0,
    onStartedLeading: () => { a.leading = true; },
    onStoppedLeading: () => { a.leading = false; },
  });
  elector.start();
  await flush();
  t.ok(a.leading, 'a leads after creating the lease');
  const b = replica(store, clock, 'b');
  b.elector.start();
  let both = 0;
  await run(clock, 60_000, () => {
    if (a.leading && elector.isLeader && b.leading && b.elector.isLeader) both++;
  });
  t.equal(both, 0, 'a and b never lead at once');
  t.ok(b.leading, 'b took the lease that a\'s no-op renews did not keep');
  t.equal(store.writes.filter((w) => w.by === 'a').length, 1, 'a\'s renews changed nothing on the server');
  await elector.stop();
  await b.elector.stop();
});

void t.test('two replicas creating the lease at once: one wins, the other gets a 409 and follows', async (t) => {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  const [a, b] = [replica(store, clock, 'a'), replica(store, clock, 'b')];
  for (const r of [a, b]) {
    r.lock.hold = true;
    r.elector.start();
  }
  a.lock.release();
  b.lock.release();
  await flush();
  t.same([a.lock.pending[0]?.op, b.lock.pending[0]?.op], ['create', 'create'], 'both saw no lease');
  b.lock.release();
  await flush();
  t.ok(b.elector.isLeader);
  a.lock.release();
  await flush();
  t.notOk(a.elector.isLeader, 'the 409 lost');
  t.equal(store.writes.length, 1);
  for (const r of [a, b]) r.lock.releaseAll();
  await run(clock, 30_000, () => t.ok(b.elector.isLeader && !a.elector.isLeader));
  await Promise.all([a.elector.stop(), b.elector.stop()]);
});

void t.test('two replicas taking over one expired lease from the same version: one wins, the other gets a 409', async (t) => {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  store.put('c', foreign('c', formatMicroTime(0)));
  const [a, b] = [replica(store, clock, 'a'), replica(store, clock, 'b')];
  for (const r of [a, b]) r.elector.start();
  await flush();
  await run(clock, 15_000);
  t.equal(store.record?.holderIdentity, 'c');
  for (const r of [a, b]) r.lock.hold = true;
  await run(clock, 1_000);
  t.same([a.lock.pending.map((p) => p.op), b.lock.pending.map((p) => p.op)], [['get'], ['get']], 'both read at 16 s, after it expired');
  a.lock.release();
  b.lock.release();
  await flush();
  t.same([a.lock.pending.map((p) => p.op), b.lock.pending.map((p) => p.op)], [['update'], ['update']], 'both read the same expired version');
  a.lock.release();
  b.lock.release();
  await flush();
  t.ok(a.elector.isLeader);
  t.notOk(b.elector.isLeader);
  t.equal(store.record?.leaseTransitions, 4);
  await Promise.all([a.elector.stop(), b.elector.stop()]);
});

void t.test('never two leaders, whatever order requests reach the server and answers come back in, and whichever replica is cut off', async (t) => {
  // Enough steps and time for leases to expire and change hands several times.
  const action = fc.oneof(
    { arbitrary: fc.record({ advance: fc.integer({ min: 1, max: 6_000 }) }), weight: 4 },
    { arbitrary: fc.record({ step: fc.nat(2), pick: fc.nat(3) }), weight: 4 },
    { arbitrary: fc.record({ hold: fc.nat(2), on: fc.boolean() }), weight: 1 },
    { arbitrary: fc.record({ fail: fc.nat(2), on: fc.boolean() }), weight: 1 },
    { arbitrary: fc.record({ cutOffLeader: fc.constantFrom('hold', 'fail') }), weight: 1 },
  );
  // LEADER_ELECTION_RUNS=5000 for a longer search.
  const runs = Number(process.env.LEADER_ELECTION_RUNS ?? 200);
  await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 3 }), fc.array(action, { minLength: 30, maxLength: 120 }), fc.nat(), async (n, script, seed) => {
    const clock = new ManualClock();
    const store = new FakeLeaseStore();
    let s = seed;
    const random = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const replicas = Array.from({ length: n }, (_, i) => replica(store, clock, `r${i}`, random));
    const check = (): void => {
      const leaders = replicas.filter((r) => r.elector.isLeader).map((r) => r.name);
      const leading = replicas.filter((r) => r.leading).map((r) => r.name);
      if (leaders.length > 1 || leading.length > 1) throw new Error(`two leaders at ${clock.now()}: ${leaders.join(',')} / ${leading.join(',')}`);
    };
    for (const r of replicas) r.elector.start();
    await flush();
    for (const action of script) {
      if ('advance' in action) {
        await run(clock, action.advance, check, 200);
      } else if ('step' in action) {
        const lock = replicas[action.step % n]?.lock;
        if (lock && lock.pending.length > 0) lock.step(action.pick % lock.pending.length);
        await flush();
      } else if ('hold' in action) {
        const lock = replicas[action.hold % n]?.lock;
        if (lock) lock.hold = action.on;
      } else if ('fail' in action) {
        const lock = replicas[action.fail % n]?.lock;
        if (lock) lock.failWith = action.on ? unavailable : undefined;
      } else {
        const leader = replicas.find((r) => r.leading);
        if (leader && action.cutOffLeader === 'hold') leader.lock.hold = true;
        if (leader && action.cutOffLeader === 'fail') leader.lock.failWith = unavailable;
      }
      check();
    }
    // Heal everything: someone leads again within a lease duration and a few retries.
    for (const r of replicas) {
      r.lock.failWith = undefined;
      r.lock.releaseAll();
    }
    await run(clock, 30_000, check, 200);
    const leaders = replicas.filter((r) => r.elector.isLeader);
    if (leaders.length !== 1) throw new Error(`expected one leader after healing, got ${leaders.length}`);
    await Promise.all(replicas.map((r) => r.elector.stop()));
  }), { numRuns: runs });
  t.pass('no run had two leaders');
});

void t.test('stop with release: the leader stops first, then writes an empty holder, and another replica takes it on its next retry', async (t) => {
  const { clock, store, a, b } = await aLeadsThenB();
  await run(clock, 3_000);
  let writesWhenStopped = -1;
  a.events.length = 0;
  const stopping = a.elector.stop({ release: true });
  writesWhenStopped = store.writes.length;
  t.same(a.events.map((e) => e.event), ['stopped'], 'onStoppedLeading is called at once');
  t.notOk(a.elector.isLeader);
  await stopping;
  t.equal(store.writes.length, writesWhenStopped + 1, 'then one release write');
  t.match(store.record, { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0, renewTime: formatMicroTime(clock.now()) });
  t.match(store.record?.acquireTime, microTime);
  await run(clock, config.retryPeriodMs);
  t.ok(b.elector.isLeader, 'b took it within one retry period, not a lease duration');
  t.equal(store.record?.leaseTransitions, 1);
  await b.elector.stop();
});

void t.test('stop without release leaves the record, and a replica that never led writes nothing on stop', async (t) => {
  const { clock, store, a, b } = await aLeadsThenB();
  await flush();
  const writes = store.writes.length;
  await b.elector.stop({ release: true });
  await a.elector.stop();
  t.equal(store.writes.length, writes);
  t.equal(store.record?.holderIdentity, 'a');
  t.same(b.events.map((e) => e.event), ['new leader a'], 'b never started nor stopped leading');
  t.equal(clock.pending, 0, 'no timers left behind');
});

void t.test('a callback that throws does not stop the election', async (t) => {
  const clock = new ManualClock();
  const store = new FakeLeaseStore();
  const elector = new LeaderElector({
    lock: store.lock('a'), identity: 'a', config, logger: silent, clock,
    onStartedLeading: () => { throw new Error('boom'); },
    onStoppedLeading: () => undefined,
  });
  elector.start();
  await flush();
  await run(clock, 10_000);
  t.ok(elector.isLeader);
  t.equal(store.writes.length, 6);
  await elector.stop();
});

for (const [name, ms, text] of [
  ['the epoch', 0, '1970-01-01T00:00:00.000000Z'],
  ['milliseconds become the first three of six digits', Date.UTC(2026, 10, 28, 20, 0, 0, 123), '2026-11-28T20:00:00.123000Z'],
  ['a fractional millisecond keeps its microseconds', Date.UTC(2026, 10, 28, 20, 0, 0, 123) + 0.456, '2026-11-28T20:00:00.123456Z'],
  ['the last microsecond of a second does not round into the next', Date.UTC(2026, 10, 28, 20, 0, 0, 999) + 0.999, '2026-11-28T20:00:00.999999Z'],
] as const) {
  void t.test(`MicroTime: ${name}`, (t) => {
    t.equal(formatMicroTime(ms), text);
    t.match(formatMicroTime(ms), microTime);
    t.end();
  });
}

for (const [name, bad] of [
  ['refuses a renew deadline as long as the lease duration', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }],
  ['refuses a renew deadline within 1.2 retry periods', { leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }],
  ['refuses a zero retry period', { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }],
] as const) {
  void t.test(name, (t) => {
    t.throws(() => new LeaderElector({
      lock: new FakeLeaseStore().lock('a'), identity: 'a', config: bad, logger: silent,
      onStartedLeading: () => undefined, onStoppedLeading: () => undefined,
    }), { code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT' });
    t.end();
  });
}

void t.test('the lock reads, creates and replaces one named Lease, keeping the fields it does not own', async (t) => {
  const sent: { method: string; path: string; body?: unknown }[] = [];
  const answers: (() => unknown)[] = [
    () => { throw new KubeApiError(404, 'NotFound', '404 NotFound: leases.coordination.k8s.io "csr-signer" not found', undefined); },
    () => ({ metadata: { name: 'csr-signer', namespace: 'ns', resourceVersion: '7' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 } }),
    () => ({
      metadata: { name: 'csr-signer', namespace: 'ns', resourceVersion: '8', labels: { team: 'pki' }, uid: 'u1' },
      spec: { holderIdentity: 'b', leaseDurationSeconds: 15, acquireTime: null, renewTime: '2026-11-28T20:00:00.000000Z', strategy: 'OldestEmulationVersion' },
    }),
    () => ({ metadata: { resourceVersion: '9' }, spec: { holderIdentity: 'a' } }),
  ];
  const kube: KubeHttp = {
    request: <T>(method: string, path: string, options: { body?: unknown } = {}): Promise<T> => {
      sent.push({ method, path, ...(options.body === undefined ? {} : { body: options.body }) });
      try {
        return Promise.resolve(answers.shift()?.() as T);
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
    watch: () => Promise.reject(new Error('no watch')),
    close: () => undefined,
  };
  const lock = leaseLock(kube, 'ns', 'csr-signer');
  const record = { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: 'T0', renewTime: 'T1', leaseTransitions: 3 };
  t.equal(lock.description, 'ns/csr-signer');
  t.equal(await lock.get(), undefined, '404 is no lease');
  t.same(await lock.create(record), { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: undefined, renewTime: undefined, leaseTransitions: 0, resourceVersion: '7' });
  t.same(await lock.get(), {
    holderIdentity: 'b', leaseDurationSeconds: 15, acquireTime: undefined, renewTime: '2026-11-28T20:00:00.000000Z', leaseTransitions: 0, resourceVersion: '8',
  }, 'missing and null fields read as empty');
  t.equal((await lock.update(record, '8')).resourceVersion, '9');
  const path = '/apis/coordination.k8s.io/v1/namespaces/ns/leases';
  t.same(sent, [
    { method: 'GET', path: `${path}/csr-signer` },
    { method: 'POST', path, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'csr-signer', namespace: 'ns' }, spec: record } },
    { method: 'GET', path: `${path}/csr-signer` },
    {
      method: 'PUT', path: `${path}/csr-signer`, body: {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { name: 'csr-signer', namespace: 'ns', resourceVersion: '8', labels: { team: 'pki' }, uid: 'u1' },
        spec: { strategy: 'OldestEmulationVersion', ...record },
      },
    },
  ]);
});
