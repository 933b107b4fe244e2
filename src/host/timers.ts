/**
 * Randomness and waiting, as dependencies. Time itself (Clock, Timers, their system versions and
 * the VirtualClock of the tests) is src/protocol's (time.ts), shared with the mock terminal.
 */
import type { Timers } from '../protocol/index.js';

/** A number in [0, 1), like Math.random. */
export type RandomSource = () => number;
export const systemRandom: RandomSource = () => Math.random();

/** Resolves after `ms` on the given timers. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(resolve, ms);
  });
}
