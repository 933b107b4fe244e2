import { readFile } from 'node:fs/promises';
import type { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { PosbridgeError } from '../../host/errors.js';
import { Secret } from '../../host/secret.js';
import type { OperatorSpec } from '../../host/workflow/profile.js';
import { checkPassword, PASSWORD_PROBLEM_TEXT } from '../../protocol/index.js';
import type { Manifest, Station, StationEvent } from '../../station/index.js';
import {
  addCommonOptions,
  type CliDeps,
  type CommonOptions,
  type EngineAbout,
  parsePositiveInt,
} from '../context.js';
import { credentialsRecorder } from '../credentials-file.js';
import { linkOf } from '../daemon-client.js';
import { EXIT } from '../exit-codes.js';
import { cwdOf, painter } from '../io.js';
import {
  checkOutputPath,
  openTraceFile,
  prepareCredentialsFile,
  writeFileAtomically,
} from '../output-files.js';
import { visible } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import type { Runtime } from '../runtime.js';
import { SecretReader } from '../secrets.js';
import { LiveView, renderStationSummary } from '../station-live-view.js';
import { ADMIN_PASSWORD_SOURCE, CREDENTIALS_OUT_HELP, NEW_ADMIN_PASSWORD_PROMPT } from './provision.js';

/** The CLI's deps, plus when to stop. */
export interface StationCliDeps extends CliDeps {
  /** Resolves when the run must stop (as Ctrl-C). Default: the first SIGINT or SIGTERM. */
  stopSignal?: () => Promise<string>;
}

interface StationOptions extends Omit<CommonOptions, 'port'> {
  manifest: string;
  port: string[];
  adminPasswordStdin?: boolean;
  adminPasswordFile?: string;
  junit?: string;
  concurrency?: number;
  timeoutTotal?: number;
  untilIdle?: boolean;
  technician?: string;
  station?: string;
  credentialsOut?: string;
}

export function registerStation(program: Command, deps: StationCliDeps): void {
  const command = addCommonOptions(program.command('station'), false);
  // The common --port names one port; here it is repeatable.
  const portOption = command.options.find((o) => o.long === '--port') as Option;
  portOption.description =
    'a port to watch (repeatable): /dev/ttyUSB0, tcp://HOST:PORT, rfc2217://HOST:PORT, mock://NAME?sn=SN; without it, the daemon port manager (discovery, hot-plug)';
  portOption.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  command
    .description(
      'provision every terminal of a manifest as it is plugged in, matched by serial number, several at once',
    )
    .requiredOption(
      '--manifest <file>',
      'CSV or JSON: sn, merchant, terminal, name, profile (docs/station.md)',
    )
    .option('--admin-password-stdin', 'read the new admin password (one for the whole run) from stdin')
    .option('--admin-password-file <file>', 'read the new admin password from the first line of this file')
    .option('--junit <file>', 'write JUnit XML here: one test case per manifest row')
    .option(
      '--concurrency <n>',
      'terminals provisioned at once (default: all)',
      parsePositiveInt('--concurrency'),
    )
    .option(
      '--timeout-total <s>',
      'stop waiting for terminals after this many seconds (runs under way finish)',
      parsePositiveInt('--timeout-total'),
    )
    .option('--until-idle', 'end as soon as no terminal is running or being identified (implied by --port)')
    .option('--technician <name>', 'who does the work, for the record (default: the OS user)')
    .option(
      '--station <name>',
      "where, for the record (default: the daemon config's station, else the host name)",
    )
    .option('--credentials-out <file>', CREDENTIALS_OUT_HELP)
    .addHelpText(
      'after',
      `
One admin password for the whole run, from stdin, a file, POSBRIDGE_ADMIN_PASSWORD or a hidden
prompt; never from the manifest or the command line. A terminal whose serial number is not in
the manifest is reported and left untouched. Exit 0 when every row is provisioned, 1 when a row
failed, was quarantined or failed its diagnostics, 3 when a row was never seen.

Example:
  printf 'Adm1n-2026\\n' | posbridge station --manifest terminals.csv --admin-password-stdin \\
      --port mock://a?sn=PB001 --port mock://b?sn=PB002 --junit station.xml
`,
    )
    .action((options: StationOptions) => runAction(deps, options, () => stationAction(deps, options)));
}

async function stationAction(deps: StationCliDeps, options: StationOptions): Promise<number> {
  const { io } = deps;
  const paint = painter(io);
  // Station mode's modules (the manifest's reader, the runner) and the composition root load now.
  const [
    { loadManifest, renderJunit, Station, stationExitCode },
    { buildRuntime },
    { configSystem, loadRuntimeConfig },
  ] = await Promise.all([
    import('../../station/index.js'),
    import('../runtime.js'),
    import('../runtime-config.js'),
  ]);
  const manifest = await loadManifest(options.manifest);
  const ports = [...new Set(options.port ?? [])];
  const adminPassword = (await new SecretReader(io).read({
    ...ADMIN_PASSWORD_SOURCE,
    prompt: NEW_ADMIN_PASSWORD_PROMPT,
    stdin: options.adminPasswordStdin,
    file: options.adminPasswordFile,
    confirm: true,
  })) as Secret;
  const problem = checkPassword(adminPassword.reveal());
  if (problem) {
    throw new PosbridgeError('USAGE', `the new admin password ${PASSWORD_PROBLEM_TEXT[problem]}`, {
      hint: 'choose 6-32 printable characters, not a default, a repeat or a straight run; nothing was sent',
    });
  }
  const operatorSecrets = await readOperatorSecrets(manifest, io.env);
  // Every output is checked before the first byte (output-files.ts).
  const cwd = cwdOf(io);
  const junit =
    options.junit === undefined ? undefined : await checkOutputPath(options.junit, '--junit', { cwd });
  const credentialsFile = await prepareCredentialsFile(options.credentialsOut, io.env, cwd);
  const trace =
    options.trace === undefined
      ? undefined
      : await openTraceFile(options.trace, (text) => io.stderr.write(text), { cwd });

  const common: CommonOptions = { ...options, port: undefined };
  const logger = deps.createLogger(common);
  let runtime: Runtime | undefined;
  try {
    // Without --port, the terminals a port manager finds: the daemon's when one answers, else
    // this process runs one from the daemon config (with --baud and --timeout over it).
    const config = await loadRuntimeConfig(
      io,
      {
        socket: options.socket,
        ...(ports.length === 0 && { ports: { baudRate: options.baud, timeoutMs: options.timeout } }),
      },
      configSystem(deps),
    );
    runtime = await buildRuntime(config, io, {
      parts: deps,
      logger,
      link: linkOf(options, trace),
      hub: ports.length > 0 ? { ports } : 'discover',
    });
    const { engine, hub } = runtime as Required<Runtime>;
    // Whoever records the runs (the daemon, or this process) says under which name and where.
    const about = runtime.about;
    const stationName = options.station ?? about.station ?? deps.hostname();
    const station = new Station({
      rows: manifest.rows,
      manifest: manifest.path,
      hub,
      engine,
      adminPassword,
      technician: options.technician ?? deps.user(),
      station: stationName,
      ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
      // A fixed list of ports brings no new terminal: the run ends when they are all handled.
      untilIdle: options.untilIdle === true || ports.length > 0,
      now: deps.now,
      recordGenerated: (sn, id, password) =>
        credentialsRecorder(credentialsFile, () => sn, deps.now)(id, password),
      readOperatorSecret: async (id, source) => {
        const secret = operatorSecrets.get(sourceKey(source));
        if (!secret) throw new PosbridgeError('USAGE', `no password source for operator ${id}`);
        return secret;
      },
    });
    station.subscribe((event) => logEvent(logger, event));
    // Stops are armed before the first line: a signal sent on reading it must stop the run in
    // order, not kill the process.
    const disarm = armStops(station, options.timeoutTotal, deps.stopSignal);
    let summary: Awaited<ReturnType<Station['run']>>;
    try {
      if (!options.json) {
        io.stdout.write(
          `station: ${manifest.rows.length} terminals in ${manifest.path}; ${
            ports.length > 0 ? `watching ${ports.length} port(s)` : 'plug them in'
          } (Ctrl-C stops taking new ones)\n`,
        );
        // The station name and paths come from a config file or the daemon: data, not control.
        io.stdout.write(`${visible(describeRecord(stationName, about))}\n`);
        const view = new LiveView((text) => io.stdout.write(text), {
          tty: io.stdout.isTTY === true,
          paint,
          columns: () => (io.stdout as { columns?: number }).columns,
        });
        station.subscribe((event) => view.handle(event));
      }
      summary = await station.run();
    } finally {
      disarm();
    }
    if (options.json) printJson(io, summary);
    else io.stdout.write(renderStationSummary(summary, paint));
    const code = stationExitCode(summary);
    if (junit) {
      try {
        await writeFileAtomically(junit, renderJunit(summary, { hostname: deps.hostname() }), '--junit');
      } catch (error) {
        // The terminals are done; only the report is lost: say so, and fail the run.
        const why = error instanceof PosbridgeError ? error.message : (error as NodeJS.ErrnoException).code;
        io.stderr.write(`error: cannot write the JUnit report ${junit}: ${why ?? String(error)}\n`);
        return Math.max(code, EXIT.refused);
      }
      if (!options.json) io.stdout.write(`JUnit report written to ${junit}\n`);
    }
    return code;
  } finally {
    await runtime?.close().catch(() => undefined);
    await trace?.close();
  }
}

/** `station NAME, audit trail PATH (written by the daemon, pid N)`. */
function describeRecord(station: string, about: EngineAbout): string {
  const audit = about.audit ? `, audit trail ${about.audit}` : '';
  const by = about.daemon ? ` (recorded by the posbridge daemon, pid ${about.daemon.pid})` : '';
  return `station name ${station}${audit}${by}`;
}

/**
 * Stop the run at --timeout-total or at the first SIGINT/SIGTERM (no new terminal, runs under way
 * finish); our handlers are then gone, so a second signal ends the process. Returns the disarm.
 */
function armStops(
  station: Station,
  timeoutTotal: number | undefined,
  stopSignal: (() => Promise<string>) | undefined,
): () => void {
  const onSignal = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    station.stop('signal');
  };
  if (stopSignal) void stopSignal().then(() => station.stop('signal'));
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const timer =
    timeoutTotal === undefined ? undefined : setTimeout(() => station.stop('timeout'), timeoutTotal * 1000);
  return () => {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

type SecretSource = Exclude<OperatorSpec['password'], 'generate'>;

function sourceKey(source: SecretSource): string {
  return 'env' in source ? `env:${source.env}` : `file:${source.file}`;
}

/**
 * Operator passwords the manifest's profiles name (env or file), read and checked before any byte
 * is sent, as `posbridge provision` does; keyed by source, since profiles may share one.
 */
async function readOperatorSecrets(manifest: Manifest, env: NodeJS.ProcessEnv): Promise<Map<string, Secret>> {
  const secrets = new Map<string, Secret>();
  for (const row of manifest.rows) {
    for (const operator of row.profile.operators) {
      const source = operator.password;
      if (source === 'generate' || secrets.has(sourceKey(source))) continue;
      const value =
        'env' in source
          ? env[source.env]
          : (await readFile(source.file, 'utf8').catch(() => undefined))?.split(/\r?\n/)[0];
      const where = 'env' in source ? `environment variable ${source.env}` : `file ${source.file}`;
      const profile = `profile ${row.profilePath ?? '(default)'} (manifest ${row.where})`;
      if (!value)
        throw new PosbridgeError(
          'USAGE',
          `the password of operator ${operator.id} in ${profile} should come from ${where}, which is empty or missing`,
          { hint: 'set it, or use "generate" in the profile; nothing was sent' },
        );
      const problem = checkPassword(value);
      if (problem)
        throw new PosbridgeError(
          'USAGE',
          `the password of operator ${operator.id} in ${profile} (from ${where}) ${PASSWORD_PROBLEM_TEXT[problem]}`,
          { hint: 'choose a stronger one; nothing was sent' },
        );
      secrets.set(sourceKey(source), new Secret(value));
    }
  }
  return secrets;
}

/** What the station does, for the log (stderr; --log-level info shows it): never a secret. */
function logEvent(logger: Logger, event: StationEvent): void {
  switch (event.type) {
    case 'unknown':
      logger.info({ port: event.port, sn: event.sn }, 'serial number not in the manifest: left untouched');
      break;
    case 'started':
      logger.info({ port: event.port, sn: event.sn, attempt: event.attempt }, 'provisioning');
      break;
    case 'finished':
      logger.info(
        { port: event.port, sn: event.sn, outcome: event.result.outcome, error: event.result.error?.code },
        'row finished',
      );
      break;
    case 'repeat':
    case 'duplicate':
      logger.info({ port: event.port, sn: event.sn, event: event.type }, 'seen again: not run');
      break;
    default:
      break;
  }
}
