/** The one wait: bounded, and saying what it waited for. */
import t from 'tap';
import { pause, until } from './wait.js';

void t.test('until resolves to the first truthy value of the check', async (t) => {
  let n = 0;
  t.equal(await until(() => (++n >= 3 ? `after ${n}` : undefined), { intervalMs: 1 }), 'after 3');
  t.equal(await until(() => Promise.resolve(7)), 7, 'an async check');
});

void t.test('until fails after its bound, naming what it awaited, its tries and any detail', async (t) => {
  await t.rejects(until(() => false, { what: 'the sky to fall', ms: 20, intervalMs: 5, detail: () => 'still up' }),
    /^timed out after 20 ms \(\d+ tries\) waiting for the sky to fall: still up$/);
  await t.rejects(until(() => 1 > 2, 10), /waiting for \(\) => 1 > 2/, 'by default, the check\'s own source');
  let tries = 0;
  await t.rejects(until(() => { tries++; return false; }, { ms: 1000, intervalMs: 400 }));
  t.ok(tries <= 4, `a bounded number of tries (${tries})`);
});

void t.test('a check that throws fails the wait at once', async (t) => {
  let tries = 0;
  await t.rejects(until(() => { tries++; throw new Error('both lead'); }), /both lead/);
  t.equal(tries, 1);
});

void t.test('pause must say why it sleeps', async (t) => {
  await t.rejects(pause(1, ' '), /needs a reason/);
  await pause(1, 'nothing to wait for');
});
