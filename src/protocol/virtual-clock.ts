/**
 * A manual clock and timers for tests, one for both ends of the wire: time stands still until
 * `advance()` moves it, and the timers that fall due run in order of due time, then of creation,
 * each seeing `now()` equal to its due time. Nothing here touches real time, so a test of a 300 s
 * idle logout takes microseconds.
 */
import type { Clock, TimerHandle, Timers } from './time.js';

interface Timer {
  due: number;
  seq: number;
  callback: () => void;
}

/** 2025-01-01T00:00:00Z: a fixed, readable starting instant. */
export const VIRTUAL_EPOCH = Date.UTC(2025, 0, 1);

export class VirtualClock implements Clock, Timers {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<Timer>();

  constructor(start: number = VIRTUAL_EPOCH) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: Timer = { due: this.current + Math.max(0, ms), seq: this.seq++, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as Timer);
  }

  /** Timers waiting to run. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, running every timer that falls due on the way (including ones they set). */
  advance(ms: number): void {
    const target = this.current + Math.max(0, ms);
    for (let next = this.earliest(target); next; next = this.earliest(target)) {
      this.timers.delete(next);
      this.current = Math.max(this.current, next.due);
      next.callback();
    }
    this.current = target;
  }

  /** Run the earliest timer, moving time to its due time; false when none is waiting. */
  runNext(): boolean {
    const next = this.earliest(Number.POSITIVE_INFINITY);
    if (!next) return false;
    this.timers.delete(next);
    this.current = Math.max(this.current, next.due);
    next.callback();
    return true;
  }

  /** Run timers until none is left (at most `maxTimers`, against a timer that re-arms forever). */
  runAll(maxTimers = 100_000): void {
    for (let i = 0; i < maxTimers; i++) {
      const next = this.earliest(Number.POSITIVE_INFINITY);
      if (!next) return;
      this.timers.delete(next);
      this.current = Math.max(this.current, next.due);
      next.callback();
    }
    throw new Error(`VirtualClock.runAll: still busy after ${maxTimers} timers`);
  }

  private earliest(limit: number): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers) {
      if (timer.due > limit) continue;
      if (!best || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq)) best = timer;
    }
    return best;
  }
}
