/**
 * Paths mean what the user typed: a relative `--port ./pty0`, `--trace t.log` or
 * `--manifest rows.csv` is relative to the directory the command was typed in. Resolved here,
 * once, before any command runs, so nothing downstream (least of all a daemon started elsewhere,
 * whose working directory is another) can read them against another directory.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { parsePortName } from '../host/ports/port-name.js';

/** Options (commander's camelCase names) that name a file the user typed. */
export const PATH_OPTIONS = [
  'trace',
  'profile',
  'manifest',
  'junit',
  'credentialsOut',
  'adminPasswordFile',
  'newPasswordFile',
  'passwordFile',
  'config',
  'audit',
] as const;

/** A device path made absolute; `tcp://`, `mock://` and other URLs are left as they are. */
export function resolvePortName(port: string, cwd: string): string {
  if (port.trim() === '' || parsePortName(port).kind !== 'device' || isAbsolute(port)) return port;
  return resolve(cwd, port);
}

export function resolveUserPath(path: string, cwd: string): string {
  return path === '' || isAbsolute(path) ? path : resolve(cwd, path);
}

/** Rewrites the path options of the command about to run (a commander preAction hook). */
export function resolveCommandPaths(command: Command, cwd: string): void {
  const port: unknown = command.getOptionValue('port');
  if (typeof port === 'string') command.setOptionValue('port', resolvePortName(port, cwd));
  else if (Array.isArray(port))
    command.setOptionValue(
      'port',
      port.map((p: unknown) => (typeof p === 'string' ? resolvePortName(p, cwd) : p)),
    );
  for (const name of PATH_OPTIONS) {
    const value: unknown = command.getOptionValue(name);
    if (typeof value === 'string') command.setOptionValue(name, resolveUserPath(value, cwd));
  }
}
