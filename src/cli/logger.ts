/** pino on stderr, with every field that could hold a secret redacted (output rules: log-output.ts). */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { SECRET_KEYS } from '../protocol/index.js';
import { colourEnabled, type Paint, paintFor } from './colour.js';
import type { CommonOptions } from './context.js';
import { lazyLogger } from './lazy-logger.js';
import {
  errSerializer,
  logFormatFor,
  stderrIsJournal,
  syslogPriority,
  withoutDuplicateKeys,
} from './log-output.js';
import { jsonSafe, visible } from './render.js';

// pino is CommonJS: required when a logger first writes (lazy-logger.ts), not with this module.
const require = createRequire(import.meta.url);

/** The one list of secret names (src/protocol/secret-keys.ts), at the top and one level down. */
export const REDACTED_PATHS = [
  ...[...SECRET_KEYS, 'value'].flatMap((key) => [key, `*.${key}`]),
  'settle.account',
];

/** Where the lines go and what the environment says of it (colour, the journal). */
export interface LogContext {
  env?: NodeJS.ProcessEnv;
  noColor?: boolean;
}

type LogStream = NodeJS.WritableStream & { isTTY?: boolean };

export function createLogger(
  options: Pick<CommonOptions, 'logLevel' | 'logFormat'>,
  destination: LogStream = process.stderr,
  context: LogContext = {},
): Logger {
  return lazyLogger(options.logLevel, () => pinoLogger(options, destination, context));
}

function pinoLogger(
  options: Pick<CommonOptions, 'logLevel' | 'logFormat'>,
  destination: LogStream,
  context: LogContext,
): Logger {
  const { pino } = require('pino') as typeof import('pino');
  const level = options.logLevel;
  const env = context.env ?? {};
  const verbose = level === 'debug' || level === 'trace';
  const base = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '***' },
    base: { pid: process.pid },
    serializers: { err: errSerializer(verbose) },
  };
  // Only the process's own stderr can be the journal's stream (a test's buffer never is).
  const journal = destination === process.stderr && stderrIsJournal(env);
  const out = (line: string, level: number) =>
    destination.write(journal ? `<${syslogPriority(level)}>${line}` : line);
  if (logFormatFor(options.logFormat, destination) === 'pretty') {
    // A readable line without an extra transport process: time, level, message, then fields.
    const paint = paintFor(colourEnabled(destination, env, context.noColor === true));
    return pino(
      { ...base, base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
      prettyStream(out, paint),
    );
  }
  // JSON escapes C0 controls itself; C1, bidi and zero-width characters from a terminal's text
  // are escaped here, so a log line shown on a screen is only text (docs/cli.md, "Terminal text").
  return pino(base, {
    write: (line: string) => {
      const { text, level } = withoutDuplicateKeys(line);
      out(jsonSafe(text), level);
    },
  });
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_COLOURS: Record<number, Parameters<Paint>[0]> = {
  10: 'dim',
  20: 'dim',
  40: 'yellow',
  50: 'red',
  60: 'red',
};

function prettyStream(
  out: (line: string, level: number) => void,
  paint: Paint,
): { write(line: string): void } {
  return {
    write(line: string) {
      const { time, level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const extra = Object.keys(rest).length > 0 ? ` ${jsonSafe(JSON.stringify(rest))}` : '';
      const name = LEVEL_NAMES[level as number] ?? String(level);
      const colour = LEVEL_COLOURS[level as number];
      out(
        `${String(time).slice(11, 23)} ${colour ? paint(colour, name) : name} ${visible(String(msg ?? ''))}${extra}\n`,
        level as number,
      );
    },
  };
}
