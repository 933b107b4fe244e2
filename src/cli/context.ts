/**
 * What every command gets: its IO, what its runtime is built from (runtime.ts: the engine, and
 * the hub when there is one), a logger, the clock. The CLI is thin: it parses flags, calls the
 * engine, prints.
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { ListedPort, Transport } from '../host/ports/index.js';
import { DEFAULT_BAUD } from '../protocol/index.js';
import type { HubAbout } from '../station/index.js';
import { markAddressed } from './addressing.js';
import type { DaemonCommandDeps } from './commands/daemon.js';
import type { WatchDeps } from './commands/status.js';
import type { CliIo } from './io.js';
import type { RuntimeParts } from './runtime.js';

export interface CommonOptions {
  port?: string;
  /** `--sn SN`: the connected terminal with this serial number (addressing.ts). */
  sn?: string;
  /** `--baud`, when given (DEFAULT_BAUD otherwise; through the daemon, the port's own rate). */
  baud?: number;
  /** `--timeout`, when given (DEFAULT_TIMEOUT_MS otherwise; through the daemon, its config's). */
  timeout?: number;
  trace?: string;
  logLevel: string;
  /** `--log-format`; unset: pretty when stderr is a terminal, else json (log-output.ts). */
  logFormat?: 'json' | 'pretty';
  json?: boolean;
  /** `--socket PATH`: go through the daemon there (an error if none answers). */
  socket?: string;
}

/** One default line rate for host and mock (src/protocol/limits.ts); re-exported for the CLI. */
export { DEFAULT_BAUD };
export const DEFAULT_TIMEOUT_MS = 3000;

/** Who runs the operations and keeps their record: this process, or the daemon (which says so). */
export type EngineAbout = HubAbout;

/**
 * RuntimeParts: what the runtime is built from (clock, randomness, the OS user and host, the
 * port registry); DaemonCommandDeps: what `posbridge daemon` needs besides; WatchDeps: what
 * `posbridge watch` needs (all optional).
 */
export interface CliDeps extends RuntimeParts, DaemonCommandDeps, WatchDeps {
  io: CliIo;
  /** Where the action that ran leaves its exit code (commander drops return values). */
  result: { exitCode: number };
  createLogger(options: CommonOptions): Logger;
  /** Serial ports with their USB identity (injected: the real lister needs udev). */
  listPorts(): Promise<ListedPort[]>;
  /** Where the audit trail lives (POSBRIDGE_AUDIT or the user's data directory). */
  auditPath(): string;
  /** Opens a raw transport, for the console. */
  openTransport(options: CommonOptions, logger: Logger): Promise<Transport>;
}

/** The flags every terminal command takes (docs/cli.md, "Common flags"). */
export function addCommonOptions(command: Command, portRequired = true): Command {
  const port = '-p, --port <port>';
  const portHelp =
    'terminal port: /dev/ttyUSB0, /dev/serial/by-id/..., tcp://HOST:PORT, rfc2217://HOST:PORT, telnet://HOST:PORT or mock://NAME';
  if (portRequired)
    // Not required: --sn, POSBRIDGE_PORT or the only terminal connected can stand for it.
    markAddressed(command)
      .option(port, `${portHelp} (default: --sn, else $POSBRIDGE_PORT, else the only terminal connected)`)
      .option(
        '--sn <serial>',
        'the connected terminal with this serial number (through the daemon, else a scan of the allow-listed ports)',
      );
  else command.option(port, portHelp);
  return command
    .option('--baud <rate>', `line rate in baud (default: ${DEFAULT_BAUD})`, parsePositiveInt('--baud'))
    .option(
      '--timeout <ms>',
      `reply timeout per command in milliseconds (default: ${DEFAULT_TIMEOUT_MS})`,
      parsePositiveInt('--timeout'),
    )
    .option(
      '--trace <file>',
      'append the wire (both directions, timestamped, secrets masked) to this file (mode 0600, never through a symlink)',
    )
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug, trace or silent',
      oneOf('--log-level', LOG_LEVELS),
      'warn',
    )
    .option(
      '--log-format <format>',
      'json or pretty (logs go to stderr; default: pretty on a terminal, else json)',
      oneOf('--log-format', LOG_FORMATS),
    )
    .option(
      '--socket <path>',
      "go through the posbridge daemon at this socket (default: $POSBRIDGE_SOCKET, else the daemon's default socket, when a daemon answers there)",
    )
    .option('--json', 'print exactly one JSON document on stdout');
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS = ['json', 'pretty'];

/**
 * A value from a fixed list, else a usage error naming the flag (pino would throw on a bad level).
 * The parser carries its list, for the shell completions (manual/spec.ts).
 */
export function oneOf(
  flag: string,
  allowed: readonly string[],
): ((value: string) => string) & { choices: readonly string[] } {
  const parse = (value: string) => {
    if (!allowed.includes(value))
      throw new InvalidOptionValue(`${flag} must be one of ${allowed.join(', ')}, not "${value}"`);
    return value;
  };
  return Object.assign(parse, { choices: allowed });
}

export function parsePositiveInt(flag: string): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value) || Number(value) <= 0) {
      throw new InvalidOptionValue(`${flag} must be a positive whole number, not "${value}"`);
    }
    return Number(value);
  };
}

/** commander turns this into a usage error (exit 2). */
export class InvalidOptionValue extends Error {
  readonly code = 'commander.invalidArgument';
}
