/**
 * Runs a child process under a time limit and a memory ceiling, and measures its peak
 * resident set. Two measures, the larger wins: the kernel's high-water mark
 * (`VmHWM` in /proc/PID/status) polled while the child runs, which also lets us kill a
 * child the moment it crosses the ceiling instead of letting it eat the machine, and,
 * for a Node child, `process.resourceUsage().maxRSS` reported on exit by a preload
 * module through an extra pipe (fd 3), which sees the last few milliseconds a poll can
 * miss. Either measure alone is enough to fail a case; neither touches stdout or stderr.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

/**
 * Preloaded with `node --import`: on exit, writes the peak resident set (KiB) to fd 3, a
 * pipe only we read; never to stdout or stderr, so the child's own output is untouched.
 */
const reporter = `data:text/javascript,${encodeURIComponent(`import { writeSync } from 'node:fs';
process.on('exit', () => { try { writeSync(3, 'maxRSS=' + process.resourceUsage().maxRSS + '\\n'); } catch {} });`)}`;

export interface BoundedResult {
  /** The exit code, or null when the child was killed. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident set, KiB. */
  readonly peakKiB: number;
  readonly ms: number;
  /** Why we killed it, when we did: over the time limit or over the memory ceiling. */
  readonly killed?: 'timeout' | 'memory';
}

export interface BoundedOptions {
  /** What the child reads on stdin: bytes, a file or device to open (/dev/zero), or an endless stream. */
  readonly stdin?: Uint8Array | { readonly path: string } | (() => Readable);
  readonly timeoutMs: number;
  readonly ceilingKiB: number;
  readonly cwd?: string;
}

function vmHwmKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone already
  }
}

/** Runs `node ARGS` (with the maxRSS reporter preloaded) under the limits. */
export function runNodeBounded(args: readonly string[], options: BoundedOptions): Promise<BoundedResult> {
  const stdinFd = options.stdin !== undefined && 'path' in options.stdin ? openSync(options.stdin.path, 'r') : undefined;
  const stdio: StdioOptions = [stdinFd ?? 'pipe', 'pipe', 'pipe', 'pipe'];
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', reporter, ...args], { stdio, cwd: options.cwd });
  if (stdinFd !== undefined) closeSync(stdinFd);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let reported = 0;
    let polled = 0;
    let killed: 'timeout' | 'memory' | undefined;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    (child.stdio[3] as Readable | null)?.setEncoding('utf8').on('data', (d: string) => {
      const m = /maxRSS=(\d+)/.exec(d);
      if (m) reported = Number(m[1]);
    });
    const stdin = child.stdin;
    if (stdin !== null) {
      // A child that stops reading early closes the pipe: that is its right, not an error.
      stdin.on('error', () => undefined);
      if (typeof options.stdin === 'function') options.stdin().on('error', () => undefined).pipe(stdin);
      else if (options.stdin instanceof Uint8Array) stdin.end(options.stdin);
      else stdin.end();
    }
    const kill = (why: 'timeout' | 'memory'): void => {
      killed ??= why;
      child.kill('SIGKILL');
    };
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      polled = Math.max(polled, vmHwmKiB(child.pid));
      if (polled > options.ceilingKiB) kill('memory');
    }, 20);
    const timer = setTimeout(() => kill('timeout'), options.timeoutMs);
    child.once('error', (e) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, peakKiB: Math.max(polled, reported), ms: Date.now() - started, ...(killed ? { killed } : {}) });
    });
  });
}

/** Runs `tasks` with at most `width` at a time, keeping their order in the result. */
export async function inBatches<T>(tasks: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      const task = tasks[i];
      if (task) results[i] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  return results;
}
