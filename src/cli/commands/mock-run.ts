/**
 * The run of `posbridge mock` (mock.ts holds its options): the terminal or the replay, its
 * transports, the logger, and a clean stop on SIGINT or SIGTERM. Loaded when the command runs.
 */
import { readFileSync } from 'node:fs';
import type { BindingInterface } from '@serialport/bindings-cpp';
import type { Logger } from 'pino';
import { loadPlatformBinding } from '../../host/ports/serial.js';
import { FileStateStore, formatDiagFaults, MockConfigError, MockTerminal } from '../../mock-device/index.js';
import { parseTrace, ReplayTerminal } from '../../mock-device/replay/index.js';
import { listenTcp, openDevice, openPty } from '../../mock-device/transports/index.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { createLogger } from '../logger.js';
import { DEFAULT_LISTEN, type MockCommandDeps, type MockOptions } from './mock.js';
import { parseListen } from './mock-options.js';

export async function runMock(options: MockOptions, deps: MockCommandDeps): Promise<number> {
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
