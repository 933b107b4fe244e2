/**
 * Timers that fire only when the test advances them, letting I/O (microtasks and immediates) run
 * after each: the fake timers of the daemon's unit tests, in one place. Nothing sleeps.
 */
import type { TimerHandle, Timers } from '../../src/protocol/index.js';

export class ManualTimers implements Timers {
  now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** How many timers are armed. */
  get size(): number {
    return this.pending.size;
  }

  /** Moves time forward, firing due timers in order and letting I/O (microtasks) run after each. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const item of this.pending)
        if (item[1].at <= target && (!next || item[1].at < next[1].at)) next = item;
      if (!next) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].callback();
      await settle();
    }
    this.now = target;
  }
}

/** Lets microtasks and immediate callbacks run (memory links cross in microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
