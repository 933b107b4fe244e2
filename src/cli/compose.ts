/**
 * The production parts of the composition root: the real clock, randomness, logger, OS user and
 * host, and the port registry (devices, tcp://, rfc2217://, telnet://, and mock:// wired to the
 * mock terminal). Commands build their runtime from these (runtime-config.ts, then runtime.ts);
 * nothing below reaches for a global.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Logger } from 'pino';
import { defaultAuditPath } from '../audit/index.js';
import { createPortRegistry, listPorts, type PortRegistry } from '../host/ports/index.js';
import { type CliDeps, DEFAULT_BAUD } from './context.js';
import type { CliIo } from './io.js';
import { createLogger } from './logger.js';
import { MockPorts, type MockPortsOptions } from './mock-ports.js';

/** `mock` is the process's mock terminals, or options to make them (tests pass their own). */
export function productionDeps(io: CliIo, mock: MockPortsOptions | MockPorts = {}): Omit<CliDeps, 'result'> {
  const mockPorts = mock instanceof MockPorts ? mock : new MockPorts(mock);
  const registry = (logger?: Logger) => portRegistry(mockPorts, logger);
  return {
    io,
    now: () => new Date(),
    randomBytes: (n) => randomBytes(n),
    user: () => io.env.USER ?? safeUser(),
    hostname: () => hostname(),
    createLogger: (options) => createLogger(options, io.stderr as NodeJS.WritableStream, io),
    portRegistry: registry,
    auditPath: () => auditPath(io.env),
    listPorts: () => listPorts(),
    openTransport: (options) => registry().open(options.port!, { baudRate: options.baud ?? DEFAULT_BAUD }),
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

function portRegistry(mockPorts: MockPorts, logger?: Logger): PortRegistry {
  const registry = createPortRegistry({ logger });
  registry.register('mock', mockPorts.factory());
  return registry;
}
