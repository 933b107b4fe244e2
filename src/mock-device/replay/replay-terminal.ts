/**
 * `posbridge mock --replay TRACE`: a stand-in terminal that plays the terminal side of a wire
 * trace, so a technician's trace from the field reproduces a problem on a developer's desk.
 *
 * The trace is a script: host lines (`>`) to expect, in order, and the terminal lines (`<`) that
 * followed each. When the host sends a line that matches the next expected one (wire.ts: modulo
 * ID, CRC, masked secrets and volatile values), the terminal lines recorded after it, up to the
 * next host line, are sent at once: re-IDed to the live request's ID, CRCs by the mirror rule. A
 * recorded line with no terminal lines after it (a lost reply) gets none, so the host times out and
 * retransmits as it did in the field; its retransmission matches the next recorded line.
 *
 * A line that does not match is logged (expected vs got, with the trace's line number) and
 * answered `ERR code=500 reason=internal msg="replay: unexpected line"`; the script does not move,
 * so a host that recovers can still follow it. A byte-identical repeat of the line just matched,
 * with an ID, which the trace does not have (a host with a shorter timeout), gets the same answer
 * again, as a replay cache would give it.
 *
 * One script for every connection: a trace of several runs (`--trace` appends) plays run after
 * run, one connection each. Timing is not reproduced: recorded lines go out at once (paced by
 * `baud` when given). The terminal's clock is reproduced as an offset: a recorded TIME reply is
 * re-timed so that it is as far from the live host's clock as it was from the recording host's
 * (wire.ts retimeUtc). The trace's escapes (`\xHH`) are sent as written: a trace cannot tell a
 * non-printable byte from the four characters of an escape in a quoted value.
 */
import {
  type Clock,
  encodeErrReply,
  errorReply,
  LINE_END,
  LineSplitter,
  splitCrc,
  systemClock,
  type Timers,
} from '../../protocol/index.js';
import { unrefTimers } from '../clock.js';
import type { DeviceLink } from '../link.js';
import { type MockLogger, silentLogger } from '../logger.js';
import { Pacer } from '../pacer.js';
import type { TraceEntry } from './trace-file.js';
import { leadingId, matchKey, readdress, retimeUtc, tracedForm } from './wire.js';

export const REPLAY_MISMATCH_MSG = 'replay: unexpected line';

export interface ReplayOptions {
  /** Where matches, mismatches and the end of the script are reported. Default: silent. */
  logger?: MockLogger;
  /** Line rate of the replayed output in bit/s (10 bits per byte); 0 or undefined: unpaced. */
  baud?: number;
  clock?: Clock;
  timers?: Timers;
}

export interface ReplayProgress {
  /** Host lines in the script. */
  hostLines: number;
  /** Host lines matched so far. */
  matched: number;
  /** Lines answered with the mismatch 500. */
  mismatches: number;
  /** Every entry of the script has been played. */
  complete: boolean;
  /** The next expected host line (traced form), if any. */
  next?: string;
}

interface Link {
  link: DeviceLink;
  splitter: LineSplitter;
  send(line: string): void;
  close(): void;
}

export class ReplayTerminal {
  private readonly entries: readonly TraceEntry[];
  private readonly log: MockLogger;
  private cursor = 0;
  private matched = 0;
  private mismatches = 0;
  private announcedEnd = false;
  /** Recorded ID -> the live host's ID for the same request. */
  private readonly ids = new Map<string, string>();
  /** The last host line matched, exactly as received, and what answered it. */
  private last: { raw: string; lines: string[] } | undefined;
  private readonly links = new Set<Link>();

  constructor(
    entries: readonly TraceEntry[],
    private readonly options: ReplayOptions = {},
  ) {
    this.entries = entries;
    this.log = options.logger ?? silentLogger;
  }

  get progress(): ReplayProgress {
    const hostLines = this.entries.filter((e) => e.direction === '>').length;
    const next = this.entries.slice(this.cursor).find((e) => e.direction === '>');
    return {
      hostLines,
      matched: this.matched,
      mismatches: this.mismatches,
      complete: this.cursor >= this.entries.length,
      ...(next && { next: next.text }),
    };
  }

  /** A host plugged in (usable directly as a transport's LinkHandler). */
  attach(link: DeviceLink): void {
    const entry = this.open(link);
    this.log.info({ connection: link.label }, 'replay: connection opened');
    link.onReceive((bytes) => {
      for (const frame of entry.splitter.push(bytes)) {
        const raw = frame.kind === 'too-long' ? `[${frame.length} bytes without a line end]` : frame.text;
        this.hostLine(entry, raw, frame.kind !== 'too-long');
      }
    });
    link.onClose(() => {
      entry.close();
      this.links.delete(entry);
      this.log.info({ connection: link.label }, 'replay: connection closed');
    });
    // Terminal lines recorded before the first host line (an event at plug-in).
    if (this.entries[this.cursor]?.direction === '<') this.playTerminalLines(entry, false);
  }

  /** Closes every connection. */
  close(): void {
    for (const entry of [...this.links]) {
      entry.close();
      entry.link.close();
    }
    this.links.clear();
  }

  private open(link: DeviceLink): Link {
    const baud = this.options.baud ?? 0;
    const pacer =
      baud > 0
        ? new Pacer({
            baud,
            clock: this.options.clock ?? systemClock,
            timers: this.options.timers ?? unrefTimers,
            deliver: (bytes) => link.send(bytes),
          })
        : undefined;
    const entry: Link = {
      link,
      splitter: new LineSplitter(),
      send: (line) => {
        const bytes = Buffer.from(line + LINE_END, 'latin1');
        if (pacer) pacer.write(bytes);
        else link.send(bytes);
      },
      close: () => pacer?.stop(),
    };
    this.links.add(entry);
    return entry;
  }

  private hostLine(link: Link, raw: string, readable: boolean): void {
    const got = readable ? tracedForm(raw) : raw;
    const expected = this.entries[this.cursor];
    if (expected?.direction === '>' && readable && matchKey(expected.text) === matchKey(got)) {
      const recordedId = leadingId(expected.text);
      const liveId = leadingId(raw);
      if (recordedId !== undefined && liveId !== undefined) this.ids.set(recordedId, liveId);
      this.cursor++;
      this.matched++;
      this.last = { raw, lines: this.playTerminalLines(link, splitCrc(raw) !== undefined) };
      return;
    }
    if (this.last && raw === this.last.raw && leadingId(raw) !== undefined) {
      this.log.info(
        { connection: link.link.label, line: got },
        'replay: a retransmission the trace does not have, answered again',
      );
      for (const line of this.last.lines) link.send(line);
      return;
    }
    this.mismatches++;
    this.log.warn(
      {
        connection: link.link.label,
        expected: expected ? expected.text : '(the trace has ended)',
        ...(expected && { traceLine: expected.lineNo }),
        got,
      },
      `${REPLAY_MISMATCH_MSG}: expected ${expected ? JSON.stringify(expected.text) : 'nothing more'}, got ${JSON.stringify(got)}`,
    );
    const id = readable ? leadingId(raw) : undefined;
    link.send(
      encodeErrReply(
        { id, crc: readable && splitCrc(raw) !== undefined },
        errorReply('internal', { msg: REPLAY_MISMATCH_MSG }),
      ),
    );
  }

  /** Sends the terminal lines from the cursor up to the next host line; returns them. */
  private playTerminalLines(link: Link, crc: boolean): string[] {
    const sent: string[] = [];
    while (this.cursor < this.entries.length && this.entries[this.cursor]!.direction === '<') {
      const recorded = this.entries[this.cursor++]!;
      const at = recorded.at;
      const now = (this.options.clock ?? systemClock).now();
      const line = readdress(recorded.text, {
        mapId: (id) => this.ids.get(id),
        crc,
        ...(at !== undefined && { rewrite: (text: string) => retimeUtc(text, at, now) }),
      });
      sent.push(line);
      link.send(line);
    }
    if (this.cursor >= this.entries.length && !this.announcedEnd) {
      this.announcedEnd = true;
      this.log.info(
        { matched: this.matched, mismatches: this.mismatches },
        'replay: the trace has been played to its end',
      );
    }
    return sent;
  }
}
