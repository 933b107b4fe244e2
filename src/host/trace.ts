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
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { type Clock, systemClock, traceText } from '../protocol/index.js';

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
 * A trace over a line writer (a file descriptor, a stream). A failed write (disk full, the file
 * gone) must never end the run it records: the sink stops writing and tells `onFailure` once.
 */
export function createWriterTrace(
  write: (text: string) => void,
  options: { close?: () => void | Promise<void>; onFailure?: (error: Error) => void } = {},
): WireTrace {
  let failed = false;
  let closed = false;
  return {
    record(entry) {
      if (failed || closed) return;
      try {
        write(`${formatTraceRecord(entry)}\n`);
      } catch (error) {
        failed = true;
        options.onFailure?.(error as Error);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await options.close?.();
    },
  };
}

/**
 * Appends to a file (created with mode 0600, never through a symlink). Each record is one
 * synchronous write, so a crash or an unplug loses nothing that was traced. The CLI checks and
 * creates its `--trace` file itself (src/cli/output-files.ts) and hands the driver a sink.
 */
export function createFileTrace(path: string, onFailure?: (error: Error) => void): WireTrace {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  return createWriterTrace((text) => writeSync(fd, text), {
    close: () => closeSync(fd),
    ...(onFailure && { onFailure }),
  });
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
  trace?.record({ at: new Date((clock ?? systemClock).now()), direction, text: traceText(raw) });
}
