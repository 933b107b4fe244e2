/**
 * The one timer of a request: its reply wait or its 503 backoff. Each DATA or EVT line re-arms the
 * reply wait, so a running timer of the same kind and length restarts in place (Node's
 * Timeout.refresh) rather than being cleared and made again: one timer per request, not per line.
 */
import type { TimerHandle, Timers } from '../protocol/index.js';

export type TimerKind = 'reply' | 'backoff';

export class RequestTimer {
  private handle: TimerHandle | undefined;
  private kind: TimerKind | undefined;
  private ms: number | undefined;

  /** `fire` runs when an armed timer elapses, with the kind it was armed as. */
  constructor(
    private readonly timers: Timers,
    private readonly fire: (kind: TimerKind) => void,
  ) {}

  arm(kind: TimerKind, ms: number): void {
    const running = this.handle as { refresh?: () => unknown } | undefined;
    if (running && this.kind === kind && this.ms === ms && typeof running.refresh === 'function') {
      running.refresh();
      return;
    }
    this.clear();
    this.kind = kind;
    this.ms = ms;
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      this.fire(kind);
    }, ms);
  }

  clear(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
