/**
 * The logger the mock terminal writes to: the subset of pino it uses, passed in (never a global),
 * silent by default. Lines go through maskLine before they reach it: no secret is ever logged.
 */
export interface MockLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const noop = (): void => {};
export const silentLogger: MockLogger = { debug: noop, info: noop, warn: noop, error: noop };
