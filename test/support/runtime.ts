/**
 * The composition root's runtime (src/cli/runtime.ts buildRuntime) for tests that drive an engine
 * without the command line: the same engine the CLI and the daemon get, audited, over the test's
 * mock terminals, clock and randomness, its audit trail in the test's scratch directory. No test
 * builds a LocalEngine or an AuditedEngine of its own.
 */
import type { Logger } from 'pino';
import type { MockPorts } from '../../src/cli/mock-ports.js';
import {
  buildRuntime,
  type Runtime,
  type RuntimeOptions,
  type RuntimeParts,
  type ServingRuntime,
} from '../../src/cli/runtime.js';
import type { RuntimeConfig } from '../../src/cli/runtime-config.js';
import { defaultDaemonConfig } from '../../src/daemon/config/index.js';
import type { PortManager } from '../../src/host/hub.js';
import { createPortRegistry } from '../../src/host/ports/index.js';
import { silentLogger as silent } from './constants.js';

export interface TestRuntimeOptions {
  /** The terminals behind mock:// (the test inspects them). */
  mockPorts: MockPorts;
  /** The audit trail (a file in the test's scratch directory). */
  audit: string;
  now?: () => Date;
  randomBytes?: (n: number) => Uint8Array;
  /** The OS user (technician) and host (station) of the records; default tech-tester, station-test. */
  user?: string;
  hostname?: string;
  logger?: Logger;
}

/** The parts a test brings (CliDeps in production, compose.ts). */
export function testParts(options: Omit<TestRuntimeOptions, 'audit' | 'logger'>): RuntimeParts {
  return {
    now: options.now ?? (() => new Date()),
    randomBytes: options.randomBytes ?? ((n) => new Uint8Array(n).map(() => Math.floor(Math.random() * 256))),
    user: () => options.user ?? 'tech-tester',
    hostname: () => options.hostname ?? 'station-test',
    portRegistry: (logger) => {
      const registry = createPortRegistry({ logger });
      registry.register('mock', options.mockPorts.factory());
      return registry;
    },
  };
}

/**
 * The in-process runtime (no daemon): a LocalEngine opening each port itself, audited; with
 * `hub`, station mode's hub over a fixed list of ports.
 */
export function inProcessRuntime(
  options: TestRuntimeOptions & Pick<RuntimeOptions, 'link' | 'hub'>,
): Promise<Runtime> {
  const config: RuntimeConfig = { env: {}, audit: { file: options.audit } };
  return buildRuntime(config, quiet, {
    parts: testParts(options),
    logger: options.logger ?? silent,
    ...(options.link && { link: options.link }),
    ...(options.hub && { hub: options.hub }),
  });
}

/**
 * The daemon's runtime over `portManager` (the default config, absent file): a LocalEngine
 * leasing its connections, audited under the config's station name.
 */
export function servingRuntime(
  options: TestRuntimeOptions & { portManager: PortManager & { settled?(): Promise<void> } },
): Promise<ServingRuntime> {
  const hostname = options.hostname ?? 'station-test';
  const config: RuntimeConfig = {
    env: {},
    file: { config: defaultDaemonConfig(() => hostname), path: '/nonexistent/daemon.yaml', found: false },
    audit: { file: options.audit },
  };
  return buildRuntime(config, quiet, {
    parts: { ...testParts(options), startPortManager: async () => options.portManager },
    logger: options.logger ?? silent,
    hub: 'serve',
  });
}

/** A witness warning has nowhere to go in these tests: none is configured. */
const quiet = {
  stderr: {
    write: (text: string) => {
      throw new Error(`unexpected warning: ${text}`);
    },
  },
};
