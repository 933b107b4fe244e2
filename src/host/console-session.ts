/**
 * The console's wire: lines typed by a person go out (with `@ID` and a CRC added, unless raw),
 * and every line that comes back is shown as it arrives, replies and events alike. No
 * correlation, no retransmission: the person is the protocol engine here.
 */
import {
  appendCrc,
  type Clock,
  crc16,
  isSecretKeyName,
  LINE_END,
  LineSplitter,
  MASK,
  maskLineDetailed,
  parseReply,
  splitCrc,
  systemClock,
} from '../protocol/index.js';
import type { Transport } from './ports/index.js';
import { traceLine, type WireTrace } from './trace.js';

export interface ConsoleLine {
  text: string;
  /** A line with a CRC whose CRC does not match. */
  badCrc: boolean;
  kind: 'reply' | 'event' | 'other' | 'too-long' | 'bad-bytes';
}

export interface ConsoleSessionOptions {
  raw: boolean;
  trace?: WireTrace | undefined;
  clock?: Clock | undefined;
  /** First ID to use (then +1 per line). */
  firstId: number;
}

/** How many typed secrets are remembered (in memory only) to hide a terminal's echo of them. */
const REMEMBERED_SECRETS = 16;

export class ConsoleSession {
  private readonly splitter = new LineSplitter();
  /** Secrets typed in this session, longest first: a terminal that quotes one back gets `***`. */
  private secrets: string[] = [];
  private nextId: number;
  private readonly clock: Clock;

  constructor(
    private readonly transport: Transport,
    private readonly options: ConsoleSessionOptions,
    onLine: (line: ConsoleLine) => void,
  ) {
    this.nextId = options.firstId;
    this.clock = options.clock ?? systemClock;
    transport.onData((bytes) => {
      for (const frame of this.splitter.push(bytes)) {
        if (frame.kind === 'too-long') {
          onLine({ text: `(a line of ${frame.length} bytes, discarded)`, badCrc: false, kind: 'too-long' });
          continue;
        }
        const text = this.redact(frame.text);
        traceLine(this.options.trace, this.clock, '<', text);
        if (frame.kind === 'bad-bytes') {
          onLine({ text, badCrc: false, kind: 'bad-bytes' });
          continue;
        }
        // The CRC is judged on the line as it came; the person sees it with echoes hidden.
        const parsed = parseReply(frame.text);
        const kind = parsed.ok ? (parsed.reply.kind === 'evt' ? 'event' : 'reply') : 'other';
        onLine({ text, badCrc: !parsed.ok && parsed.crcBad, kind });
      }
    });
  }

  /**
   * A received line with every secret typed earlier replaced by `***` (a terminal may echo one).
   * A line whose CRC was right gets the CRC of what is shown, so it still reads as intact.
   */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(MASK);
    if (out === text) return text;
    const before = splitCrc(text);
    const after = splitCrc(out);
    return before && after && crc16(before.body) === before.crc ? appendCrc(after.body) : out;
  }

  private remember(found: string[]): void {
    // Short words, key names and the mask itself would hide ordinary text, and are no password.
    const fresh = found.filter((s) => s.length >= 4 && s !== MASK && !isSecretKeyName(s));
    if (fresh.length === 0) return;
    const all = [...new Set([...fresh, ...this.secrets])].slice(0, REMEMBERED_SECRETS);
    this.secrets = all.sort((a, b) => b.length - a.length);
  }

  /** What goes on the wire for a typed line (without the terminator). */
  frame(typed: string): string {
    const line = typed.trim();
    if (this.options.raw || line.startsWith('@') || splitCrc(line)) return line;
    const id = this.nextId;
    this.nextId = this.nextId >= 99_999_999 ? 1 : this.nextId + 1;
    return appendCrc(`@${id} ${line}`);
  }

  /** Send a typed line; returns the line as sent. Raw mode keeps the person's bytes exactly. */
  async send(typed: string): Promise<string> {
    const line = this.options.raw ? typed : this.frame(typed);
    this.remember(maskLineDetailed(line).secrets);
    traceLine(this.options.trace, this.clock, '>', line);
    await this.transport.write(new TextEncoder().encode(line + LINE_END));
    return line;
  }
}
