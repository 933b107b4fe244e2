/**
 * `posbridge status`, `watch` and `dashboard`: the daemon's terminals as a table, its event
 * stream as one line per event (or NDJSON), and a new one-time link to its dashboard. Both need the daemon: it is what sees the bench.
 */
import type { Command } from 'commander';
import type { RemoteEngine } from '../../daemon/api/client.js';
import { PosbridgeError } from '../../host/errors.js';
import { renderStatusTable, renderWatchLine } from '../bench-render.js';
import type { CliDeps } from '../context.js';
import { findDaemon, remoteEngine } from '../daemon-client.js';
import { EXIT } from '../exit-codes.js';
import { painter } from '../io.js';
import { jsonSafe } from '../render.js';
import { printJson, runAction } from '../run-action.js';

export interface WatchDeps {
  /** Resolves when `watch` must stop (as Ctrl-C). Default: the first SIGINT or SIGTERM. */
  watchStop?: () => Promise<void>;
}

interface StatusOptions {
  socket?: string;
  json?: boolean;
}

interface WatchOptions extends StatusOptions {
  after?: string;
}

async function daemon(deps: CliDeps, options: StatusOptions): Promise<RemoteEngine> {
  const uid = deps.uid?.() ?? process.getuid?.() ?? 0;
  const found = await findDaemon(options.socket, deps.io.env, uid);
  if (!found)
    throw new PosbridgeError('PORT_NOT_FOUND', 'no posbridge daemon is running: it is what sees the bench', {
      hint: 'start it (posbridge daemon, or systemctl --user start posbridge), or name its socket with --socket',
    });
  return remoteEngine(found);
}

export function registerStatus(program: Command, deps: CliDeps & WatchDeps): void {
  program
    .command('status')
    .description("the daemon's terminals: identity, state, factory passwords, lock, what each is busy with")
    .option('--socket <path>', 'the daemon socket (default: $POSBRIDGE_SOCKET or the default socket)')
    .option('--json', 'print exactly one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  posbridge status\n  posbridge status --json | jq \'.terminals[] | select(.condition == "failed")\'\n',
    )
    .action((options: StatusOptions) =>
      runAction(deps, options, async () => {
        const remote = await daemon(deps, options);
        try {
          const terminals = await remote.status();
          if (options.json) printJson(deps.io, { kind: 'status', terminals });
          else deps.io.stdout.write(renderStatusTable(terminals, painter(deps.io)));
          return EXIT.ok;
        } finally {
          remote.close();
        }
      }),
    );

  program
    .command('watch')
    .description("follow the daemon's events: one line each (plugs, steps, results) until Ctrl-C")
    .option('--socket <path>', 'the daemon socket (default: $POSBRIDGE_SOCKET or the default socket)')
    .option('--json', 'one JSON object per line (NDJSON): { id, ...event }')
    .option('--after <id>', 'resume after this event ID (an earlier watch --json printed it)')
    .addHelpText(
      'after',
      '\nExample:\n  posbridge watch\n  posbridge watch --json | jq -c \'select(.type == "operation-finished")\'\n',
    )
    .action((options: WatchOptions) =>
      runAction(deps, options, async () => {
        const remote = await daemon(deps, options);
        const paint = painter(deps.io);
        const subscription = await remote.events(
          (event, id) => {
            if (options.json) deps.io.stdout.write(`${jsonSafe(JSON.stringify({ id, ...event }))}\n`);
            else deps.io.stdout.write(`${renderWatchLine(event, deps.now(), paint)}\n`);
          },
          { ...(options.after !== undefined && { lastEventId: options.after }) },
        );
        // Armed before the line that says Ctrl-C stops it: a signal sent on reading it stops cleanly.
        const stop = deps.watchStop?.() ?? firstSignal();
        // Said once subscribed (on stderr: stdout is the events'), so nothing after it is missed.
        deps.io.stderr.write(
          `watching the posbridge daemon at ${remote.socketPath} (pid ${remote.found?.pid ?? '?'}); Ctrl-C stops\n`,
        );
        const stopped = await Promise.race([stop.then(() => true), subscription.ended.then(() => false)]);
        subscription.close();
        remote.close();
        if (stopped) return EXIT.ok;
        throw new PosbridgeError('DISCONNECTED', `the posbridge daemon at ${remote.socketPath} went away`, {
          hint: 'start it again, then resume with posbridge watch --json --after ID (the last ID printed)',
        });
      }),
    );

  program
    .command('dashboard')
    .description("a new one-time link to the daemon's dashboard, for another browser (no restart)")
    .option('--socket <path>', 'the daemon socket (default: $POSBRIDGE_SOCKET or the default socket)')
    .option('--json', 'print exactly one JSON document on stdout')
    .addHelpText(
      'after',
      '\nThe link works once (opening it starts a session); asking for a new one ends the last unspent one.\n' +
        "Only the daemon's user can ask: the socket is owner-only.\n\nExample:\n  posbridge dashboard\n",
    )
    .action((options: StatusOptions) =>
      runAction(deps, options, async () => {
        const remote = await daemon(deps, options);
        try {
          const url = await remote.dashboardLink();
          if (options.json) printJson(deps.io, { kind: 'dashboard', url });
          else deps.io.stdout.write(`open ${url}\n`);
          return EXIT.ok;
        } finally {
          remote.close();
        }
      }),
    );
}

function firstSignal(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
