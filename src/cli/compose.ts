/**
 * The composition root: real clock, randomness, logger, ports (devices, tcp://, rfc2217://,
 * telnet://, and mock:// wired to the mock terminal), driver and engine. Everything below receives these; nothing below
 * reaches for a global.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Logger } from 'pino';
import { AuditedEngine } from '../audit/audited-engine.js';
import { defaultAuditPath, isAuditError } from '../audit/index.js';
import { UnrecordedEngine } from '../audit/unrecorded-engine.js';
import type { DaemonConfig } from '../daemon/config/index.js';
import { startDaemonPorts } from '../daemon/port-manager/index.js';
import { TerminalDriver } from '../host/driver.js';
import { type Connector, LocalEngine } from '../host/engine.js';
import type { TerminalHub } from '../host/hub.js';
import { slowTimeoutFor } from '../host/link-options.js';
import { createPortRegistry, listPorts } from '../host/ports/index.js';
import type { WireTrace } from '../host/trace.js';
import { auditTarget, openAudit } from './audit-target.js';
import {
  type CliDeps,
  type CommonOptions,
  DEFAULT_BAUD,
  DEFAULT_TIMEOUT_MS,
  type EngineHandle,
} from './context.js';
import { aboutDaemon, engineViaDaemonOr, findDaemonFor, linkOf } from './daemon-client.js';
import { daemonFleet } from './daemon-fleet.js';
import { daemonHub } from './daemon-hub.js';
import type { CliIo } from './io.js';
import { createLogger } from './logger.js';
import { MockPorts, type MockPortsOptions } from './mock-ports.js';

/** `mock` is the process's mock terminals, or options to make them (tests pass their own). */
export function productionDeps(io: CliIo, mock: MockPortsOptions | MockPorts = {}): Omit<CliDeps, 'result'> {
  const mockPorts = mock instanceof MockPorts ? mock : new MockPorts(mock);
  /** The daemon's config (set once its port manager is built): station, audit file, rate. */
  let daemonSetup: { config: DaemonConfig; configPath: string; found: boolean; hub: TerminalHub } | undefined;
  const warn = (message: string) => io.stderr.write(`warning: ${message}\n`);
  const uid = () => process.getuid?.() ?? 0;
  return {
    io,
    now: () => new Date(),
    randomBytes: (n) => randomBytes(n),
    user: () => io.env.USER ?? safeUser(),
    hostname: () => hostname(),
    createLogger: (options) => createLogger(options, io.stderr as NodeJS.WritableStream, io),
    // Through the daemon when one answers (it owns the ports and writes the audit trail);
    // otherwise in this process, audited here.
    createEngine: async (options, logger, choice = {}) => {
      const inProcess = (): EngineHandle => {
        let audit: ReturnType<typeof openAudit>;
        try {
          // The demo's temporary trail has no witness: its heads are nobody's record.
          audit = openAudit(choice.audit ? { file: choice.audit } : auditTarget(io.env), warn);
        } catch (error) {
          // No SQLite module for this Node.js: reading a terminal still works, changing one does
          // not (unrecorded-engine.ts).
          if (!isAuditError(error, 'AUDIT_UNAVAILABLE')) throw error;
          const local = createLocalEngine(options, logger, mockPorts, choice.trace);
          return { engine: new UnrecordedEngine(local.engine, error, warn), close: local.close };
        }
        const local = createLocalEngine(options, logger, mockPorts, choice.trace);
        const engine = new AuditedEngine(local.engine, audit.store, {
          technician: io.env.USER ?? safeUser(),
          station: hostname(),
          now: () => new Date(),
        });
        return {
          engine,
          close: async () => {
            await local.close();
            audit.close();
          },
          // The station name is the command's (--station, else the host name).
          about: { audit: audit.store.file },
        };
      };
      if (choice.inProcess) return inProcess();
      return engineViaDaemonOr(options, io.env, logger, inProcess, uid(), choice.trace);
    },
    // posbridge daemon: discovery and hot-plug over the same registry (mock:// included).
    createPortManager: async ({ configFile, logger }) => {
      const ports = await startDaemonPorts({
        configFile,
        registry: portRegistry(mockPorts, logger),
        logger,
        env: io.env,
      });
      daemonSetup = {
        config: ports.config,
        configPath: ports.configPath,
        found: ports.configFound,
        hub: ports.manager,
      };
      return ports.manager;
    },
    // The daemon writes the audit trail of what it runs, whoever asked, under its config's
    // station name; /v1/health and its first lines say which.
    wrapDaemonEngine: async (engine, logger, context) => {
      const target = auditTarget(io.env, daemonSetup?.config);
      // With config `mqtt`, the daemon publishes what it does (docs/fleet.md).
      const fleet = daemonFleet(daemonSetup?.config.mqtt);
      const audit = openAudit(
        target,
        (message) => logger.error({ witness: target.witness }, message),
        fleet?.witness,
        context.onAuditAppend,
      );
      logger.info({ audit: audit.store.file, witness: audit.witness?.file }, 'audit trail');
      const station = daemonSetup?.config.station ?? context.hostname();
      const stopFleet = daemonSetup
        ? await fleet
            ?.start({ store: audit.store, hub: daemonSetup.hub, station, logger })
            .catch((error: unknown) => {
              audit.close();
              throw error;
            })
        : undefined;
      return {
        engine: new AuditedEngine(engine, audit.store, {
          technician: io.env.USER ?? safeUser(),
          station,
          now: () => new Date(),
        }),
        close: async () => {
          await stopFleet?.();
          audit.close();
        },
        about: {
          station,
          audit: audit.store.file,
          ...(daemonSetup && {
            baud: daemonSetup.config.baud,
            config: daemonSetup.found
              ? daemonSetup.configPath
              : `${daemonSetup.configPath} (absent: defaults)`,
          }),
        },
      };
    },
    auditPath: () => auditPath(io.env),
    portRegistry: () => portRegistry(mockPorts),
    // posbridge station without --port: terminals as the daemon's port manager finds them, and
    // operations through its leases (the same code path as the daemon).
    createHub: async ({ logger, socket, trace, baudRate, timeoutMs }) => {
      const link = linkOf({ baud: baudRate, timeout: timeoutMs }, trace);
      const remote = await findDaemonFor({ socket }, io.env, uid(), link);
      if (remote) return { ...(await daemonHub(remote)), about: aboutDaemon(remote) };
      const ports = await startDaemonPorts({
        registry: portRegistry(mockPorts, logger),
        logger,
        env: io.env,
        // This process owns the ports: they open at --baud, and answer within --timeout.
        adjust: (config) => {
          if (baudRate !== undefined) config.baud = baudRate;
          if (timeoutMs !== undefined) config.timeouts.requestMs = timeoutMs;
        },
      });
      // Running the port manager itself, station mode records as the daemon would: the
      // config's trail (and witness) and station name.
      let audit: ReturnType<typeof openAudit>;
      try {
        audit = openAudit(auditTarget(io.env, ports.config), warn);
      } catch (error) {
        await ports.manager.close();
        throw error;
      }
      await ports.manager.settled();
      const local = new LocalEngine({
        connect: (port) => ports.manager.lease(port),
        now: () => new Date(),
        randomBytes: (n) => randomBytes(n),
        ...(trace && { link: { trace } }),
      });
      return {
        list: () => ports.manager.list(),
        subscribe: (listener) => ports.manager.subscribe(listener),
        close: async () => {
          await ports.manager.close();
          audit.close();
        },
        engine: new AuditedEngine(local, audit.store, {
          technician: io.env.USER ?? safeUser(),
          station: ports.config.station,
          now: () => new Date(),
        }),
        about: { station: ports.config.station, audit: audit.store.file },
      };
    },
    listPorts: () => listPorts(),
    openTransport: (options) =>
      portRegistry(mockPorts).open(options.port!, { baudRate: options.baud ?? DEFAULT_BAUD }),
  };
}

/** POSBRIDGE_AUDIT, else the user's data directory (docs/cli.md, "Audit trail"). */
export function auditPath(env: NodeJS.ProcessEnv): string {
  return env.POSBRIDGE_AUDIT || defaultAuditPath(env);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function portRegistry(mockPorts: MockPorts, logger?: Logger) {
  const registry = createPortRegistry({ logger });
  registry.register('mock', mockPorts.factory());
  return registry;
}

export function createLocalEngine(
  options: CommonOptions,
  logger: Logger,
  mockPorts: MockPorts,
  trace?: WireTrace,
): EngineHandle {
  const registry = portRegistry(mockPorts, logger);
  const timeoutMs = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const connect: Connector = (port) =>
    TerminalDriver.open(port, {
      registry,
      logger,
      baudRate: options.baud ?? DEFAULT_BAUD,
      timeoutMs,
      // DIAG's wait restarts at every DATA line; a check may take several seconds on hardware.
      slowTimeoutMs: slowTimeoutFor(timeoutMs),
      // The command opened (and closes) its --trace file: output-files.ts.
      ...(trace && { trace }),
    });
  const engine = new LocalEngine({ connect, now: () => new Date(), randomBytes: (n) => randomBytes(n) });
  return { engine, close: async () => undefined };
}
