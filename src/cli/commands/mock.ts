/**
 * `posbridge mock`: a mock terminal reachable over TCP (`--listen tcp://HOST:PORT`), a
 * pseudo-terminal it makes (`--pty PATH`) and/or a tty someone else made (`--device PATH`), for
 * demos, picocom, benches and CI. Logs what happens to stderr (lines
 * masked: never a password), says where it can be reached on stdout, and stops cleanly on SIGINT
 * or SIGTERM (pty link removed, state saved, exit 0). docs/mock.md documents every option.
 * With `--replay TRACE` it plays the terminal side of a wire trace instead (docs/evidence.md).
 *
 * This file holds the options; the run (mock-run.ts: the terminal, its transports, the logger)
 * loads when the command runs, so `posbridge mock --help` and every other command skip it.
 */
import type { BindingInterface } from '@serialport/bindings-cpp';
import type { DiagFaults, FaultSpec } from '../../mock-device/index.js';
import { type Command, Option } from '../commander.js';
import {
  identity,
  integer,
  nonEmpty,
  nonNegative,
  oneOf,
  parseDiagFail,
  parseFault,
  parseListen,
  type TcpAddress,
} from './mock-options.js';

export interface MockCommandDeps {
  io: {
    stdout: { write(text: string): void };
    stderr: { write(text: string): void };
    /** For the log format and colour (optional: a test's io may have neither). */
    env?: NodeJS.ProcessEnv;
    noColor?: boolean;
  };
  /** Where the action leaves its exit code (commander drops return values). */
  result: { exitCode: number };
  /** Resolves with a signal's name when the mock must stop. Default: the first SIGINT or SIGTERM. */
  stopSignal?: () => Promise<string>;
  /** The serialport binding for --device. Default: the platform binding, guarded (host/ports). */
  deviceBinding?: () => Promise<BindingInterface>;
}

export interface MockOptions {
  listen?: TcpAddress;
  pty?: string;
  device?: string;
  sn?: string;
  model?: string;
  fw?: string;
  state?: string;
  diagFail?: DiagFaults;
  fault?: FaultSpec[];
  seed?: number;
  baud: number;
  rebootMs: number;
  diagTimeScale: number;
  tamper?: boolean;
  logLevel: string;
  logFormat?: 'json' | 'pretty';
  replay?: string;
  json?: boolean;
}

export const DEFAULT_LISTEN = 'tcp://127.0.0.1:7001';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function registerMockCommand(program: Command, deps: MockCommandDeps): Command {
  return program
    .command('mock')
    .description('run a mock terminal (TSP/1) on a TCP port or a pseudo-terminal, for demos and CI')
    .option(
      '--listen <tcp://HOST:PORT>',
      `TCP address to serve (default ${DEFAULT_LISTEN} when neither --pty nor --device)`,
      parseListen,
    )
    .option(
      '--pty <path>',
      'serve a pseudo-terminal linked at this path (opened like /dev/ttyUSB0)',
      nonEmpty('--pty'),
    )
    .option(
      '--device <path>',
      'serve a tty someone else made (a socat pair end, /dev/ttyGS0, a UART); reopened after a hang-up',
      nonEmpty('--device'),
    )
    .option('--sn <sn>', 'serial number (default PBM0000001)', identity('--sn'))
    .option('--model <model>', 'model (default PB-MOCK)', identity('--model'))
    .option('--fw <version>', 'firmware version (default 1.0.0)', identity('--fw'))
    .option('--state <file>', 'keep the terminal state in this JSON file (loaded at start, saved on change)')
    .option(
      '--diag-fail <check:code,...>',
      'checks that report a failure code, e.g. printer:paper_out',
      parseDiagFail,
    )
    .option('--fault <spec>', 'faults to inject, e.g. "drop:p=0.05;delay:ms=200" (docs/mock.md)', parseFault)
    .option(
      '--seed <n>',
      "seed of the faults' randomness (default: random, logged)",
      integer('--seed', 0, 2 ** 32 - 1),
    )
    .option(
      '--baud <n>',
      'line rate of replies in bit/s, 10 bits per byte (0: unpaced)',
      integer('--baud', 0, 10_000_000),
      115200,
    )
    .option('--tamper', 'the PIN-pad tamper switch has tripped (STATUS tamper=1, DIAG tamper fails)')
    .addOption(
      new Option('--reboot-ms <ms>', 'how long REBOOT keeps the terminal down')
        .argParser(integer('--reboot-ms', 0, 600_000))
        .default(500),
    )
    .addOption(
      new Option('--diag-time-scale <x>', 'DIAG check times = typical times x this (0: instant)')
        .argParser(nonNegative('--diag-time-scale'))
        .default(1),
    )
    .option(
      '--replay <trace>',
      "play the terminal side of a wire trace (--trace output): reproduce a field trace's terminal",
      nonEmpty('--replay'),
    )
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')}`, oneOf('--log-level', LOG_LEVELS), 'info')
    .option('--json', 'each line on stdout (where it listens) as one JSON object (JSON Lines)')
    .option(
      '--log-format <format>',
      'json or pretty (logs go to stderr; default: pretty on a terminal, else json)',
      oneOf('--log-format', ['json', 'pretty']),
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  posbridge mock --listen tcp://127.0.0.1:7001 --state /tmp/pos.json\n' +
        '  posbridge mock --pty /tmp/pos0 --diag-fail printer:paper_out --fault "drop:p=0.05" --seed 7\n' +
        '  posbridge mock --device /dev/ttyGS0 --baud 115200\n' +
        '  posbridge mock --replay field.trace --listen tcp://127.0.0.1:7001\n',
    )
    .action(async (options: MockOptions) => {
      const { runMock } = await import('./mock-run.js');
      deps.result.exitCode = await runMock(options, deps);
    });
}
