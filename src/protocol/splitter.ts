/**
 * TSP/1 framing: bytes in, typed frames out.
 *
 * The problems this solves: a read may end anywhere (inside a line, between the CR and LF of a
 * CRLF); senders end lines with CR (a person in picocom), LF or CRLF; a line may be garbage or
 * endless (a baud mismatch, a noisy cable). So: CR and LF each end a line and empty lines are
 * dropped, which makes a CRLF one terminator wherever the chunk boundary falls; at most
 * MAX_LINE_BYTES are kept, longer lines are only counted, so memory stays bounded whatever arrives;
 * nothing is thrown, every outcome is a Frame.
 */
import { MAX_LINE_BYTES } from './limits.js';

export type Frame =
  /** A line of printable ASCII (0x20-0x7E), not blank, without its terminator. */
  | { kind: 'line'; text: string }
  /** A line longer than MAX_LINE_BYTES; `length` counts every byte before its terminator. */
  | { kind: 'too-long'; length: number }
  /**
   * A line holding a byte outside 0x20-0x7E. `text` is its bytes as Latin-1 (one char per byte),
   * kept so the receiver can still read an ID or CRC to echo; `offset` is the first bad byte.
   */
  | { kind: 'bad-bytes'; text: string; offset: number };

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;

export class LineSplitter {
  private readonly buffer: Uint8Array;
  private length = 0;
  private firstBadOffset = -1;
  private onlySpaces = true;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {
    this.buffer = new Uint8Array(maxLineBytes);
  }

  /** Feed a chunk; returns the frames it completed (possibly none). */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === CR || byte === LF) {
        const frame = this.finishLine();
        if (frame) frames.push(frame);
        continue;
      }
      if (this.length < this.maxLineBytes) this.buffer[this.length] = byte;
      if (this.firstBadOffset < 0 && (byte < 0x20 || byte > 0x7e)) this.firstBadOffset = this.length;
      if (byte !== SPACE) this.onlySpaces = false;
      this.length++;
    }
    return frames;
  }

  /** Bytes held for the line in progress (never more than the limit). */
  get pendingBytes(): number {
    return Math.min(this.length, this.maxLineBytes);
  }

  /** Forget a partial line (e.g. when the link closes). */
  reset(): void {
    this.length = 0;
    this.firstBadOffset = -1;
    this.onlySpaces = true;
  }

  private finishLine(): Frame | undefined {
    const { length, firstBadOffset, onlySpaces } = this;
    this.reset();
    if (length > this.maxLineBytes) return { kind: 'too-long', length };
    if (onlySpaces) return undefined; // empty or blank: ignored, no reply
    const text = latin1(this.buffer, length);
    if (firstBadOffset >= 0) return { kind: 'bad-bytes', text, offset: firstBadOffset };
    return { kind: 'line', text };
  }
}

function latin1(bytes: Uint8Array, length: number): string {
  // At most MAX_LINE_BYTES arguments: well inside the engine's limit for a call. apply() takes the
  // typed array as it is; a spread would first iterate it into an array, on every line.
  return String.fromCharCode.apply(null, bytes.subarray(0, length) as unknown as number[]);
}
