import { type Logger, pino } from 'pino';

/** The stack under test logs nothing: a benchmark measures the work, not the log volume. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
