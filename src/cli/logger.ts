/** pino on stderr, with every field that could hold a secret redacted. */
import { type Logger, pino } from 'pino';
import { SECRET_KEYS } from '../protocol/index.js';
import type { CommonOptions } from './context.js';
import { jsonSafe, visible } from './render.js';

/** The one list of secret names (src/protocol/secret-keys.ts), at the top and one level down. */
export const REDACTED_PATHS = [
  ...[...SECRET_KEYS, 'value'].flatMap((key) => [key, `*.${key}`]),
  'settle.account',
];

export function createLogger(
  options: Pick<CommonOptions, 'logLevel' | 'logFormat'>,
  destination: NodeJS.WritableStream = process.stderr,
): Logger {
  const level = options.logLevel;
  const base = { level, redact: { paths: REDACTED_PATHS, censor: '***' }, base: { pid: process.pid } };
  if (options.logFormat === 'pretty') {
    // A readable line without an extra transport process: time, level, message, then fields.
    return pino(
      { ...base, base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
      prettyStream(destination),
    );
  }
  // JSON escapes C0 controls itself; C1, bidi and zero-width characters from a terminal's text
  // are escaped here, so a log line shown on a screen is only text (docs/cli.md, "Terminal text").
  return pino(base, { write: (line: string) => destination.write(jsonSafe(line)) });
}

function prettyStream(out: NodeJS.WritableStream): { write(line: string): void } {
  const names: Record<number, string> = {
    10: 'TRACE',
    20: 'DEBUG',
    30: 'INFO',
    40: 'WARN',
    50: 'ERROR',
    60: 'FATAL',
  };
  return {
    write(line: string) {
      const { time, level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const extra = Object.keys(rest).length > 0 ? ` ${jsonSafe(JSON.stringify(rest))}` : '';
      out.write(
        `${String(time).slice(11, 23)} ${names[level as number] ?? level} ${visible(String(msg ?? ''))}${extra}\n`,
      );
    },
  };
}
