/**
 * The raw wire under the suite: bytes out exactly as a check wrote them, lines in exactly as the
 * terminal wrote them, with nothing in between that could hide a fault. No session, no
 * retransmission, no splitter that forgives: the terminal MUST end its lines with CRLF
 * (docs/protocol.md §3), so a received line remembers how it ended, and a line of any length is
 * counted (only its first bytes are kept, so a terminal that never ends a line cannot fill memory).
 */
import type { Transport } from '../host/ports/index.js';
import { traceLine, type WireTrace } from '../host/trace.js';

/** Bytes kept of one received line; the rest is counted. Far above the 512 a line may hold. */
const KEEP_BYTES = 4096;

export type Terminator = 'CRLF' | 'LF' | 'CR';

export interface ReceivedLine {
  /** The bytes before the terminator, one char per byte (latin1), at most KEEP_BYTES of them. */
  text: string;
  /** Every byte before the terminator, counted. */
  length: number;
  terminator: Terminator;
  /** When it arrived, in ms on the wire's clock. */
  at: number;
}

export interface WireRecord {
  dir: 'out' | 'in';
  /** What went or came, one char per byte, without the terminator. */
  text: string;
  /** For `in`, how the line ended; for `out`, the terminator written (or '' when none). */
  end: string;
  length: number;
  at: number;
}

const CR = 0x0d;
const LF = 0x0a;

/** Splits the terminal's output into lines, strictly: CRLF, or the wrong terminator noted. */
export class StrictLineReader {
  private kept: number[] = [];
  private length = 0;
  /** A CR was read and the next byte decides whether it was CRLF or a CR alone. */
  private pendingCr = false;

  push(chunk: Uint8Array, at: number): ReceivedLine[] {
    const lines: ReceivedLine[] = [];
    for (const byte of chunk) {
      if (this.pendingCr) {
        this.pendingCr = false;
        if (byte === LF) {
          lines.push(this.finish('CRLF', at));
          continue;
        }
        lines.push(this.finish('CR', at));
      }
      if (byte === CR) this.pendingCr = true;
      else if (byte === LF) lines.push(this.finish('LF', at));
      else {
        if (this.kept.length < KEEP_BYTES) this.kept.push(byte);
        this.length++;
      }
    }
    // Empty lines carry nothing; a terminal writing them breaks no rule a host can see (§3).
    return lines.filter((line) => line.length > 0);
  }

  private finish(terminator: Terminator, at: number): ReceivedLine {
    const line = { text: String.fromCharCode(...this.kept), length: this.length, terminator, at };
    this.kept = [];
    this.length = 0;
    return line;
  }
}

/** Returns true when it wants no more lines (later ones stay in the backlog for the next listener). */
export type LineListener = (line: ReceivedLine) => boolean | undefined;

/**
 * One open link to the terminal. Lines go to the current listener (the exchange waiting for
 * them), or into a backlog that the next exchange reads first, so nothing that arrives between
 * two exchanges is lost.
 */
export class RawWire {
  private readonly reader = new StrictLineReader();
  private readonly backlog: ReceivedLine[] = [];
  private listener: LineListener | undefined;
  private readonly records: WireRecord[] = [];
  private closeError: Error | undefined;
  private closed = false;
  private readonly closeListeners = new Set<(error: Error) => void>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly transport: Transport,
    private readonly now: () => number,
    /** `--trace FILE`: every line both ways, secrets masked (src/host/trace.ts). */
    private readonly trace?: WireTrace,
  ) {
    this.unsubscribe.push(
      transport.onData((bytes) => {
        for (const line of this.reader.push(bytes, this.now())) this.deliver(line);
      }),
      transport.onClose((error) => {
        this.closed = true;
        this.closeError = error ?? new Error('the link was closed');
        for (const listener of [...this.closeListeners]) listener(this.closeError);
      }),
    );
  }

  get name(): string {
    return this.transport.name;
  }

  /** Set once the link ended; every later send or wait fails with it. */
  get linkError(): Error | undefined {
    return this.closed ? this.closeError : undefined;
  }

  /** Writes `text` (one char per byte) and `end` as they are: the check decides every byte. */
  async send(text: string, end: string): Promise<void> {
    if (this.closed) throw this.closeError!;
    this.records.push({
      dir: 'out',
      text: text.slice(0, KEEP_BYTES),
      end,
      length: text.length,
      at: this.now(),
    });
    traceLine(this.trace, { now: this.now }, '>', text + end.replace(/\r\n$/, ''));
    await this.transport.write(Buffer.from(text + end, 'latin1'));
  }

  /** Takes every line from now on (the backlog first); returns the function that lets go. */
  listen(listener: LineListener): () => void {
    this.listener = listener;
    while (this.backlog.length > 0 && this.listener === listener) {
      if (listener(this.backlog.shift()!) === true && this.listener === listener) this.listener = undefined;
    }
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  onClose(listener: (error: Error) => void): () => void {
    if (this.closed) {
      queueMicrotask(() => listener(this.closeError!));
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Lines that arrived while nobody listened, taken out. */
  drainBacklog(): ReceivedLine[] {
    return this.backlog.splice(0);
  }

  /** Everything sent and received since the last `forget()`. */
  get recorded(): readonly WireRecord[] {
    return this.records;
  }

  /** Starts a new record (each check keeps only its own lines). */
  forget(): void {
    this.records.length = 0;
  }

  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private deliver(line: ReceivedLine): void {
    traceLine(this.trace, { now: this.now }, '<', line.text);
    this.records.push({
      dir: 'in',
      text: line.text,
      end: line.terminator,
      length: line.length,
      at: line.at,
    });
    const listener = this.listener;
    if (!listener) this.backlog.push(line);
    else if (listener(line) === true && this.listener === listener) this.listener = undefined;
  }
}
