/**
 * The production wiring of discovery and the port manager from the daemon's config: ports open as
 * TerminalDrivers through the port registry (devices, tcp://, and whatever schemes the composition
 * root registered, e.g. mock://), with the config's baud rate and timeouts. `posbridge daemon`,
 * station mode and `posbridge scan` all build their manager here (the config loaded before, by
 * the composition root, src/cli/runtime.ts): one code path.
 */
import type { Logger } from 'pino';
import { TerminalDriver } from '../../host/driver.js';
import type { PortRegistry } from '../../host/ports/registry.js';
import type { ResendReason } from '../../host/session.js';
import type { Clock, Timers, Verb } from '../../protocol/index.js';
import type { DaemonConfig } from '../config/schema.js';
import { Discovery, type DiscoveryFs, type DiscoveryLister } from '../discovery/index.js';
import type { WatchSource } from '../discovery/watch.js';
import { DaemonPortManager, type OpenTerminal } from './manager.js';

export interface CreateDaemonPortsOptions {
  config: DaemonConfig;
  registry: PortRegistry;
  logger: Logger;
  /** Ports named on the command line, managed like config `ports`. */
  extraPorts?: readonly string[] | undefined;
  /** Watch config `watch` for hot-plug. Default true; false for one-shot use (scan). */
  hotPlug?: boolean | undefined;
  /** Heartbeat the idle links. Default true. */
  heartbeat?: boolean | undefined;
  lister?: DiscoveryLister | undefined;
  watchSource?: WatchSource | undefined;
  fs?: DiscoveryFs | undefined;
  timers?: Timers | undefined;
  clock?: Clock | undefined;
  /** Told of each retransmission on any of its links (the daemon's metrics). */
  onRetransmit?: ((verb: Verb, reason: ResendReason) => void) | undefined;
  /** Replaces the TerminalDriver opener (tests). */
  open?: OpenTerminal | undefined;
}

export interface DaemonPorts {
  discovery: Discovery;
  manager: DaemonPortManager;
}

export function createDaemonPorts(options: CreateDaemonPortsOptions): DaemonPorts {
  const { config, registry, logger } = options;
  const { requestMs, identifyMs, heartbeatMs, namedIdleMs } = config.timeouts;
  const discovery = new Discovery({
    allow: config.allow,
    ports: [...config.ports, ...(options.extraPorts ?? [])],
    watch: options.hotPlug === false ? [] : config.watch,
    lister: options.lister,
    watchSource: options.watchSource,
    fs: options.fs,
    timers: options.timers,
    logger,
  });
  const open: OpenTerminal =
    options.open ??
    ((port) =>
      TerminalDriver.open(port, {
        registry,
        logger,
        baudRate: config.baud,
        timeoutMs: requestMs,
        timers: options.timers,
        clock: options.clock,
        ...(options.onRetransmit && { session: { onRetransmit: options.onRetransmit } }),
      }));
  const manager = new DaemonPortManager({
    open,
    discovery,
    logger,
    timers: options.timers,
    clock: options.clock,
    identifyMs,
    heartbeatMs: options.heartbeat === false ? 0 : heartbeatMs,
    namedIdleMs,
    maxNamedPorts: config.maxNamedPorts,
  });
  return { discovery, manager };
}
