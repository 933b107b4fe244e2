/**
 * One connection to the terminal (a TCP connection, or a serial line from open to close): the
 * per-connection half of TSP/1. It owns the framing (LineSplitter), the login, the replay cache,
 * the CRC mode of events, the idle limit and the output path (delayed replies, behaviours' line
 * hooks, the paced UART). What a request means is the terminal's business (ConnectionHost).
 *
 * Memory stays bounded whatever the host sends: lines are cut at 512 bytes by the splitter, the
 * replay cache holds 16 replies, and when the terminal's output backs up (a paced line, delayed
 * replies) it stops reading, keeping at most MAX_INPUT_BACKLOG received bytes; beyond that bytes
 * are dropped, as a UART overruns.
 */

import type { Clock, TimerHandle, Timers } from '../protocol/index.js';
import {
  encodeEvent,
  type FieldList,
  type Frame,
  LINE_END,
  LineSplitter,
  LOGIN_IDLE_SECONDS,
} from '../protocol/index.js';
import type { ConnectionInfo, Direction, MockBehaviour, OutgoingLine } from './behaviour.js';
import type { Violation } from './faults/violate.js';
import type { DeviceLink } from './link.js';
import type { MockLogger } from './logger.js';
import { Pacer } from './pacer.js';
import type { Recorder } from './recording.js';
import { ReplayCache } from './replay-cache.js';

/** Output (bytes not yet on the wire) above which the terminal stops reading input. */
export const OUTPUT_HIGH_WATER = 16 * 1024;
/** Received bytes kept while input is paused; more are dropped (an overrun). */
export const MAX_INPUT_BACKLOG = 64 * 1024;
/** Input is framed in slices this large, so a huge chunk cannot queue unbounded replies at once. */
const INPUT_SLICE = 512;

export interface Login {
  /** `admin` or a two-digit operator ID. */
  user: string;
}

export interface ConnectionHost {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly baud: number;
  readonly log: MockLogger;
  readonly recorder: Recorder;
  readonly behaviours: readonly MockBehaviour[];
  /** A behaviour breaks this rule of docs/protocol.md on purpose (faults/violate.ts). */
  violates(rule: Violation): boolean;
  handleFrame(connection: Connection, frame: Frame): void;
  connectionClosed(connection: Connection): void;
}

interface DelayedLine {
  text: string;
  releaseAt: number;
}

export class Connection implements ConnectionInfo {
  /** Replies and events carry a CRC (the last line answered, 413 excepted, had one: D5). */
  crc = false;
  login: Login | undefined;
  readonly replay = new ReplayCache();
  private lastLineAt: number | undefined;
  private readonly splitter = new LineSplitter();
  private readonly pacer: Pacer;
  private readonly input: Uint8Array[] = [];
  private inputBytes = 0;
  private overrunLogged = false;
  private readonly delayed: DelayedLine[] = [];
  private delayedBytes = 0;
  private lastReleaseAt = Number.NEGATIVE_INFINITY;
  private delayTimer: TimerHandle | undefined;
  private processing = false;
  private isClosed = false;

  constructor(
    readonly id: number,
    private readonly link: DeviceLink,
    private readonly host: ConnectionHost,
  ) {
    this.pacer = new Pacer({
      baud: host.baud,
      clock: host.clock,
      timers: host.timers,
      deliver: (bytes) => this.deliver(bytes),
      onDrain: () => this.resumeInput(),
    });
  }

  get label(): string {
    return this.link.label;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Starts listening to the link. */
  start(): void {
    this.link.onReceive((bytes) => this.receive(bytes));
    this.link.onClose(() => this.teardown());
  }

  /**
   * A line arrived: it counts as activity. A login idle for LOGIN_IDLE_SECONDS ends first.
   * Returns true when that happened.
   */
  touch(now: number): boolean {
    const idle =
      this.login !== undefined &&
      this.lastLineAt !== undefined &&
      now - this.lastLineAt >= LOGIN_IDLE_SECONDS * 1000;
    if (idle) this.login = undefined;
    this.lastLineAt = now;
    return idle;
  }

  /**
   * The terminal restarted: the login and the replay cache are gone. A power-up also ends what
   * the connection remembered of the host (D41); REBOOT and a watchdog restart keep the event-CRC
   * flag (D5).
   */
  restarted(powerUp: boolean): void {
    this.login = undefined;
    this.replay.clear();
    if (powerUp) this.crc = false;
  }

  /** A line of a reply (already encoded), held `delayMs` first; replies never overtake each other. */
  sendReply(text: string, delayMs = 0): void {
    if (this.isClosed) return;
    const now = this.host.clock.now();
    const releaseAt = Math.max(now + delayMs, this.lastReleaseAt);
    if (releaseAt <= now && this.delayed.length === 0) {
      this.emit({ text, kind: 'reply' });
      return;
    }
    this.lastReleaseAt = releaseAt;
    this.delayed.push({ text, releaseAt });
    this.delayedBytes += text.length;
    this.armDelay();
  }

  /** An unsolicited event, with a CRC when this connection's last request had one. */
  sendEvent(name: string, fields: FieldList): void {
    if (this.isClosed) return;
    this.emit({ text: encodeEvent(name, fields, this.crc), kind: 'event' });
  }

  /** The terminal pulls the cable. */
  close(): void {
    if (this.isClosed) return;
    this.teardown();
    this.link.close();
  }

  private receive(bytes: Uint8Array): void {
    if (this.isClosed || bytes.length === 0) return;
    const allowed = this.allowBytes('in', bytes.length);
    if (allowed < bytes.length) {
      this.process(bytes.subarray(0, allowed), true);
      this.host.log.info({ connection: this.label }, 'fault: cable pulled (receive limit)');
      this.close();
      return;
    }
    if (this.input.length > 0 || this.outputBacklog() > OUTPUT_HIGH_WATER) {
      this.queueInput(bytes);
      return;
    }
    this.process(bytes, false);
  }

  private process(bytes: Uint8Array, ignoreBackpressure: boolean): void {
    if (this.processing) {
      // Re-entered from a handler (a behaviour or transport calling back): keep the order.
      this.queueInput(bytes);
      return;
    }
    this.processing = true;
    // violate:rule=cr-not-terminator: a CR is dropped, so only LF ends a line.
    if (this.host.violates('cr-not-terminator')) bytes = bytes.filter((byte) => byte !== 0x0d);
    try {
      for (let offset = 0; offset < bytes.length && !this.isClosed; offset += INPUT_SLICE) {
        if (!ignoreBackpressure && this.outputBacklog() > OUTPUT_HIGH_WATER) {
          this.queueInput(bytes.subarray(offset));
          return;
        }
        for (const frame of this.splitter.push(bytes.subarray(offset, offset + INPUT_SLICE))) {
          if (this.isClosed) return;
          this.host.handleFrame(this, frame);
        }
      }
    } finally {
      this.processing = false;
    }
    if (!ignoreBackpressure) this.resumeInput();
  }

  private queueInput(bytes: Uint8Array): void {
    const room = MAX_INPUT_BACKLOG - this.inputBytes;
    if (room < bytes.length && !this.overrunLogged) {
      this.overrunLogged = true;
      this.host.log.warn(
        { connection: this.label },
        'input overrun: the host sends faster than the terminal answers',
      );
    }
    if (room <= 0) return;
    const kept = Uint8Array.from(bytes.subarray(0, room));
    this.input.push(kept);
    this.inputBytes += kept.length;
  }

  private resumeInput(): void {
    while (
      !this.isClosed &&
      !this.processing &&
      this.input.length > 0 &&
      this.outputBacklog() <= OUTPUT_HIGH_WATER
    ) {
      const chunk = this.input.shift()!;
      this.inputBytes -= chunk.length;
      this.process(chunk, false);
    }
  }

  private outputBacklog(): number {
    return this.pacer.backlog + this.delayedBytes;
  }

  private armDelay(): void {
    if (this.delayTimer !== undefined || this.delayed.length === 0) return;
    const wait = Math.max(0, this.delayed[0]!.releaseAt - this.host.clock.now());
    this.delayTimer = this.host.timers.setTimeout(() => {
      this.delayTimer = undefined;
      const now = this.host.clock.now();
      while (!this.isClosed && this.delayed.length > 0 && this.delayed[0]!.releaseAt <= now) {
        const line = this.delayed.shift()!;
        this.delayedBytes -= line.text.length;
        this.emit({ text: line.text, kind: 'reply' });
      }
      this.armDelay();
      this.resumeInput();
    }, wait);
  }

  private emit(line: OutgoingLine): void {
    let lines = [line];
    for (const behaviour of this.host.behaviours) {
      if (!behaviour.onLine) continue;
      lines = lines.flatMap((l) => this.guard(behaviour, () => behaviour.onLine!(this, l)) ?? [l]);
    }
    for (const { text } of lines) {
      this.host.log.debug({ connection: this.label, line: text }, 'send');
      this.host.recorder.sent(this.label, text);
      this.pacer.write(Buffer.from(text + LINE_END, 'latin1'));
    }
  }

  private deliver(bytes: Uint8Array): void {
    if (this.isClosed) return;
    const allowed = this.allowBytes('out', bytes.length);
    if (allowed > 0) this.link.send(allowed < bytes.length ? bytes.subarray(0, allowed) : bytes);
    if (allowed < bytes.length) {
      this.host.log.info({ connection: this.label }, 'fault: cable pulled (send limit)');
      this.close();
    }
  }

  private allowBytes(direction: Direction, count: number): number {
    let allowed = count;
    for (const behaviour of this.host.behaviours) {
      const limit = this.guard(behaviour, () => behaviour.onBytes?.(this, direction, count));
      if (limit !== undefined) allowed = Math.min(allowed, Math.max(0, limit));
    }
    return allowed;
  }

  private teardown(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.pacer.stop();
    if (this.delayTimer !== undefined) this.host.timers.clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    this.delayed.length = 0;
    this.delayedBytes = 0;
    this.input.length = 0;
    this.inputBytes = 0;
    this.splitter.reset();
    this.replay.clear();
    this.login = undefined;
    for (const behaviour of this.host.behaviours) this.guard(behaviour, () => behaviour.onClose?.(this));
    this.host.connectionClosed(this);
  }

  /** A behaviour that throws is logged and ignored: no behaviour can crash the terminal. */
  private guard<T>(behaviour: MockBehaviour, hook: () => T): T | undefined {
    try {
      return hook();
    } catch (error) {
      this.host.log.error(
        { connection: this.label, behaviour: behaviour.name, err: error },
        'behaviour failed',
      );
      return undefined;
    }
  }
}
