/**
 * The conformance suite run in-process against a mock terminal over an in-memory cable (the
 * suite's raw wire on one end, MockTerminal.attach on the other): quick, no ports, real timers
 * with short timeouts. For the CLI and the real transports, see test/integration and test/e2e.
 */
import {
  type Check,
  GROUPS,
  type Group,
  runSuite,
  type SuiteOptions,
  type SuiteReport,
  selectChecks,
} from '../../src/conformance/index.js';
import { createMemoryLink, type MemoryPeer } from '../../src/host/ports/memory.js';
import type { Secret } from '../../src/host/secret.js';
import {
  createMemoryLink as createDeviceLink,
  HostSession,
  type MockTerminal,
} from '../../src/mock-device/index.js';
import { systemTimers } from '../../src/protocol/index.js';

export interface RigRun {
  report: Promise<SuiteReport>;
  peer: MemoryPeer;
}

export interface RigOptions extends Partial<Omit<SuiteOptions, 'checks' | 'groups' | 'adminPassword'>> {
  only?: Group[];
  checks?: readonly Check[];
  adminPassword?: Secret;
}

/** Starts the suite against `terminal`; `peer` lets a test pull the cable. */
export function startSuite(terminal: MockTerminal, options: RigOptions = {}): RigRun {
  const { transport, peer } = createMemoryLink('memory://conformance');
  terminal.attach(peer as never);
  const { only, checks, adminPassword, ...rest } = options;
  const groups = only ?? [...GROUPS];
  const report = runSuite({
    transport,
    checks: checks ?? selectChecks(groups),
    groups,
    adminPassword: async () => adminPassword,
    timers: systemTimers,
    now: () => Date.now(),
    timeoutMs: 1000,
    diagTimeoutMs: 2000,
    rebootTimeoutMs: 3000,
    firstId: 1 + Math.floor(Math.random() * 99_999_998),
    version: 'test',
    ...rest,
  }).finally(() => transport.close());
  return { report, peer };
}

export function runSuiteOn(terminal: MockTerminal, options: RigOptions = {}): Promise<SuiteReport> {
  return startSuite(terminal, options).report;
}

/** Requests the terminal reads from now on, as `VERB` (what the suite sent, in order). */
export function spyRequests(terminal: MockTerminal): string[] {
  const verbs: string[] = [];
  terminal.addBehaviour({ name: 'spy', onRequest: ({ request }) => void verbs.push(request.verb) });
  return verbs;
}

/** Lines typed into `terminal` on a cable of their own (a technician at the bench). */
export function bench(terminal: MockTerminal, ...lines: string[]): string[] {
  const { link, host } = createDeviceLink('bench');
  terminal.attach(link);
  const session = new HostSession(host);
  const replies = lines.flatMap((line) => session.send(line));
  session.close();
  return replies;
}
