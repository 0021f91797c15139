/**
 * Time, injectable: every part that waits or measures takes a Clock, so tests
 * drive time by hand (test/helpers/clock.ts) instead of sleeping.
 */

export interface Clock {
  /**
   * Milliseconds since the epoch, wall time: certificates, conditions, Events and
   * ages are dated with it, and intervals and timers measured. (LeaderElector alone
   * also takes a monotonic clock of this shape for its terms; pass that one nowhere
   * else, or certificates would be dated 1970.)
   */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's clock; its timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
