/**
 * Which engine a command uses: the daemon's when one answers (it owns the ports, so the command
 * must go through it), else this process's own. `--socket PATH` insists on a daemon there;
 * `POSBRIDGE_SOCKET` and the default socket are used when a daemon answers, ignored otherwise.
 *
 * Through the daemon, the command's --trace, --timeout and --baud travel with each operation
 * (host/link-options.ts): the trace lines come back and are written here, by the user's own
 * process; a --baud the daemon cannot honour is refused (exit 2). Nothing is silently dropped.
 */
import type { Logger } from 'pino';
import { connectDaemon, type RemoteEngine } from '../daemon/api/client.js';
import { resolveSocketPath } from '../daemon/api/socket.js';
import { PosbridgeError } from '../host/errors.js';
import type { LinkOptions } from '../host/link-options.js';
import type { WireTrace } from '../host/trace.js';
import type { CommonOptions, EngineAbout, EngineHandle } from './context.js';

export async function engineViaDaemonOr(
  options: CommonOptions & { socket?: string },
  env: NodeJS.ProcessEnv,
  logger: Logger,
  inProcess: () => Promise<EngineHandle> | EngineHandle,
  uid: number = process.getuid?.() ?? 0,
  trace?: WireTrace,
): Promise<EngineHandle> {
  const remote = await findDaemonFor(options, env, uid, linkOf(options, trace));
  if (!remote) return inProcess();
  logger.debug({ socket: remote.socketPath }, 'going through the daemon');
  return { engine: remote, close: async () => remote.close(), about: aboutDaemon(remote) };
}

/**
 * The daemon the command must go through, if one answers; an error when `--socket` named one
 * that does not.
 */
export async function findDaemonFor(
  options: { socket?: string | undefined },
  env: NodeJS.ProcessEnv,
  uid: number,
  link: LinkOptions = {},
): Promise<RemoteEngine | undefined> {
  const location = resolveSocketPath(env, options.socket, uid);
  const remote = await connectDaemon(location, uid, undefined, link);
  if (!remote && location.source === 'flag') {
    throw new PosbridgeError('PORT_NOT_FOUND', `no posbridge daemon answers at ${location.path}`, {
      hint: 'start it (posbridge daemon --socket PATH), or leave out --socket to work without it',
    });
  }
  return remote;
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
export function aboutDaemon(remote: RemoteEngine): EngineAbout {
  const health = remote.found;
  return {
    ...(health?.station !== undefined && { station: health.station }),
    ...(health?.audit !== undefined && { audit: health.audit }),
    daemon: { socket: remote.socketPath, pid: health?.pid ?? 0 },
  };
}
