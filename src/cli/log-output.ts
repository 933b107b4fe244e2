/**
 * How log lines leave the process (docs/cli.md, "Logs"): readable on a terminal, JSON lines
 * elsewhere (a pipe, a file, the journal); a syslog priority prefix (`<4>`) when stderr is the
 * systemd journal, so `journalctl -p warning` filters them; one value per key; and no stack
 * trace for the errors posbridge expects (a port that is busy, a terminal that said no) unless
 * the level is debug or trace.
 */
import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAuditError } from '../audit/errors.js';
import { PosbridgeError } from '../host/errors.js';

export type LogFormat = 'json' | 'pretty';

// pino (CommonJS) is required once an error is logged, not with this module (lazy-logger.ts).
const require = createRequire(import.meta.url);

/** `--log-format` when given, else pretty on a terminal and JSON otherwise. */
export function logFormatFor(requested: LogFormat | undefined, stderr: { isTTY?: boolean }): LogFormat {
  return requested ?? (stderr.isTTY === true ? 'pretty' : 'json');
}

/**
 * True when stderr is the journal's stream: systemd sets JOURNAL_STREAM to its `dev:inode`,
 * and a child that redirected stderr elsewhere (`2>file`) keeps the variable but not the stream,
 * so the two are compared as sd-daemon's sd_journal_stream_fd users do.
 */
export function stderrIsJournal(
  env: NodeJS.ProcessEnv,
  stat: () => { dev: number | bigint; ino: number | bigint } = () => fstatSync(2),
): boolean {
  return isJournalStream(env, stat);
}

/** The same for stdout: under a systemd unit both usually are the journal. */
export function stdoutIsJournal(
  env: NodeJS.ProcessEnv,
  stat: () => { dev: number | bigint; ino: number | bigint } = () => fstatSync(1),
): boolean {
  return isJournalStream(env, stat);
}

function isJournalStream(
  env: NodeJS.ProcessEnv,
  stat: () => { dev: number | bigint; ino: number | bigint },
): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!match) return false;
  try {
    const { dev, ino } = stat();
    return String(dev) === match[1] && String(ino) === match[2];
  } catch {
    return false;
  }
}

/** pino level to syslog priority (sd-daemon.h): crit, err, warning, info, debug. */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/**
 * A JSON log line with one value per key: a field given both by the logger (`pid`) and by the
 * call (`{ pid }`) appears twice in pino's output, which strict readers reject and others read
 * differently. JSON.parse keeps the last one, the call's, which is the more specific.
 */
export function withoutDuplicateKeys(line: string): { text: string; level: number } {
  try {
    const record = JSON.parse(line) as { level?: unknown };
    return {
      text: `${JSON.stringify(record)}\n`,
      level: typeof record.level === 'number' ? record.level : 30,
    };
  } catch {
    return { text: line, level: 30 };
  }
}

/** Errors posbridge expects and explains itself: their stack says nothing to the reader. */
function isExpected(error: unknown): boolean {
  return error instanceof PosbridgeError || isAuditError(error);
}

/** pino's `err` serializer, without stacks for expected errors unless `verbose`. */
export function errSerializer(verbose: boolean): (error: unknown) => unknown {
  return (error) => {
    const { pino } = require('pino') as typeof import('pino');
    const serialized = pino.stdSerializers.err(error as Error) as unknown;
    if (verbose || !isExpected(error)) return serialized;
    return withoutStacks(serialized);
  };
}

function withoutStacks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutStacks);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (key !== 'stack') out[key] = withoutStacks(field);
  return out;
}
