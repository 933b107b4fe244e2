/**
 * Time for the mock terminal, injected so that tests never sleep: a Clock says what time it is, a
 * Scheduler runs something later. Production uses the system's; tests use VirtualClock, which is
 * both and only moves when told to.
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** An opaque handle returned by setTimeout. */
export type TimerHandle = unknown;

export interface Scheduler {
  /** Run `callback` once, `ms` milliseconds from now (0 or less: as soon as possible, never synchronously). */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Node's timers, unref'd: a pending reboot or a paced line must not keep a process alive on its
 * own (the transport's server or port does that).
 */
export const systemScheduler: Scheduler = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
