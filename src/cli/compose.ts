/**
 * The production parts of the composition root: the real clock, randomness, logger, OS user and
 * host, and the port registry (devices, tcp://, rfc2217://, telnet://, and mock:// wired to the
 * mock terminal). Commands build their runtime from these (runtime-config.ts, then runtime.ts);
 * nothing below reaches for a global.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Logger } from 'pino';
import { defaultAuditPath } from '../audit/paths.js';
import type { PortRegistry } from '../host/ports/index.js';
import { type CliDeps, DEFAULT_BAUD } from './context.js';
import type { CliIo } from './io.js';
import { createLogger } from './logger.js';
import type { MockPorts, MockPortsOptions } from './mock-ports.js';

/**
 * `mock` is the process's mock terminals, or options to make them (tests pass their own). The
 * ports' modules and the mock's load when a command first opens a port, not with the command line.
 */
export function productionDeps(io: CliIo, mock: MockPortsOptions | MockPorts = {}): Omit<CliDeps, 'result'> {
  let mockPorts: Promise<MockPorts> | undefined;
  const mocks = () => {
    mockPorts ??= isMockPorts(mock)
      ? Promise.resolve(mock)
      : import('./mock-ports.js').then(({ MockPorts }) => new MockPorts(mock));
    return mockPorts;
  };
  const registry = async (logger?: Logger) => portRegistry(await mocks(), logger);
  return {
    io,
    now: () => new Date(),
    randomBytes: (n) => randomBytes(n),
    user: () => io.env.USER ?? safeUser(),
    hostname: () => hostname(),
    createLogger: (options) => createLogger(options, io.stderr as NodeJS.WritableStream, io),
    portRegistry: registry,
    auditPath: () => auditPath(io.env),
    listPorts: async () => (await import('../host/ports/index.js')).listPorts(),
    openTransport: async (options) =>
      (await registry()).open(options.port!, { baudRate: options.baud ?? DEFAULT_BAUD }),
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

function isMockPorts(mock: MockPortsOptions | MockPorts): mock is MockPorts {
  return typeof (mock as Partial<MockPorts>).factory === 'function';
}

async function portRegistry(mockPorts: MockPorts, logger?: Logger): Promise<PortRegistry> {
  // The registry's module, not the index: port listing (sysfs) is for `ports` and discovery.
  const { createPortRegistry } = await import('../host/ports/registry.js');
  const registry = createPortRegistry({ logger });
  registry.register('mock', mockPorts.factory());
  return registry;
}
