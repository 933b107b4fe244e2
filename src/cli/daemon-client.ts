/**
 * Which engine a command uses: the daemon's when one answers (it owns the ports, so the command
 * must go through it), else this process's own. `--socket PATH` insists on a daemon there;
 * `POSBRIDGE_SOCKET` and the default socket are used when a daemon answers, ignored otherwise.
 */
import type { Logger } from 'pino';
import { connectDaemon } from '../daemon/api/client.js';
import { resolveSocketPath } from '../daemon/api/socket.js';
import { PosbridgeError } from '../host/errors.js';
import type { CommonOptions, EngineHandle } from './context.js';

export async function engineViaDaemonOr(
  options: CommonOptions & { socket?: string },
  env: NodeJS.ProcessEnv,
  logger: Logger,
  inProcess: () => Promise<EngineHandle> | EngineHandle,
  uid: number = process.getuid?.() ?? 0,
): Promise<EngineHandle> {
  const location = resolveSocketPath(env, options.socket, uid);
  const remote = await connectDaemon(location, uid);
  if (!remote) {
    if (location.source === 'flag') {
      throw new PosbridgeError('PORT_NOT_FOUND', `no posbridge daemon answers at ${location.path}`, {
        hint: 'start it (posbridge daemon --socket PATH), or leave out --socket to work without it',
      });
    }
    return inProcess();
  }
  logger.debug({ socket: location.path }, 'going through the daemon');
  if (options.trace !== undefined) {
    logger.warn(
      { socket: location.path },
      'the daemon owns the port: --trace, --baud and --timeout do not apply through it (see the daemon log)',
    );
  }
  return { engine: remote, close: async () => remote.close() };
}
