/**
 * A logger that becomes pino on its first line: pino and its streams are ~30 modules, and a
 * command at the default level (warn) that has nothing to say never needs them (`posbridge info`
 * starts that much sooner). A call at a disabled level is a no-op, as it is in pino; any other
 * use (an enabled level, child, flush, setting the level) builds the real logger, synchronously,
 * and goes to it from then on, so the lines are pino's own, in the same order.
 */
import type { Logger } from 'pino';

/** pino's standard levels (a level is enabled when its value is at least the logger's). */
const LEVEL_VALUES: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

const noop = () => undefined;

export function lazyLogger(level: string, build: () => Logger): Logger {
  const threshold = LEVEL_VALUES[level];
  let real: Logger | undefined;
  const target = () => {
    real ??= build();
    return real;
  };
  // An unknown level (never: commander checks --log-level) gets the real logger at once.
  if (threshold === undefined) return target();
  return new Proxy({} as Logger, {
    get(_, key) {
      if (real === undefined && typeof key === 'string') {
        const value = LEVEL_VALUES[key];
        if (value !== undefined && (key === 'silent' || value < threshold)) return noop;
        if (key === 'level') return level;
        if (key === 'isLevelEnabled') return (name: string) => (LEVEL_VALUES[name] ?? 0) >= threshold;
      }
      const logger = target();
      const value = Reflect.get(logger, key, logger) as unknown;
      return typeof value === 'function' ? value.bind(logger) : value;
    },
    set(_, key, value) {
      return Reflect.set(target(), key, value);
    },
    has(_, key) {
      return Reflect.has(target(), key);
    },
  });
}
