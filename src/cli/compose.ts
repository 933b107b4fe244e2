/**
 * The composition root: real clock, randomness, logger, ports (devices, tcp://, rfc2217://,
 * telnet://, and mock:// wired to the mock terminal), driver and engine. Everything below receives these; nothing below
 * reaches for a global.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Logger } from 'pino';
import { AuditedEngine } from '../audit/audited-engine.js';
import { defaultAuditPath } from '../audit/index.js';
import { connectDaemon } from '../daemon/api/client.js';
import { resolveSocketPath } from '../daemon/api/socket.js';
import { startDaemonPorts } from '../daemon/discovery/index.js';
import { TerminalDriver } from '../host/driver.js';
import { type Connector, LocalEngine } from '../host/engine.js';
import { createPortRegistry, listPorts } from '../host/ports/index.js';
import { auditTarget, openAudit } from './audit-target.js';
import type { CliDeps, CommonOptions, EngineHandle } from './context.js';
import { engineViaDaemonOr } from './daemon-client.js';
import { daemonHub } from './daemon-hub.js';
import type { CliIo } from './io.js';
import { createLogger } from './logger.js';
import { MockPorts, type MockPortsOptions } from './mock-ports.js';

/** `mock` is the process's mock terminals, or options to make them (tests pass their own). */
export function productionDeps(io: CliIo, mock: MockPortsOptions | MockPorts = {}): Omit<CliDeps, 'result'> {
  const mockPorts = mock instanceof MockPorts ? mock : new MockPorts(mock);
  /** The daemon's station name, from its config (set once its port manager is built). */
  let daemonStation: string | undefined;
  /** The daemon config's audit file and witness, if it names them (the environment still wins). */
  let daemonAudit: { audit?: string; auditWitness?: string } = {};
  const warn = (message: string) => io.stderr.write(`warning: ${message}\n`);
  return {
    io,
    now: () => new Date(),
    randomBytes: (n) => randomBytes(n),
    user: () => io.env.USER ?? safeUser(),
    hostname: () => hostname(),
    createLogger: (options) => createLogger(options, io.stderr as NodeJS.WritableStream),
    // Through the daemon when one answers (it owns the ports and writes the audit trail);
    // otherwise in this process, audited here.
    createEngine: async (options, logger) =>
      engineViaDaemonOr(options, io.env, logger, () => {
        const audit = openAudit(auditTarget(io.env), warn);
        const local = createLocalEngine(options, logger, mockPorts);
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
        };
      }),
    // posbridge daemon: discovery and hot-plug over the same registry (mock:// included).
    createPortManager: async ({ configFile, logger }) => {
      const ports = await startDaemonPorts({
        configFile,
        registry: portRegistry(mockPorts, logger),
        logger,
        env: io.env,
      });
      daemonStation = ports.config.station;
      daemonAudit = ports.config;
      return ports.manager;
    },
    // The daemon writes the audit trail of what it runs, whoever asked.
    wrapDaemonEngine: (engine, logger) => {
      const target = auditTarget(io.env, daemonAudit);
      const audit = openAudit(target, (message) => logger.error({ witness: target.witness }, message));
      logger.info({ audit: audit.store.file, witness: audit.witness?.file }, 'audit trail');
      return {
        engine: new AuditedEngine(engine, audit.store, {
          technician: io.env.USER ?? safeUser(),
          station: daemonStation ?? hostname(),
          now: () => new Date(),
        }),
        close: async () => audit.close(),
      };
    },
    auditPath: () => auditPath(io.env),
    portRegistry: () => portRegistry(mockPorts),
    // posbridge station without --port: terminals as the daemon's port manager finds them, and
    // operations through its leases (the same code path as the daemon).
    createHub: async ({ logger, socket }) => {
      const uid = process.getuid?.() ?? 0;
      const remote = await connectDaemon(resolveSocketPath(io.env, socket, uid), uid);
      if (remote) return daemonHub(remote);
      const audit = openAudit(auditTarget(io.env), warn);
      const ports = await startDaemonPorts({ registry: portRegistry(mockPorts), logger, env: io.env });
      await ports.manager.settled();
      const local = new LocalEngine({
        connect: (port) => ports.manager.lease(port),
        now: () => new Date(),
        randomBytes: (n) => randomBytes(n),
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
      };
    },
    listPorts: () => listPorts(),
    openTransport: (options) => portRegistry(mockPorts).open(options.port!, { baudRate: options.baud }),
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
): EngineHandle {
  const registry = portRegistry(mockPorts, logger);
  const connect: Connector = (port) =>
    TerminalDriver.open(port, {
      registry,
      logger,
      baudRate: options.baud,
      timeoutMs: options.timeout,
      // DIAG's wait restarts at every DATA line; a check may take several seconds on hardware.
      slowTimeoutMs: options.timeout * 5,
      ...(options.trace !== undefined && { trace: options.trace }),
    });
  const engine = new LocalEngine({ connect, now: () => new Date(), randomBytes: (n) => randomBytes(n) });
  return { engine, close: async () => undefined };
}
