/**
 * The one way tests wait. `until` polls a condition a bounded number of times within
 * an overall bound and fails naming what it awaited; `pause` is the only fixed sleep,
 * kept for the two things no condition can express — letting something *not* happen
 * for a while, and crossing a clock boundary — and it must say which.
 */

export interface UntilOptions {
  /** What is awaited, for the failure message. Default: the source text of the check. */
  readonly what?: string;
  /** The overall bound. Default 5 s. */
  readonly ms?: number;
  /** Time between tries. Default 5 ms (in-process checks are cheap). */
  readonly intervalMs?: number;
  /** More words for the failure message, computed when the wait fails (e.g. which names are still open). */
  readonly detail?: () => string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Describes a check by its own source, compacted: `() => api.openWatches === 1`. */
const sourceOf = (check: () => unknown): string => check.toString().replace(/\s+/g, ' ').slice(0, 200);

/**
 * Polls `check` until it returns something truthy and resolves to that value; after
 * `ms` (or as many tries as fit in it) rejects with a message naming what was awaited.
 * A number for `options` is the overall bound in milliseconds.
 */
export async function until<T>(check: () => T | Promise<T>, options: UntilOptions | number = {}): Promise<NonNullable<T>> {
  const { what = sourceOf(check), ms = 5000, intervalMs = 5, detail } = typeof options === 'number' ? { ms: options } : options;
  const tries = Math.max(1, Math.ceil(ms / intervalMs) + 1);
  const end = Date.now() + ms;
  for (let attempt = 1; ; attempt++) {
    const value = await check();
    if (value) return value;
    if (attempt >= tries || Date.now() > end) {
      throw new Error(`timed out after ${ms} ms (${attempt} tries) waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * A fixed, bounded wait. Only for what cannot be polled: giving something the chance
 * to happen wrongly before asserting it did not, or letting the wall clock pass a
 * boundary. `reason` says which, so every sleep in the suite reads as a decision.
 */
export async function pause(ms: number, reason: string): Promise<void> {
  if (reason.trim() === '') throw new Error('pause needs a reason');
  await sleep(ms);
}
