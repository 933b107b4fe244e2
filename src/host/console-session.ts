/**
 * The console's wire: lines typed by a person go out (with `@ID` and a CRC added, unless raw),
 * and every line that comes back is shown as it arrives, replies and events alike. No
 * correlation, no retransmission: the person is the protocol engine here.
 */
import { appendCrc, LINE_END, LineSplitter, parseReply, splitCrc } from '../protocol/index.js';
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
  clock?: () => Date;
  /** First ID to use (then +1 per line). */
  firstId: number;
}

export class ConsoleSession {
  private readonly splitter = new LineSplitter();
  private nextId: number;
  private readonly clock: () => Date;

  constructor(
    private readonly transport: Transport,
    private readonly options: ConsoleSessionOptions,
    onLine: (line: ConsoleLine) => void,
  ) {
    this.nextId = options.firstId;
    this.clock = options.clock ?? (() => new Date());
    transport.onData((bytes) => {
      for (const frame of this.splitter.push(bytes)) {
        if (frame.kind === 'too-long') {
          onLine({ text: `(a line of ${frame.length} bytes, discarded)`, badCrc: false, kind: 'too-long' });
          continue;
        }
        traceLine(this.options.trace, this.clock, '<', frame.text);
        if (frame.kind === 'bad-bytes') {
          onLine({ text: frame.text, badCrc: false, kind: 'bad-bytes' });
          continue;
        }
        const parsed = parseReply(frame.text);
        const kind = parsed.ok ? (parsed.reply.kind === 'evt' ? 'event' : 'reply') : 'other';
        onLine({ text: frame.text, badCrc: !parsed.ok && parsed.crcBad, kind });
      }
    });
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
    traceLine(this.options.trace, this.clock, '>', line);
    await this.transport.write(new TextEncoder().encode(line + LINE_END));
    return line;
  }
}
