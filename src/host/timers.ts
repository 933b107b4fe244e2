/**
 * Time, as dependencies: the session and the driver never call setTimeout or Date directly, so
 * tests drive them with vitest fake timers or a manual scheduler, and nothing sleeps for real.
 */

export type TimerHandle = unknown;

export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process's timers, looked up at call time (so vitest's fake timers replace them). */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** The wall clock, for timestamps (traces, events). */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** A number in [0, 1), like Math.random. */
export type RandomSource = () => number;
export const systemRandom: RandomSource = () => Math.random();

/** Resolves after `ms` on the given timers. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(resolve, ms);
  });
}
