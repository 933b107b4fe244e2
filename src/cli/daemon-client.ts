/**
 * Finding the daemon a command must go through: the one that answers at `--socket PATH` (an
 * error if none does), else at `POSBRIDGE_SOCKET` or the default socket (used when a daemon
 * answers, ignored otherwise). It owns the ports, so a command never opens them beside it.
 *
 * Through the daemon, the command's --trace, --timeout and --baud travel with each operation
 * (host/link-options.ts): the trace lines come back and are written here, by the user's own
 * process; a --baud the daemon cannot honour is refused (exit 2). Nothing is silently dropped.
 */
import type { RemoteEngine } from '../daemon/api/client.js';
import { isTrustedSocket, probeSocket, resolveSocketPath } from '../daemon/api/socket.js';
import type { DaemonHealth } from '../daemon/api/wire.js';
import { PosbridgeError } from '../host/errors.js';
import type { LinkOptions } from '../host/link-options.js';
import type { WireTrace } from '../host/trace.js';
import type { CommonOptions, EngineAbout } from './context.js';

/** A daemon that answered: its socket, and what it said of itself (GET /v1/health). */
export interface FoundDaemon {
  socket: string;
  health?: DaemonHealth | undefined;
}

/**
 * The daemon the command must go through, if one answers; an error when `--socket` named one
 * that does not.
 */
export async function findDaemon(
  socketFlag: string | undefined,
  env: NodeJS.ProcessEnv,
  uid: number,
): Promise<FoundDaemon | undefined> {
  const location = resolveSocketPath(env, socketFlag, uid);
  // The client (and its reply schemas) loads only once a daemon answers: remoteEngine.
  const probe = (await isTrustedSocket(location.path, uid)) ? await probeSocket(location.path) : undefined;
  if (probe?.kind !== 'daemon' && location.source === 'flag') {
    throw new PosbridgeError('PORT_NOT_FOUND', `no posbridge daemon answers at ${location.path}`, {
      hint: 'start it (posbridge daemon --socket PATH), or leave out --socket to work without it',
    });
  }
  if (probe?.kind !== 'daemon') return undefined;
  return { socket: location.path, health: probe.health };
}

/** The client of a daemon found, asking each operation's `link` of it. */
export async function remoteEngine(found: FoundDaemon, link: LinkOptions = {}): Promise<RemoteEngine> {
  const { RemoteEngine } = await import('../daemon/api/client.js');
  return new RemoteEngine(found.socket, link, found.health);
}

/** The link options the user gave: only those (the daemon's own settings stand for the rest). */
export function linkOf(options: Pick<CommonOptions, 'baud' | 'timeout'>, trace?: WireTrace): LinkOptions {
  return {
    ...(trace && { trace }),
    ...(options.timeout !== undefined && { timeoutMs: options.timeout }),
    ...(options.baud !== undefined && { baudRate: options.baud }),
  };
}

/** What the daemon said of itself when it was found: its station and audit trail. */
export function aboutDaemon(found: FoundDaemon): EngineAbout {
  const { health } = found;
  return {
    ...(health?.station !== undefined && { station: health.station }),
    ...(health?.audit !== undefined && { audit: health.audit }),
    daemon: { socket: found.socket, pid: health?.pid ?? 0 },
  };
}
