/**
 * One look at the ports the daemon would manage (allow-listed USB IDs, config `ports`, and any
 * named on the command line), in this process: a short-lived port manager, no hot-plug, no
 * heartbeat, HELLO and STATUS only (no login), every other listed port left without a byte.
 * `posbridge scan` (commands/scan.ts) and addressing without a port (connected-terminals.ts)
 * both scan here, when no daemon answers (one that does owns the ports).
 */
import type { Logger } from 'pino';
import type { DaemonConfig } from '../daemon/config/index.js';
import type { DiscoveryLister, IgnoredPort } from '../daemon/discovery/index.js';
import { createDaemonPorts } from '../daemon/port-manager/index.js';
import type { PosbridgeError } from '../host/errors.js';
import type { TerminalInfo } from '../host/hub.js';
import type { PortRegistry } from '../host/ports/registry.js';

export interface PortScanOptions {
  config: DaemonConfig;
  registry: PortRegistry;
  logger: Logger;
  lister: DiscoveryLister;
  /** Ports named on the command line (`scan --port`), checked besides the config's. */
  extraPorts?: readonly string[];
}

export interface PortScan {
  /** Every port checked, as identification left it (answering, busy or in error). */
  terminals: TerminalInfo[];
  /** Named ports that do not exist. */
  absent: string[];
  /** Listed ports left alone (not on the allow-list, not named). */
  ignored: IgnoredPort[];
  /** The port listing failed (e.g. no udevadm): only named ports were checked. */
  listError: PosbridgeError | undefined;
}

export async function scanPorts(options: PortScanOptions): Promise<PortScan> {
  const { config, extraPorts = [] } = options;
  const { discovery, manager } = createDaemonPorts({
    config,
    registry: options.registry,
    logger: options.logger,
    extraPorts,
    hotPlug: false,
    heartbeat: false,
    lister: options.lister,
  });
  try {
    await manager.start();
    const listError = discovery.listError;
    // Nothing could be listed and nothing is named: say why rather than "no terminal".
    if (listError && extraPorts.length === 0 && config.ports.length === 0) throw listError;
    await manager.settled();
    return {
      terminals: manager.list(),
      absent: discovery.absent(),
      ignored: discovery.ignored(),
      listError,
    };
  } finally {
    await manager.close();
  }
}
