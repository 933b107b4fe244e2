/**
 * The composition root: real clock, randomness, logger, ports (devices, tcp://, and mock:// wired
 * to the mock terminal), driver and engine. Everything below receives these; nothing below
 * reaches for a global.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Logger } from 'pino';
import { TerminalDriver } from '../daemon/driver.js';
import { type Connector, LocalEngine } from '../daemon/engine.js';
import { createPortRegistry, listPorts } from '../daemon/ports/index.js';
import type { CliDeps, CommonOptions, EngineHandle } from './context.js';
import type { CliIo } from './io.js';
import { createLogger } from './logger.js';
import { MockPorts, type MockPortsOptions } from './mock-ports.js';

export function productionDeps(io: CliIo, mockOptions: MockPortsOptions = {}): Omit<CliDeps, 'result'> {
  const mockPorts = new MockPorts(mockOptions);
  return {
    io,
    now: () => new Date(),
    randomBytes: (n) => randomBytes(n),
    user: () => io.env.USER ?? safeUser(),
    hostname: () => hostname(),
    createLogger: (options) => createLogger(options, io.stderr as NodeJS.WritableStream),
    createEngine: async (options, logger) => createLocalEngine(options, logger, mockPorts),
    listPorts: () => listPorts(),
    openTransport: (options) => portRegistry(mockPorts).open(options.port!, { baudRate: options.baud }),
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function portRegistry(mockPorts: MockPorts) {
  const registry = createPortRegistry();
  registry.register('mock', mockPorts.factory());
  return registry;
}

export function createLocalEngine(
  options: CommonOptions,
  logger: Logger,
  mockPorts: MockPorts,
): EngineHandle {
  const registry = portRegistry(mockPorts);
  const connect: Connector = (port) =>
    TerminalDriver.open(port, {
      registry,
      logger,
      baudRate: options.baud,
      timeoutMs: options.timeout,
      ...(options.trace !== undefined && { trace: options.trace }),
    });
  const engine = new LocalEngine({ connect, now: () => new Date(), randomBytes: (n) => randomBytes(n) });
  return { engine, close: async () => undefined };
}
