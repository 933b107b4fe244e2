/**
 * The second half of the composition root (docs/architecture.md, "The composition root"): from
 * the config settled first (runtime-config.ts), one function builds what a command runs on.
 *
 * - A daemon answers: its RemoteEngine (the daemon audits what it runs), and for station mode its
 *   terminal list and events as the hub.
 * - This process runs the port manager (`posbridge daemon`, station mode without --port): the
 *   config's discovery and hot-plug, a LocalEngine leasing its connections, audited in the
 *   config's trail under the config's station name.
 * - Otherwise: a LocalEngine that opens each port itself (devices, tcp://, rfc2217://, telnet://,
 *   this process's mock:// terminals), audited in the user's trail.
 *
 * Every command and the daemon get their engine here, and the test rigs too (test/support): there
 * is no other place that builds an audit store and an engine.
 */
import type { Logger } from 'pino';
import { AuditedEngine } from '../audit/audited-engine.js';
import { isAuditError } from '../audit/errors.js';
import type { AuditStore } from '../audit/store.js';
import type { UnrecordedEngine } from '../audit/unrecorded-engine.js';
import type { DaemonConfig } from '../daemon/config/index.js';
import { TerminalDriver } from '../host/driver.js';
import {
  type CallOptions,
  type Connector,
  callOperation,
  type Engine,
  LocalEngine,
  OperationEngine,
} from '../host/engine.js';
import { PosbridgeError } from '../host/errors.js';
import type { PortManager, TerminalHub } from '../host/hub.js';
import { type LinkOptions, slowTimeoutFor } from '../host/link-options.js';
import type { OperationName, RequestOf, ResultOf } from '../host/operations/index.js';
import type { PortRegistry } from '../host/ports/index.js';
import type { ResendReason } from '../host/session.js';
import type { Verb } from '../protocol/index.js';
import type { StaticHub } from '../station/static-hub.js';
import type { OpenedAudit } from './audit-open.js';
import { lazyAudit } from './audit-target.js';
import { DEFAULT_BAUD, DEFAULT_TIMEOUT_MS, type EngineAbout } from './context.js';
import { aboutDaemon, type FoundDaemon, remoteEngine } from './daemon-client.js';
import type { CliIo } from './io.js';
import type { RuntimeConfig } from './runtime-config.js';

/** What this process brings: its clock, randomness, user and host, and how ports open. */
export interface RuntimeParts {
  now(): Date;
  randomBytes(n: number): Uint8Array;
  /** The OS user: who runs the operations, for the audit records. */
  user(): string;
  /** The station name of in-process records (a config's `station` wins for a port manager). */
  hostname(): string;
  /**
   * Every port opens through it (devices, tcp://, rfc2217://, telnet://, this process's mock://);
   * production loads the ports' modules (and the mock's) here, when a command first needs one.
   */
  portRegistry(logger?: Logger): PortRegistry | Promise<PortRegistry>;
  /** The port manager over the config, started (default: discovery and hot-plug, createDaemonPorts). */
  startPortManager?: StartPortManager | undefined;
  /** DIAG's reply wait for ports this process opens, ms (default: slowTimeoutFor(--timeout)). */
  slowTimeoutMs?: number | undefined;
}

/** What the daemon's metrics hear from the port manager's links. */
export interface PortManagerHooks {
  onRetransmit?: ((verb: Verb, reason: ResendReason) => void) | undefined;
}

export type StartPortManager = (
  config: DaemonConfig,
  registry: PortRegistry,
  logger: Logger,
  hooks?: PortManagerHooks,
) => Promise<PortManager & { settled?(): Promise<void> }>;

export interface RuntimeOptions {
  parts: RuntimeParts;
  logger: Logger;
  /** The command's opened --trace, and its --timeout and --baud. */
  link?: LinkOptions | undefined;
  /**
   * The terminals to watch besides running operations: the ports the command names (a fixed
   * list), those a port manager finds (`discover`: station mode; the daemon's when one answers),
   * or this process's port manager served to others (`serve`: the daemon).
   */
  hub?: { ports: readonly string[] } | 'discover' | 'serve' | undefined;
  /** Hears how long each append to the port manager's audit trail took (the daemon's metrics). */
  onAuditAppend?: ((seconds: number) => void) | undefined;
  /** Hears each retransmission on the port manager's links (the daemon's metrics). */
  onRetransmit?: PortManagerHooks['onRetransmit'];
}

export interface Runtime {
  /** Every operation goes through it. */
  engine: Engine;
  /** Present when the options asked for a hub. */
  hub?: TerminalHub;
  /** Who records the runs: station name, audit trail, the daemon; the line rate and config file of a port manager. */
  about: RuntimeAbout;
  /** Closes what the runtime opened (hub, ports, audit trail), after the last operation. */
  close(): Promise<void>;
}

export type RuntimeAbout = EngineAbout & { baud?: number; config?: string };

/** The daemon's runtime: its own port manager is the hub it serves. */
export type ServingRuntime = Runtime & { hub: PortManager };

export function buildRuntime(
  config: RuntimeConfig,
  io: Pick<CliIo, 'stderr'>,
  options: RuntimeOptions & { hub: 'serve' },
): Promise<ServingRuntime>;
export function buildRuntime(
  config: RuntimeConfig,
  io: Pick<CliIo, 'stderr'>,
  options: RuntimeOptions,
): Promise<Runtime>;
export async function buildRuntime(
  config: RuntimeConfig,
  io: Pick<CliIo, 'stderr'>,
  options: RuntimeOptions,
): Promise<Runtime> {
  if (config.daemon) return throughDaemon(config.daemon, options);
  if (options.hub === 'discover' || options.hub === 'serve') return withPortManager(config, io, options);
  return inProcess(config, io, options);
}

async function throughDaemon(found: FoundDaemon, options: RuntimeOptions): Promise<Runtime> {
  if (options.hub === 'serve') throw new PosbridgeError('INTERNAL', 'a daemon never goes through another');
  options.logger.debug({ socket: found.socket }, 'going through the daemon');
  const engine = await remoteEngine(found, options.link);
  const about = aboutDaemon(found);
  if (options.hub === 'discover') {
    const { daemonHub } = await import('./daemon-hub.js');
    const hub = await daemonHub(engine);
    return { engine, hub, about, close: () => hub.close() };
  }
  const hub = await staticHub(engine, options);
  return {
    engine,
    ...(hub && { hub }),
    about,
    close: async () => {
      await hub?.close();
      engine.close();
    },
  };
}

/** The engine opens each port itself, audited in the user's trail (or the demo's). */
async function inProcess(
  config: RuntimeConfig,
  io: Pick<CliIo, 'stderr'>,
  options: RuntimeOptions,
): Promise<Runtime> {
  const { parts, logger, link = {} } = options;
  // Opened on the first record, before that run's first byte: info never creates the file.
  const audit = lazyAudit(config.audit, warnOn(io));
  const registry = await parts.portRegistry(logger);
  const timeoutMs = link.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connect: Connector = (port) =>
    TerminalDriver.open(port, {
      registry,
      logger,
      baudRate: link.baudRate ?? DEFAULT_BAUD,
      timeoutMs,
      // DIAG's wait restarts at every DATA line; a check may take several seconds on hardware.
      slowTimeoutMs: parts.slowTimeoutMs ?? slowTimeoutFor(timeoutMs),
      // The command opened (and closes) its --trace file: output-files.ts.
      ...(link.trace && { trace: link.trace }),
    });
  // The station name is the command's (--station, else the host name): `about` names none.
  const local = new LocalEngine({ connect, now: parts.now, randomBytes: parts.randomBytes });
  const engine = new RecordedUnlessUnavailable(
    audited(local, audit.store, { parts, station: parts.hostname() }),
    local,
    warnOn(io),
  );
  const hub = await staticHub(engine, options);
  return {
    engine,
    ...(hub && { hub }),
    about: { audit: audit.file },
    close: async () => {
      await hub?.close();
      audit?.close();
    },
  };
}

/** This process runs the port manager: operations lease its connections, as in the daemon. */
async function withPortManager(
  config: RuntimeConfig,
  io: Pick<CliIo, 'stderr'>,
  options: RuntimeOptions,
): Promise<Runtime> {
  const { parts, logger } = options;
  const loaded = config.file;
  if (!loaded) throw new PosbridgeError('INTERNAL', 'a port manager needs the daemon config, loaded first');
  const { config: daemonConfig, path, found } = loaded;
  const configText = found ? path : `${path} (absent: defaults)`;
  logger.info({ config: configText, station: daemonConfig.station }, 'daemon config');
  const start = parts.startPortManager ?? startDiscovery;
  const ports = await start(daemonConfig, await parts.portRegistry(logger), logger, {
    onRetransmit: options.onRetransmit,
  });
  // With config `mqtt`, the daemon publishes what it does (docs/fleet.md); loaded only then.
  const fleet =
    options.hub === 'serve' && daemonConfig.mqtt !== undefined
      ? (await import('./daemon-fleet.js')).daemonFleet(daemonConfig.mqtt)
      : undefined;
  let audit: OpenedAudit;
  try {
    const { openAudit } = await import('./audit-open.js');
    // The daemon has no one reading its stderr but its log; station mode has a person.
    const warn =
      options.hub === 'serve'
        ? (message: string) => logger.error({ witness: config.audit.witness }, message)
        : warnOn(io);
    audit = openAudit(config.audit, warn, fleet?.witness, options.onAuditAppend);
  } catch (error) {
    await ports.close();
    throw error;
  }
  logger.info({ audit: audit.store.file, witness: audit.witness?.file }, 'audit trail');
  let stopFleet: (() => Promise<void>) | undefined;
  try {
    stopFleet = await fleet?.start({ store: audit.store, hub: ports, station: daemonConfig.station, logger });
  } catch (error) {
    audit.close();
    await ports.close();
    throw error;
  }
  if (options.hub === 'discover') await ports.settled?.();
  const trace = options.link?.trace;
  const local = new LocalEngine({
    connect: (port) => ports.lease(port),
    now: parts.now,
    randomBytes: parts.randomBytes,
    // The config holds the line rate and timeouts (--baud and --timeout went into it).
    ...(trace && { link: { trace } }),
  });
  return {
    engine: audited(local, audit.store, { parts, station: daemonConfig.station }),
    hub: ports,
    about: {
      station: daemonConfig.station,
      audit: audit.store.file,
      baud: daemonConfig.baud,
      config: configText,
    },
    close: async () => {
      await stopFleet?.();
      await ports.close();
      audit.close();
    },
  };
}

const startDiscovery: StartPortManager = async (config, registry, logger, hooks) => {
  const { createDaemonPorts } = await import('../daemon/port-manager/index.js');
  const { manager } = createDaemonPorts({ config, registry, logger, onRetransmit: hooks?.onRetransmit });
  await manager.start();
  return manager;
};

function audited(
  engine: Engine,
  store: AuditStore | (() => Promise<AuditStore>),
  context: { parts: RuntimeParts; station: string },
): Engine {
  return new AuditedEngine(engine, store, {
    technician: context.parts.user(),
    station: context.station,
    now: context.parts.now,
  });
}

/** A fixed list of ports as a hub, each identified through `engine` (station mode's --port). */
async function staticHub(engine: Engine, options: RuntimeOptions): Promise<StaticHub | undefined> {
  const hub = options.hub;
  if (typeof hub !== 'object') return undefined;
  const { StaticHub } = await import('../station/static-hub.js');
  return new StaticHub(hub.ports, { engine, now: options.parts.now }).start();
}

function warnOn(io: Pick<CliIo, 'stderr'>): (message: string) => void {
  return (message) => io.stderr.write(`warning: ${message}\n`);
}

/**
 * The audited engine, until the trail turns out not to open because the SQLite module does not
 * load in this Node.js (AUDIT_UNAVAILABLE, met on the first record, before that run's first byte):
 * from then on the unrecorded one, so reading a terminal still works and changing one does not
 * (unrecorded-engine.ts).
 */
class RecordedUnlessUnavailable extends OperationEngine {
  private unrecorded: UnrecordedEngine | undefined;

  constructor(
    private readonly recorded: Engine,
    private readonly local: Engine,
    private readonly warn: (message: string) => void,
  ) {
    super();
  }

  async call<N extends OperationName>(
    name: N,
    request: RequestOf<N>,
    options?: CallOptions<N>,
  ): Promise<ResultOf<N>> {
    if (!this.unrecorded) {
      try {
        return await callOperation(this.recorded, name, request, options);
      } catch (error) {
        if (!isAuditError(error, 'AUDIT_UNAVAILABLE')) throw error;
        const { UnrecordedEngine } = await import('../audit/unrecorded-engine.js');
        this.unrecorded ??= new UnrecordedEngine(this.local, error, this.warn);
      }
    }
    return callOperation(this.unrecorded, name, request, options);
  }
}
