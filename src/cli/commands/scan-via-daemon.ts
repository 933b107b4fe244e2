/**
 * `posbridge scan` while a daemon runs: the daemon owns the ports (opening one again would only
 * answer "port busy"), so the scan reads what the daemon identified, waits for the terminals it
 * is still identifying, and asks it for each port named with --port that it does not know yet
 * (it opens them on demand, under the same allow-list rules). Nothing is opened here.
 */
import type { RemoteEngine } from '../../daemon/api/client.js';
import { PosbridgeError } from '../../host/errors.js';
import type { TerminalInfo } from '../../host/hub.js';

/** How long the scan waits for the daemon to finish identifying what it found, ms. */
export const DAEMON_SETTLE_MS = 15_000;

export interface DaemonScanOptions {
  port: string[];
  config?: string | undefined;
  baud?: number | undefined;
}

/** What the daemon knows, settled, plus the named ports: the input of the scan's report. */
export async function terminalsViaDaemon(
  remote: RemoteEngine,
  options: DaemonScanOptions,
  settleMs = DAEMON_SETTLE_MS,
): Promise<TerminalInfo[]> {
  refuseWhatTheDaemonDecides(remote, options);
  const listed = await settledList(remote, settleMs);
  const byPort = new Map(listed.map((t) => [t.port, t]));
  for (const port of options.port) {
    const known = byPort.get(port);
    if (known?.hello && known.status && (known.state === 'present' || known.state === 'busy')) continue;
    byPort.set(port, await readThrough(remote, port));
  }
  return [...byPort.values()];
}

/** Its config (allow-list, ports) and its line rate are the daemon's: say so rather than ignore them. */
function refuseWhatTheDaemonDecides(remote: RemoteEngine, options: DaemonScanOptions): void {
  const who = `the posbridge daemon at ${remote.socketPath} (pid ${remote.found?.pid ?? '?'})`;
  if (options.config !== undefined)
    throw new PosbridgeError(
      'USAGE',
      `--config does not apply while ${who} owns the ports: it scans with its own config`,
      {
        hint: `leave out --config (the daemon reads ${remote.found?.config ?? 'its config file'}), or stop the daemon to scan with another; nothing was sent`,
      },
    );
  const rate = remote.found?.baud;
  if (options.baud !== undefined && rate !== undefined && options.baud !== rate)
    throw new PosbridgeError(
      'USAGE',
      `--baud ${options.baud}: ${who} holds its serial ports at ${rate} baud`,
      {
        hint: `leave out --baud, or set baud in the daemon config and restart it; nothing was sent`,
      },
    );
}

/** The daemon's list once no port is being identified (or after `settleMs`). */
async function settledList(remote: RemoteEngine, settleMs: number): Promise<TerminalInfo[]> {
  const identifying = new Set<string>();
  let wake: (() => void) | undefined;
  const subscription = await remote.events((event) => {
    if (
      event.type !== 'terminal-added' &&
      event.type !== 'terminal-updated' &&
      event.type !== 'terminal-removed'
    )
      return;
    const { port, state } = event.terminal;
    if (event.type !== 'terminal-removed' && state === 'identifying') identifying.add(port);
    else identifying.delete(port);
    if (identifying.size === 0) wake?.();
  });
  try {
    for (const terminal of await remote.terminals())
      if (terminal.state === 'identifying') identifying.add(terminal.port);
    if (identifying.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, settleMs);
      });
      clearTimeout(timer);
    }
    return await remote.terminals();
  } finally {
    subscription.close();
  }
}

/** HELLO and STATUS of a named port through the daemon, or the reason it could not be read. */
async function readThrough(remote: RemoteEngine, port: string): Promise<TerminalInfo> {
  const since = new Date().toISOString();
  try {
    const { hello, status } = await remote.info({ port });
    return { port, state: 'present', hello, status, since };
  } catch (error) {
    // A refusal of ours (a --baud the daemon cannot honour) is the user's to fix: exit 2.
    if (error instanceof PosbridgeError && error.code === 'USAGE') throw error;
    const known = error instanceof PosbridgeError ? error : undefined;
    return {
      port,
      state: 'error',
      error: { code: known?.code ?? 'INTERNAL', message: known?.message ?? String(error) },
      since,
    };
  }
}
