/**
 * The terminal's UART: bytes leave at the line rate (8N1: 10 bit times per byte at `baud`), in
 * order. A line is handed to the link once its last bit would have left, so a host sees the same
 * timing as on a real cable (the physical limit that posbridge's speed is measured against).
 * Several lines that are due together go in one send. baud 0: no pacing, bytes go out at once.
 */
import type { Clock, TimerHandle, Timers } from '../protocol/index.js';

export const BITS_PER_BYTE = 10;

interface Pending {
  bytes: Uint8Array;
  due: number;
}

export interface PacerOptions {
  baud: number;
  clock: Clock;
  timers: Timers;
  /** Where bytes go once they have "left" the UART. */
  deliver(bytes: Uint8Array): void;
  /** Called after a delivery lowered the backlog (to resume reading input). */
  onDrain?(): void;
}

export class Pacer {
  private readonly queue: Pending[] = [];
  private head = 0;
  private queuedBytes = 0;
  /** When the line is free again (ms, fractional). */
  private wireFreeAt = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly options: PacerOptions) {}

  /** Bytes written and not yet delivered. */
  get backlog(): number {
    return this.queuedBytes;
  }

  write(bytes: Uint8Array): void {
    if (this.stopped || bytes.length === 0) return;
    const { baud, clock } = this.options;
    if (baud <= 0) {
      this.options.deliver(bytes);
      return;
    }
    const start = Math.max(clock.now(), this.wireFreeAt);
    this.wireFreeAt = start + (bytes.length * BITS_PER_BYTE * 1000) / baud;
    this.queue.push({ bytes, due: this.wireFreeAt });
    this.queuedBytes += bytes.length;
    this.arm();
  }

  /** Discard what has not left yet and stop (the cable is gone). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined || this.head >= this.queue.length) return;
    const wait = Math.max(0, Math.ceil(this.queue[this.head]!.due - this.options.clock.now()));
    this.timer = this.options.timers.setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.options.clock.now();
    const due: Uint8Array[] = [];
    while (this.head < this.queue.length && this.queue[this.head]!.due <= now) {
      const item = this.queue[this.head++]!;
      this.queuedBytes -= item.bytes.length;
      due.push(item.bytes);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (due.length > 0) this.options.deliver(due.length === 1 ? due[0]! : Buffer.concat(due));
    if (this.stopped) return;
    this.arm();
    if (due.length > 0) this.options.onDrain?.();
  }
}
