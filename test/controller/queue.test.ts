import t from 'tap';
import { runWorkers, WorkQueue } from '../../src/controller/queue.js';
import { ManualClock } from '../helpers/clock.js';
import { pause, until } from '../helpers/wait.js';

const options = { baseDelayMs: 200, maxDelayMs: 1000_000, qps: 10, burst: 100 };

void t.test('a key added twice before a worker takes it is handed out once', async (t) => {
  const q = new WorkQueue({ ...options, clock: new ManualClock() });
  q.add('a');
  q.add('a');
  q.add('b');
  t.equal(q.depth, 2);
  t.equal(await q.get(), 'a');
  t.equal(await q.get(), 'b');
  t.equal(q.depth, 0);
});

void t.test('a key re-added while a worker holds it runs again after done, never in two workers at once', async (t) => {
  const q = new WorkQueue({ ...options, clock: new ManualClock() });
  q.add('a');
  const key = await q.get();
  q.add('a');
  t.equal(q.depth, 0, 'not queued while processing');
  q.done(key ?? '');
  t.equal(q.depth, 1, 'queued again once done');
  t.equal(await q.get(), 'a');
});

void t.test('retries back off exponentially per key from the base delay, capped, and forget resets', (t) => {
  const clock = new ManualClock();
  const q = new WorkQueue({ ...options, maxDelayMs: 1000, clock });
  t.same([1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('a')), [200, 400, 800, 1000, 1000, 1000]);
  t.equal(q.retries('a'), 6);
  t.equal(q.addRateLimited('b'), 200, 'another key has its own backoff');
  q.forget('a');
  t.equal(q.addRateLimited('a'), 200);
  t.end();
});

void t.test('a retried key is queued only when its delay has passed', (t) => {
  const clock = new ManualClock();
  const q = new WorkQueue({ ...options, clock });
  q.addRateLimited('a');
  t.equal(q.depth, 0);
  t.equal(q.delayedCount, 1);
  clock.advance(199);
  t.equal(q.depth, 0);
  clock.advance(1);
  t.equal(q.depth, 1);
  t.equal(q.delayedCount, 0);
  t.end();
});

void t.test('the global bucket spaces retries once the burst is spent', (t) => {
  const clock = new ManualClock();
  const q = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 1, qps: 10, burst: 2, clock });
  t.equal(q.addRateLimited('a'), 1);
  t.equal(q.addRateLimited('b'), 1);
  t.equal(q.addRateLimited('c'), 100, 'third retry waits for a token (10 qps)');
  t.equal(q.addRateLimited('d'), 200);
  t.end();
});

void t.test('a server\'s Retry-After is the least a retry waits', (t) => {
  const q = new WorkQueue({ ...options, clock: new ManualClock() });
  t.equal(q.addRateLimited('a', 5000), 5000);
  t.end();
});

void t.test('an earlier pending retry of a key is kept when a later one is asked for', (t) => {
  const clock = new ManualClock();
  const q = new WorkQueue({ ...options, clock });
  q.addAfter('a', 100);
  q.addAfter('a', 500);
  clock.advance(100);
  t.equal(q.depth, 1);
  t.equal(clock.pending, 0, 'no second timer left behind');
  t.end();
});

void t.test('workers process keys concurrently up to their number and stop at shut down', async (t) => {
  const q = new WorkQueue({ ...options, clock: new ManualClock() });
  let running = 0;
  let peak = 0;
  const seen: string[] = [];
  const workers = runWorkers(q, 3, async (key) => {
    running++;
    peak = Math.max(peak, running);
    seen.push(key);
    await pause(5, 'a unit of work that takes a while, so that workers overlap');
    running--;
  });
  for (let i = 0; i < 10; i++) q.add(`k${i}`);
  await until(() => seen.length >= 10);
  q.shutDown();
  await workers;
  t.equal(peak, 3);
  t.same(seen.sort(), Array.from({ length: 10 }, (_v, i) => `k${i}`).sort());
  q.add('late');
  t.equal(q.depth, 0, 'nothing is queued after shut down');
});

void t.test('a delay longer than a Node timer holds (2^31-1 ms) is cut to it, never handed to setTimeout (which would fire after 1 ms)', (t) => {
  class RecordingClock extends ManualClock {
    readonly delays: number[] = [];
    override setTimeout(fn: () => void, ms: number): unknown {
      this.delays.push(ms);
      return super.setTimeout(fn, ms);
    }
  }
  const clock = new RecordingClock();
  const q = new WorkQueue({ ...options, clock });
  q.addAfter('far', 2 ** 40);
  q.addAfter('infinite', Number.POSITIVE_INFINITY);
  t.same(clock.delays, [2 ** 31 - 1, 2 ** 31 - 1]);
  clock.advance(2 ** 31 - 2);
  t.equal(q.depth, 0, 'not before');
  clock.advance(1);
  t.equal(q.depth, 2, 'both queued once the longest timer has run');
  t.end();
});
