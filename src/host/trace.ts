/**
 * The wire trace (`--trace FILE`): every line in both directions, one per trace line,
 *
 *   2024-05-01T09:30:00.123Z > @4711 LOGIN user=admin password=*** *1A2B
 *   2024-05-01T09:30:00.161Z < @4711 OK user=admin must_change=1 *9C0D
 *
 * `>` host to terminal, `<` terminal to host. Lines pass through maskLine before they reach a
 * sink (the session masks; sinks only format and store), so no sink can leak a secret: passwords
 * and the settlement account become `***`, in unreadable garbage too. Bytes outside printable ASCII
 * are written as \xHH so the file stays one line per wire line.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { traceText } from '../protocol/index.js';
import { type Clock, systemClock } from './timers.js';

export type Direction = '>' | '<';

export interface TraceRecord {
  at: Date;
  direction: Direction;
  /** Already masked and escaped. */
  text: string;
}

export interface WireTrace {
  record(entry: TraceRecord): void;
  close(): Promise<void>;
}

export { escapeNonPrintable, traceText } from '../protocol/index.js';

export function formatTraceRecord(entry: TraceRecord): string {
  return `${entry.at.toISOString()} ${entry.direction} ${entry.text}`;
}

/**
 * Appends to a file (created with mode 0600). Each record is one synchronous write, so a crash or
 * an unplug loses nothing that was traced.
 */
export function createFileTrace(path: string): WireTrace {
  let fd: number | undefined = openSync(path, 'a', 0o600);
  return {
    record(entry) {
      if (fd === undefined) return;
      writeSync(fd, `${formatTraceRecord(entry)}\n`);
    },
    async close() {
      if (fd === undefined) return;
      const open = fd;
      fd = undefined;
      closeSync(open);
    },
  };
}

/** Keeps records in memory (tests, the console command). */
export function createMemoryTrace(): WireTrace & { readonly records: TraceRecord[]; text(): string } {
  const records: TraceRecord[] = [];
  return {
    records,
    record(entry) {
      records.push(entry);
    },
    async close() {},
    text() {
      return records.map((r) => `${formatTraceRecord(r)}\n`).join('');
    },
  };
}

/** Records a raw wire line, masked, at the clock's time. */
export function traceLine(
  trace: WireTrace | undefined,
  clock: Clock,
  direction: Direction,
  raw: string,
): void {
  trace?.record({ at: (clock ?? systemClock)(), direction, text: traceText(raw) });
}
