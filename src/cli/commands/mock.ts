/**
 * `posbridge mock`: a mock terminal reachable over TCP (`--listen tcp://HOST:PORT`), a
 * pseudo-terminal it makes (`--pty PATH`) and/or a tty someone else made (`--device PATH`), for
 * demos, picocom, benches and CI. Logs what happens to stderr (lines
 * masked: never a password), says where it can be reached on stdout, and stops cleanly on SIGINT
 * or SIGTERM (pty link removed, state saved, exit 0). docs/mock.md documents every option.
 * With `--replay TRACE` it plays the terminal side of a wire trace instead (docs/evidence.md).
 */
import { readFileSync } from 'node:fs';
import type { BindingInterface } from '@serialport/bindings-cpp';
import { type Command, Option } from 'commander';
import type { Logger } from 'pino';
import { loadPlatformBinding } from '../../host/ports/serial.js';
import {
  type DiagFaults,
  type FaultSpec,
  FileStateStore,
  formatDiagFaults,
  MockConfigError,
  MockTerminal,
} from '../../mock-device/index.js';
import { parseTrace, ReplayTerminal } from '../../mock-device/replay/index.js';
import { listenTcp, openDevice, openPty } from '../../mock-device/transports/index.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { createLogger } from '../logger.js';
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

interface MockOptions {
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
      deps.result.exitCode = await runMock(options, deps);
    });
}

async function runMock(options: MockOptions, deps: MockCommandDeps): Promise<number> {
  const { io } = deps;
  const log: Logger = createLogger(
    { logLevel: options.logLevel, logFormat: options.logFormat },
    io.stderr as unknown as NodeJS.WritableStream,
    { ...(io.env && { env: io.env }), ...(io.noColor && { noColor: true }) },
  );
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const closers: (() => Promise<void>)[] = [];
  let terminal: MockTerminal | undefined;
  let replay: ReplayTerminal | undefined;
  try {
    if (options.replay !== undefined) replay = openReplay(options.replay, options, log);
    terminal = replay
      ? undefined
      : new MockTerminal({
          identity: { sn: options.sn, model: options.model, fw: options.fw },
          ...(options.state !== undefined && { store: new FileStateStore(options.state) }),
          ...(options.tamper && { tamper: true }),
          ...(options.diagFail !== undefined && { diagFaults: formatDiagFaults(options.diagFail) }),
          ...(options.fault !== undefined && { faults: options.fault }),
          seed,
          baud: options.baud,
          rebootMs: options.rebootMs,
          diagTimeScale: options.diagTimeScale,
          logger: log,
        });
    const attach = replay ? replay.attach.bind(replay) : terminal!.attach.bind(terminal);
    const sn = replay ? `(replay of ${options.replay})` : terminal!.identity.sn;
    const stopped: Promise<string>[] = [(deps.stopSignal ?? processStopSignal)()];
    // Where it can be reached: a line for people, or with --json one object a script reads.
    const announce = (text: string, where: Record<string, string>) =>
      io.stdout.write(
        options.json
          ? `${JSON.stringify({ kind: 'mock', event: 'listening', sn, ...where, pid: process.pid })}\n`
          : `${text}\n`,
      );

    if (options.listen || (options.pty === undefined && options.device === undefined)) {
      const address = options.listen ?? parseListen(DEFAULT_LISTEN);
      const tcp = await listenTcp(address, attach);
      closers.push(() => tcp.close());
      const url = `tcp://${formatHost(tcp.address.host)}:${tcp.address.port}`;
      announce(`mock terminal ${sn} listening on ${url}`, { tcp: url });
    }
    if (options.pty !== undefined) {
      const pty = await openPty({ linkPath: options.pty }, attach);
      closers.push(() => pty.close());
      stopped.push(
        pty.closed.then((error) => {
          if (error) throw error;
          return 'pty closed';
        }),
      );
      announce(`mock terminal ${sn} on pty ${pty.path}`, { pty: pty.path });
    }
    if (options.device !== undefined) {
      const device = await openDevice(
        {
          path: options.device,
          // --baud 0 (unpaced) still needs a line rate on the tty: TSP/1's default.
          baudRate: options.baud > 0 ? options.baud : 115_200,
          binding: await (deps.deviceBinding ?? defaultDeviceBinding)(),
          logger: log,
        },
        attach,
      );
      closers.push(() => device.close());
      announce(`mock terminal ${sn} on device ${device.path}`, { device: device.path });
    }
    if (!replay)
      log.info(
        {
          sn,
          state: options.state ?? 'memory',
          faults: options.fault?.length ? options.fault : undefined,
          seed,
          baud: options.baud,
        },
        options.fault?.length
          ? `mock terminal ready (fault seed ${seed}: rerun with --seed ${seed})`
          : 'mock terminal ready',
      );

    const reason = await Promise.race(stopped);
    log.info({ reason }, 'stopping');
    await closeAll(closers);
    terminal?.close();
    if (replay) {
      replay.close();
      const progress = replay.progress;
      if (progress.complete) log.info(progress, 'replay: the trace was played to its end');
      else
        log.warn(
          progress,
          `replay: stopped with ${progress.hostLines - progress.matched} host line(s) of the trace not seen`,
        );
    }
    return EXIT.ok;
  } catch (error) {
    await closeAll(closers).catch(() => undefined);
    terminal?.close();
    replay?.close();
    io.stderr.write(`posbridge mock: ${describe(error)}\n`);
    // A bad option, file or path is 2, anything else 1: the one table (exit-codes.ts).
    const exit = exitCodeFor(error);
    if (options.json)
      io.stdout.write(
        `${JSON.stringify({ error: { code: exit === EXIT.usage ? 'USAGE' : 'FAILED', message: describe(error) } })}\n`,
      );
    return exit;
  }
}

/**
 * The replay stand-in: the trace's terminal side (mock/replay/replay-terminal.ts). The options
 * that shape a simulated terminal (state, faults, hardware, identity) mean nothing to a recording.
 */
function openReplay(file: string, options: MockOptions, log: Logger): ReplayTerminal {
  const clash = (
    [
      ['--state', options.state],
      ['--fault', options.fault],
      ['--diag-fail', options.diagFail],
      ['--tamper', options.tamper],
      ['--sn', options.sn],
      ['--model', options.model],
      ['--fw', options.fw],
      ['--seed', options.seed],
    ] as const
  ).find(([, value]) => value !== undefined);
  if (clash) throw new MockConfigError(`--replay plays a recorded terminal: ${clash[0]} does not apply`);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MockConfigError(`cannot read the trace ${file}: ${(error as Error).message}`);
  }
  let entries: ReturnType<typeof parseTrace>['entries'];
  try {
    entries = parseTrace(content).entries;
  } catch (error) {
    throw new MockConfigError(`trace ${file}: ${(error as Error).message}`);
  }
  if (!entries.some((e) => e.direction === '>'))
    throw new MockConfigError(`trace ${file} holds no host line (">") to answer`);
  const replay = new ReplayTerminal(entries, { logger: log, baud: options.baud });
  log.info({ trace: file, ...replay.progress }, 'replaying the terminal side of a trace');
  return replay;
}

async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers.reverse()) await close();
}

/** The real serialport binding, guarded against the 0-byte read spin (docs/architecture.md, "Why it is built this way"). */
function defaultDeviceBinding(): Promise<BindingInterface> {
  return loadPlatformBinding();
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!;
}

function processStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
