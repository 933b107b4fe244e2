/**
 * `posbridge daemon`: the long-running service. It reads its config first (a bad file is exit 2
 * before anything else), claims the API socket (refusing if a daemon already answers there,
 * replacing a stale socket), builds its runtime (the port manager: discovery, hot-plug; the
 * engine over it, audited) and serves every engine operation over the local API until
 * SIGINT/SIGTERM, when it lets running operations finish, closes the ports and removes the socket.
 */
import type { Command } from 'commander';
import type { SignalSource } from '../../daemon/api/lifecycle.js';
import { resolveSocketPath } from '../../daemon/api/socket.js';
import { type ListenAddress, parseListen } from '../../daemon/http/listen.js';
import { PosbridgeError } from '../../host/errors.js';
import { type CliDeps, type CommonOptions, oneOf } from '../context.js';
import { credentialsRecorder } from '../credentials-file.js';
import { EXIT } from '../exit-codes.js';
import { stdoutIsJournal } from '../log-output.js';
import { prepareCredentialsFile } from '../output-files.js';
import { jsonSafe, visible } from '../render.js';
import { runAction } from '../run-action.js';
import { VERSION } from '../version.js';

/** What `posbridge daemon` needs beyond CliDeps (all optional, so other commands ignore them). */
export interface DaemonCommandDeps {
  /** Where SIGINT/SIGTERM come from (default: this process). */
  signals?: SignalSource;
  /** The user's uid, for the default socket path and the ownership checks (default: getuid()). */
  uid?: () => number;
}

interface DaemonOptions {
  json?: boolean;
  socket?: string;
  http?: string;
  httpAllowRemote?: boolean;
  config?: string;
  logLevel: string;
  logFormat?: 'json' | 'pretty';
}

export function registerDaemon(program: Command, deps: CliDeps & DaemonCommandDeps): void {
  program
    .command('daemon')
    .description('the long-running service: owns the serial ports, serves the local API on a Unix socket')
    .option(
      '--socket <path>',
      'the API socket (default: $POSBRIDGE_SOCKET, else $XDG_RUNTIME_DIR/posbridge/daemon.sock, else /tmp/posbridge-$UID/daemon.sock)',
    )
    .option('--config <file>', 'daemon config: allow-list of USB IDs, extra ports, station name, timeouts')
    .option(
      '--http <host:port>',
      "serve the dashboard and /metrics there (off by default, or the config's http.listen; loopback only)",
    )
    .option(
      '--http-allow-remote',
      '--http may name an address other machines can reach (still needs the printed URL)',
    )
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug, trace or silent',
      oneOf('--log-level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      'info',
    )
    .option(
      '--log-format <format>',
      'json or pretty (logs go to stderr; default: pretty on a terminal, else json)',
      oneOf('--log-format', ['json', 'pretty']),
    )
    .option(
      '--json',
      'the start and stop lines as one JSON object each (JSON Lines), for supervisors and scripts',
    )
    .addHelpText(
      'after',
      `
While it runs, the other commands (info, provision, diag, passwd, operator) go through it: it owns
the ports. The socket is mode 0600: only you can use it. SIGINT/SIGTERM stop it in order: running
operations finish (a second signal cuts them short), the ports close, the socket is removed.

Example:
  posbridge daemon --log-format pretty
  systemctl --user enable --now posbridge     (contrib/posbridge.service)
`,
    )
    .action((options: DaemonOptions) =>
      runAction(deps, { json: options.json }, () => daemonAction(deps, options)),
    );
}

async function daemonAction(deps: CliDeps & DaemonCommandDeps, options: DaemonOptions): Promise<number> {
  // The service's modules (API server, port manager, audit trail) load when the daemon starts.
  const [{ Daemon, runUntilSignal }, { buildRuntime }, { configSystem, loadRuntimeConfig }] =
    await Promise.all([
      import('../../daemon/api/lifecycle.js'),
      import('../runtime.js'),
      import('../runtime-config.js'),
    ]);
  const logger = deps.createLogger({
    logLevel: options.logLevel,
    logFormat: options.logFormat,
  } as CommonOptions);
  const system = configSystem(deps);
  // The flag is checked before the file is read: a wrong address is named as the flag.
  const flagListen = listenFlag(options);
  // The config next: the daemon is the one process that never goes through another daemon.
  const settled = await loadRuntimeConfig(
    deps.io,
    { inProcess: true, ports: { file: options.config } },
    system,
  );
  // Then the dashboard's address, before the socket is claimed: `--http` wins over the config's
  // `http` (checked with it, loopback only unless http.allowRemote), so a wrong one starts nothing.
  const listen = flagListen ?? settled.file?.config.http?.listen;
  // Generated operator passwords of runs started from the page: the daemon user's credentials file.
  const credentials = listen && (await prepareCredentialsFile(undefined, deps.io.env, undefined));
  const daemon = await Daemon.start({
    socket: resolveSocketPath(deps.io.env, options.socket, system.uid),
    uid: system.uid,
    logger,
    version: VERSION,
    now: deps.now,
    ...(listen && {
      dashboard: {
        listen,
        random: deps.randomBytes,
        station: {
          hostname: deps.hostname(),
          technician: deps.user(),
          ...(credentials && {
            credentials: {
              path: credentials,
              record: (sn, id, password) =>
                credentialsRecorder(credentials, () => sn, deps.now)(id, password),
            },
          }),
        },
      },
    }),
    // Once the socket is ours: the port manager may open and probe ports.
    createRuntime: ({ onAuditAppend, onRetransmit }) =>
      buildRuntime(settled, deps.io, {
        parts: deps,
        logger,
        hub: 'serve',
        ...(onAuditAppend && { onAuditAppend }),
        ...(onRetransmit && { onRetransmit }),
      }),
  });
  // Signals are handled before the listening line: a supervisor may send SIGTERM as soon as it
  // reads it, and that must stop the daemon in order, not kill it.
  const ended = runUntilSignal(daemon, deps.signals ?? process);
  // What its records say and where they go (also in GET /v1/health): the config's, not a guess.
  const { station, audit, config } = daemon.about;
  if (options.json)
    jsonLine(deps, {
      kind: 'daemon',
      event: 'listening',
      socket: daemon.socketPath,
      pid: process.pid,
      version: VERSION,
      ...(station !== undefined && { station }),
      ...(audit !== undefined && { audit }),
      ...(config !== undefined && { config }),
    });
  else {
    deps.io.stdout.write(`posbridge daemon listening on ${daemon.socketPath} (pid ${process.pid})\n`);
    if (station !== undefined || audit !== undefined)
      deps.io.stdout.write(
        `${visible(`station name ${station ?? '?'}, audit trail ${audit ?? '?'}${config ? `, config ${config}` : ''}`)}\n`,
      );
  }
  if (daemon.dashboard) {
    // The one-time login link: opening it starts a session (docs/dashboard.md, "Security").
    // Written into the journal, it would be readable by whoever reads the journal, for as long
    // as it is kept: there the user asks for a link over the owner-only socket instead.
    const { origin, loginUrl } = daemon.dashboard;
    const journal = deps.io.stdout === process.stdout && stdoutIsJournal(deps.io.env);
    const url = journal ? undefined : loginUrl;
    if (options.json)
      jsonLine(deps, {
        kind: 'daemon',
        event: 'dashboard',
        origin,
        ...(url ? { url } : { link: 'posbridge dashboard' }),
      });
    else if (url) deps.io.stdout.write(`dashboard on ${origin}; open ${url}\n`);
    else
      deps.io.stdout.write(`dashboard on ${origin}; run \`posbridge dashboard\` for a one-time login link\n`);
  }
  const reason = await ended;
  if (options.json) jsonLine(deps, { kind: 'daemon', event: 'stopped', reason });
  else deps.io.stdout.write(`posbridge daemon stopped (${reason})\n`);
  return EXIT.ok;
}

/** `--http HOST:PORT [--http-allow-remote]`, checked; undefined without --http. */
function listenFlag(options: DaemonOptions): ListenAddress | undefined {
  if (options.httpAllowRemote && options.http === undefined)
    throw new PosbridgeError('USAGE', '--http-allow-remote goes with --http HOST:PORT', {
      hint: 'e.g. --http 0.0.0.0:8390 --http-allow-remote (in the config: http.allowRemote with http.listen)',
    });
  return options.http === undefined ? undefined : parseListen(options.http, options.httpAllowRemote === true);
}

/** One JSON object on one line: a long-running command's lines are JSON Lines, read as they come. */
function jsonLine(deps: CliDeps, document: Record<string, unknown>): void {
  deps.io.stdout.write(`${jsonSafe(JSON.stringify(document))}\n`);
}
