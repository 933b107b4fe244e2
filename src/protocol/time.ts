/**
 * Time as a dependency, one abstraction for both ends of the wire: a Clock says what time it is,
 * Timers run something later. The host (session, driver, port manager) and the mock terminal take
 * both as options and never read Date or call setTimeout themselves where time matters, so a test
 * drives both ends with one VirtualClock (virtual-clock.ts) and nothing sleeps for real. Reading
 * the time and arming a timer are not I/O: this file stays as pure as the rest of src/protocol.
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** An opaque handle returned by setTimeout. */
export type TimerHandle = unknown;

export interface Timers {
  /** Run `callback` once, `ms` milliseconds from now (0 or less: as soon as possible, never synchronously). */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The wall clock, looked up at call time (so vitest's fake timers replace it). */
export const systemClock: Clock = { now: () => Date.now() };

/** The process's timers, looked up at call time (so vitest's fake timers replace them). */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};
