/**
 * `posbridge scan`: every connected terminal that still holds a factory credential, read from
 * STATUS (`factory_pw`) alone: no login, so no attempt is ever spent. The ports checked are those
 * the daemon would manage (allow-listed USB IDs, config `ports`) plus `--port`; every other listed
 * port (a modem, a GPS, a microcontroller board) gets no byte. It runs a short-lived
 * DaemonPortManager (discovery + HELLO/STATUS identification), the same code as the daemon; while
 * a daemon runs, it asks that one instead (scan-via-daemon.ts), which owns the ports.
 *
 * Exit 0: no terminal holds a factory credential; 1: some do; 3: none found holding one, but a
 * port that should have been checked could not be (missing, busy, not answering).
 */
import type { Command } from 'commander';
import type { IgnoredPort } from '../../daemon/discovery/index.js';
import { PosbridgeError } from '../../host/errors.js';
import type { TerminalInfo } from '../../host/hub.js';
import { type CliDeps, type CommonOptions, parsePositiveInt } from '../context.js';
import { linkOf, remoteEngine } from '../daemon-client.js';
import { EXIT } from '../exit-codes.js';
import { type Colour, painter } from '../io.js';
import { visible } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import { terminalsViaDaemon } from './scan-via-daemon.js';

export type ScanDeps = CliDeps;

interface ScanOptions {
  port: string[];
  config?: string;
  socket?: string;
  baud?: number;
  timeout?: number;
  logLevel: string;
  logFormat?: 'json' | 'pretty';
  json?: boolean;
}

/** One terminal that answered. */
export interface ScannedTerminal {
  port: string;
  byId?: string;
  usb?: TerminalInfo['usb'];
  model: string;
  sn: string;
  fw: string;
  state: 'factory' | 'initialized';
  /** Accounts still holding their factory password (`admin`, `01`); [] for none. */
  factoryPw: string[];
  /** True when factoryPw is not empty. */
  factoryCredential: boolean;
  attemptsLeft?: number;
  locked: boolean;
  tamper: boolean;
}

export interface ScanReport {
  kind: 'scan';
  station: string;
  /** Terminals that answered HELLO and STATUS. */
  terminals: ScannedTerminal[];
  /** How many of them hold a factory credential. */
  withFactoryCredential: number;
  /** Ports that should have been checked but could not be. */
  problems: Array<{ port: string; code: string; message: string }>;
  /** Listed ports that were left alone (not on the allow-list, not named): no byte sent. */
  ignored: IgnoredPort[];
  /** The port listing failed (e.g. no udevadm): only named ports were checked. */
  listError?: { code: string; message: string; hint?: string };
  /** Set when the daemon running on this machine did the reading. */
  daemon?: { socket: string; pid: number };
}

export function registerScan(program: Command, deps: ScanDeps): void {
  program
    .command('scan')
    .description(
      'list connected terminals that still hold a factory password, from STATUS alone (no login, no attempt spent)',
    )
    .option(
      '--port <port>',
      'also check this port (repeatable): /dev/ttyUSB0, /dev/serial/by-id/..., tcp://HOST:PORT, rfc2217://HOST:PORT, mock://NAME',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--config <file>',
      'daemon config file: allow-list, ports, timeouts (default $XDG_CONFIG_HOME/posbridge/daemon.yaml)',
    )
    .option(
      '--baud <rate>',
      'line rate in baud (default: the config file, else 115200)',
      parsePositiveInt('--baud'),
    )
    .option(
      '--timeout <ms>',
      'reply timeout per command in milliseconds (default: config timeouts.requestMs)',
      parsePositiveInt('--timeout'),
    )
    .option(
      '--socket <path>',
      "ask the posbridge daemon at this socket (default: $POSBRIDGE_SOCKET, else the daemon's default socket, when a daemon answers there)",
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace', 'warn')
    .option(
      '--log-format <format>',
      'json or pretty (logs go to stderr; default: pretty on a terminal, else json)',
    )
    .option('--json', 'print exactly one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExit status: 0 no terminal holds a factory password, 1 some do, 3 a port could not be checked.\n' +
        '\nExample:\n  posbridge scan\n  posbridge scan --port tcp://10.0.0.7:4001 --json\n',
    )
    .action((options: ScanOptions) => runAction(deps, options, () => scan(deps, options)));
}

async function scan(deps: ScanDeps, options: ScanOptions): Promise<number> {
  // The composition root and the port manager load when a scan runs, not with the command line.
  const [{ configSystem, loadRuntimeConfig }, { scanPorts }] = await Promise.all([
    import('../runtime-config.js'),
    import('../port-scan.js'),
  ]);
  // The config first: a daemon that answers owns the ports (and scans with its own config).
  const settled = await loadRuntimeConfig(
    deps.io,
    {
      socket: options.socket,
      ports: { file: options.config, baudRate: options.baud, timeoutMs: options.timeout },
    },
    configSystem(deps),
  );
  if (settled.daemon) {
    const remote = await remoteEngine(settled.daemon, linkOf(options));
    try {
      const infos = await terminalsViaDaemon(remote, options);
      const report = buildReport(remote.found?.station ?? deps.hostname(), infos, [], []);
      report.daemon = { socket: remote.socketPath, pid: remote.found?.pid ?? 0 };
      return printScan(deps, options, report);
    } finally {
      remote.close();
    }
  }
  if (!settled.file) throw new PosbridgeError('INTERNAL', 'scan needs the daemon config, loaded first');
  const config = settled.file.config;
  const common: CommonOptions = {
    baud: config.baud,
    timeout: config.timeouts.requestMs,
    logLevel: options.logLevel,
    logFormat: options.logFormat,
    ...(options.json && { json: true }),
  };
  // No engine, no audit trail: nothing is changed, nothing recorded.
  const scanned = await scanPorts({
    config,
    registry: await deps.portRegistry(),
    logger: deps.createLogger(common),
    extraPorts: options.port,
    lister: () => deps.listPorts(),
  });
  const report = buildReport(config.station, scanned.terminals, scanned.absent, scanned.ignored);
  const { listError } = scanned;
  if (listError) {
    report.listError = {
      code: listError.code,
      message: listError.message,
      ...(listError.hint !== undefined && { hint: listError.hint }),
    };
  }
  return printScan(deps, options, report);
}

function printScan(deps: ScanDeps, options: ScanOptions, report: ScanReport): number {
  if (options.json) printJson(deps.io, report);
  else deps.io.stdout.write(renderScan(report, painter(deps.io)));
  if (report.withFactoryCredential > 0) return EXIT.refused;
  return report.problems.length > 0 ? EXIT.unreachable : EXIT.ok;
}

function buildReport(
  station: string,
  infos: TerminalInfo[],
  absent: string[],
  ignored: IgnoredPort[],
): ScanReport {
  const terminals: ScannedTerminal[] = [];
  const problems: ScanReport['problems'] = [];
  for (const info of infos) {
    if (info.hello && info.status && info.state !== 'error') {
      const { hello, status } = info;
      const terminal: ScannedTerminal = {
        port: info.port,
        model: hello.model,
        sn: hello.sn,
        fw: hello.fw,
        state: status.state,
        factoryPw: [...status.factoryPw],
        factoryCredential: status.factoryPw.length > 0,
        locked: status.locked,
        tamper: status.tamper,
      };
      if (info.byId !== undefined) terminal.byId = info.byId;
      if (info.usb !== undefined) terminal.usb = info.usb;
      if (status.attemptsLeft !== undefined) terminal.attemptsLeft = status.attemptsLeft;
      terminals.push(terminal);
    } else {
      problems.push({
        port: info.port,
        code: info.error?.code ?? 'INTERNAL',
        message: info.error?.message ?? `${info.port}: not identified (${info.state})`,
      });
    }
  }
  for (const port of absent) {
    problems.push({ port, code: 'PORT_NOT_FOUND', message: `no such port: ${port}` });
  }
  terminals.sort(
    (a, b) => Number(b.factoryCredential) - Number(a.factoryCredential) || a.port.localeCompare(b.port),
  );
  return {
    kind: 'scan',
    station,
    terminals,
    withFactoryCredential: terminals.filter((t) => t.factoryCredential).length,
    problems,
    ignored,
  };
}

function renderScan(report: ScanReport, paint: (colour: Colour, text: string) => string): string {
  let out = '';
  for (const t of report.terminals) {
    const mark = t.factoryCredential ? paint('red', 'FACTORY') : paint('green', 'ok     ');
    const what = t.factoryCredential
      ? `factory password still set for: ${visible(t.factoryPw.join(', '))}`
      : `no factory password (${visible(t.state)})`;
    const extra = [t.locked && 'locked', t.tamper && 'TAMPER'].filter(Boolean).join(', ');
    out += `${mark} ${visible(`${t.port}  ${t.model} sn ${t.sn}`)}  ${what}${extra ? `  [${extra}]` : ''}\n`;
  }
  for (const p of report.problems)
    out += `${paint('yellow', 'UNCHECKED')} ${visible(`${p.port}  ${p.message}`)}\n`;
  const n = report.terminals.length;
  const k = report.withFactoryCredential;
  const plural = n === 1 ? '' : 's';
  if (n === 0) out += 'no terminal found (name one with --port; posbridge ports lists serial ports)\n';
  else if (k === 0)
    out += `${n} terminal${plural} checked, none holds a factory password (read from STATUS: no login was tried)\n`;
  else
    out += `${k} of ${n} terminal${plural} still hold${k === 1 ? 's' : ''} a factory password (read from STATUS: no login was tried)\n`;
  if (report.ignored.length > 0) {
    const list = report.ignored
      .map((p) => `${p.path}${p.usb?.vendorId ? ` (${p.usb.vendorId}:${p.usb.productId ?? '????'})` : ''}`)
      .join(', ');
    out += paint(
      'dim',
      `not probed (not on the allow-list; name one with --port to include it): ${visible(list)}\n`,
    );
  }
  if (report.listError)
    out += paint('yellow', `warning: ${visible(report.listError.message)}; only named ports were checked\n`);
  if (report.daemon)
    out += paint(
      'dim',
      `read through the posbridge daemon (pid ${report.daemon.pid}), which owns the ports\n`,
    );
  return out;
}
