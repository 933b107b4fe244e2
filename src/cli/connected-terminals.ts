/**
 * The terminals connected right now, for addressing without a port (addressing.ts): the
 * daemon's, when one answers (it owns the ports), else a scan of the ports the daemon would
 * manage (allow-listed USB IDs and its config's `ports`), HELLO and STATUS only, as
 * `posbridge scan` does: no login, and no other port gets a byte.
 */
import { loadDaemonConfig } from '../daemon/config/index.js';
import type { TerminalInfo } from '../host/hub.js';
import { createPortRegistry } from '../host/ports/index.js';
import { terminalsViaDaemon } from './commands/scan-via-daemon.js';
import type { CliDeps, CommonOptions } from './context.js';
import { findDaemon, linkOf, remoteEngine } from './daemon-client.js';
import { MockPorts } from './mock-ports.js';
import { scanPorts } from './port-scan.js';

export interface ConnectedTerminals {
  /** Terminals that answered HELLO and STATUS. */
  terminals: TerminalInfo[];
  /** Who looked: "the posbridge daemon (pid N)" or "a scan of the allow-listed ports". */
  source: string;
}

export async function connectedTerminals(
  deps: Pick<CliDeps, 'io' | 'createLogger' | 'listPorts' | 'hostname' | 'portRegistry'>,
  options: Pick<CommonOptions, 'socket' | 'baud' | 'timeout' | 'logLevel' | 'logFormat'>,
): Promise<ConnectedTerminals> {
  const uid = process.getuid?.() ?? 0;
  const found = await findDaemon(options.socket, deps.io.env, uid);
  if (found) {
    const remote = await remoteEngine(found, linkOf(options));
    try {
      const infos = await terminalsViaDaemon(remote, { port: [], baud: options.baud });
      return {
        terminals: answering(infos),
        source: `the posbridge daemon (pid ${found.health?.pid ?? '?'})`,
      };
    } finally {
      remote.close();
    }
  }
  const { config } = await loadDaemonConfig({ env: deps.io.env, hostname: () => deps.hostname() });
  if (options.baud !== undefined) config.baud = options.baud;
  if (options.timeout !== undefined) config.timeouts.requestMs = options.timeout;
  let mockPorts: MockPorts | undefined;
  const registry =
    (await deps.portRegistry?.()) ??
    (() => {
      mockPorts = new MockPorts();
      return createPortRegistry().register('mock', mockPorts.factory());
    })();
  try {
    const { terminals } = await scanPorts({
      config,
      registry,
      logger: deps.createLogger({ logLevel: options.logLevel, logFormat: options.logFormat }),
      lister: () => deps.listPorts(),
    });
    return { terminals: answering(terminals), source: 'a scan of the allow-listed ports' };
  } finally {
    await mockPorts?.close();
  }
}

function answering(infos: TerminalInfo[]): TerminalInfo[] {
  return infos.filter((t) => t.hello && t.status && (t.state === 'present' || t.state === 'busy'));
}
