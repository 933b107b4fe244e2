/**
 * Time for the mock terminal is src/protocol's Clock and Timers, injected so that tests never
 * sleep (a VirtualClock is both). What is the mock's own: its default timers are unref'd.
 */
import type { Timers } from '../protocol/index.js';

/**
 * Node's timers, unref'd: a pending reboot or a paced line must not keep a process alive on its
 * own (the transport's server or port does that).
 */
export const unrefTimers: Timers = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
