// Timing loops, and CPU accounting to see whether other processes disturbed a run.
import { appendFileSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

/** Calls the synchronous `op(i)` in a tight loop for `ms` milliseconds; returns ops/s. */
export function rateSync(op, ms) {
  const start = performance.now();
  const deadline = start + ms;
  let n = 0;
  let now = start;
  while (now < deadline) {
    op(n++);
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

/** Awaits `op(i)` with `inFlight` loops running together, for `ms` milliseconds; returns ops/s. */
export async function rateAsync(op, ms, inFlight = 1) {
  const start = performance.now();
  const deadline = start + ms;
  let n = 0;
  const loop = async () => {
    while (performance.now() < deadline) await op(n++);
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  return n / ((performance.now() - start) / 1000);
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

// ---------------------------------------------------------- CPU accounting
// Linux /proc, in USER_HZ (100 per second). Elsewhere every figure is NaN.

const HZ = 100;

/** CPU seconds used by the whole machine (all cores, user + system + irq). */
export function machineBusySeconds() {
  try {
    const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq) / HZ;
  } catch {
    return NaN;
  }
}

/** CPU seconds used by process `pid`; for 'self' also by its children that have been waited for (spawnSync). */
export function processCpuSeconds(pid = 'self') {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ').map(Number);
    // fields 14-17 of stat: utime, stime, cutime, cstime (here shifted by the two leading fields removed)
    return (f[11] + f[12] + (pid === 'self' ? f[13] + f[14] : 0)) / HZ;
  } catch {
    return NaN;
  }
}

/**
 * Starts watching: stop() returns the cores other processes kept busy meanwhile
 * (machine busy time minus ours and minus `extra()`, e.g. a server we run), per wall second.
 */
export function watchBackground(extra = () => 0) {
  const t0 = performance.now();
  const busy0 = machineBusySeconds();
  const own0 = processCpuSeconds() + extra();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    return Math.max(0, (machineBusySeconds() - busy0 - (processCpuSeconds() + extra() - own0)) / wall);
  };
}

// ---------------------------------------------------------- targets

/**
 * Records one target for the summary that `npm run bench` (bench/all.js) prints at the end: appended
 * as a JSON line to BENCH_SUMMARY_FILE when it is set (a bench run alone prints its own lines only).
 * `figure` is what was measured, as printed; `pass` false, true, or undefined when not measured.
 */
export function reportTarget(bench, target, figure, pass) {
  const file = process.env.BENCH_SUMMARY_FILE;
  if (file) appendFileSync(file, `${JSON.stringify({ bench, target, figure, pass })}\n`);
}

/**
 * Calls onLine with each non-empty line of a streamed response (a watch: one JSON object per
 * line), as the text arrives; a line cut between two chunks waits for its end.
 */
export function eachLine(res, onLine) {
  let pending = '';
  res.setEncoding('utf8');
  res.on('data', (chunk) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
      if (line !== '') onLine(line);
    }
  });
}
