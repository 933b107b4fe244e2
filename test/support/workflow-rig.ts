/**
 * The whole CLI in-process against mock terminals the test holds: `runCli` with a captured
 * stdout/stderr/stdin, the production composition (productionDeps, the runtime buildRuntime
 * builds: the mock's in-process serialport binding, the daemon's serial code path), and a
 * MockPorts whose terminals the test inspects (snapshot()) and whose cable it can pull
 * (binding.unplug).
 *
 * The engine is the composition root's (the audit trail around the local engine, the audit
 * database in the scratch directory), over this rig's MockPorts rather than productionDeps' own.
 *
 * What the terminal did is observed from its side: a behaviour counts bytes and requests per
 * connection, the mock's logger tells an executed command from a replayed one (at-most-once).
 * Nothing here sleeps: mock terminals are unpaced (baud 0), DIAG is instant (diagTimeScale 0) and
 * a reboot takes 5 ms unless a test says otherwise.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { productionDeps } from '../../src/cli/compose.js';
import { MockPorts } from '../../src/cli/mock-ports.js';
import { runCli } from '../../src/cli/program.js';
import { type PortFactory, serialPortFactory } from '../../src/host/ports/index.js';
import {
  createMemoryLink,
  HostSession,
  type MockBehaviour,
  type MockLogger,
  type MockTerminal,
  type MockTerminalOptions,
  type PersistentState,
  type RecordedExecution,
  type RecordedRequest,
} from '../../src/mock-device/index.js';
import { createInProcessBinding, type InProcessBinding } from '../../src/mock-device/transports/index.js';
import { type MemoryIo, memoryIo } from './memory-io.js';

/** Options every terminal of a rig starts from: fast, and observable through `log`. */
export const FAST: MockTerminalOptions = { baud: 0, diagTimeScale: 0, rebootMs: 5 };

import { ADMIN_PW, MERCHANT, OTHER_PW, provisionArgv, SETTLE_ACCOUNT, TERMINAL } from './constants.js';

export { ADMIN_PW, MERCHANT, OTHER_PW, SETTLE_ACCOUNT, TERMINAL };

/** One entry the mock logged. */
export interface MockLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A MockLogger that keeps everything (the mock masks lines before logging them). */
export class RecordingMockLogger implements MockLogger {
  readonly entries: MockLogEntry[] = [];
  debug(fields: object, message: string): void {
    this.entries.push({ level: 'debug', fields: fields as Record<string, unknown>, message });
  }
  info(fields: object, message: string): void {
    this.entries.push({ level: 'info', fields: fields as Record<string, unknown>, message });
  }
  warn(fields: object, message: string): void {
    this.entries.push({ level: 'warn', fields: fields as Record<string, unknown>, message });
  }
  error(fields: object, message: string): void {
    this.entries.push({ level: 'error', fields: fields as Record<string, unknown>, message });
  }
}

/**
 * What the rig's mock terminals received and executed, from their recording() (facts, not log
 * text), every terminal of the rig in the order they were first used.
 */
export class MockFacts {
  constructor(private readonly terminals: () => Iterable<MockTerminal>) {}

  /** Requests executed (not replayed from a cache), masked, with the reply they got. */
  executed(): RecordedExecution[] {
    return [...this.terminals()].flatMap((t) => t.recording().executed);
  }

  /** Every line read, with what became of it (executed, replayed, busy, rejected...). */
  requests(): RecordedRequest[] {
    return [...this.terminals()].flatMap((t) => t.recording().requests);
  }

  /** How many times a terminal executed `verb` (optionally only those whose masked line matches). */
  executions(verb: string, match?: RegExp): number {
    return this.executed().filter((e) => e.verb === verb && (!match || match.test(e.line))).length;
  }

  clear(): void {
    for (const terminal of this.terminals()) terminal.clearRecording();
  }
}

/** Counts what crosses the cable, per connection and in all, and the verbs the terminal read. */
export class CableMeter implements MockBehaviour {
  readonly name = 'test:cable-meter';
  bytesIn = 0;
  bytesOut = 0;
  readonly connections = new Set<number>();
  /** Every request read while the terminal was up (retransmissions included), in order. */
  readonly requests: Array<{ connection: number; verb: string; raw: string; bytesSoFar: number }> = [];

  get total(): number {
    return this.bytesIn + this.bytesOut;
  }

  onBytes(connection: { id: number }, direction: 'in' | 'out', count: number): undefined {
    this.connections.add(connection.id);
    if (direction === 'in') this.bytesIn += count;
    else this.bytesOut += count;
    return undefined;
  }

  onRequest(info: { connection: { id: number }; request: { verb: string; raw: string } }): undefined {
    this.connections.add(info.connection.id);
    this.requests.push({
      connection: info.connection.id,
      verb: info.request.verb,
      raw: info.request.raw,
      bytesSoFar: this.total,
    });
    return undefined;
  }

  /** The verbs read, in order. */
  verbs(): string[] {
    return this.requests.map((r) => r.verb);
  }

  count(verb: string): number {
    return this.requests.filter((r) => r.verb === verb).length;
  }

  reset(): void {
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.connections.clear();
    this.requests.length = 0;
  }
}

/** MockPorts whose in-process binding the test can reach (to pull a cable). */
export class TestMockPorts extends MockPorts {
  readonly binding: InProcessBinding;
  private readonly ownFactory: PortFactory;
  /** Every terminal handed out, in order (each records what it does: record: true). */
  readonly made = new Set<MockTerminal>();

  constructor(defaults: MockTerminalOptions) {
    super({ defaults: { ...defaults, record: true } });
    this.binding = createInProcessBinding((path) => {
      const terminal = this.terminal(path);
      return (link) => terminal.attach(link);
    });
    this.ownFactory = serialPortFactory({ binding: this.binding as never, deviceChecks: false });
  }

  override factory(): PortFactory {
    return this.ownFactory;
  }

  override terminal(portName: string): MockTerminal {
    const terminal = super.terminal(portName);
    this.made.add(terminal);
    return terminal;
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliCall {
  /** Standard input (e.g. the admin password and a newline). */
  stdin?: string;
  /** Environment beyond USER and NO_COLOR (POSBRIDGE_ADMIN_PASSWORD...). */
  env?: Record<string, string>;
}

export function captureIo(call: CliCall = {}): MemoryIo {
  return memoryIo({ USER: 'tech-tester', NO_COLOR: '1', ...call.env }, call.stdin);
}

/**
 * One test's world: mock terminals by name, a scratch directory, and `cli(...)` to run posbridge
 * against them. `log` hears every terminal of the rig; `facts` is what they received and executed.
 */
export class WorkflowRig {
  readonly log = new RecordingMockLogger();
  readonly ports: TestMockPorts;
  readonly facts = new MockFacts(() => this.ports.made);
  readonly meters = new Map<string, CableMeter>();
  dir = '';

  constructor(defaults: MockTerminalOptions = {}) {
    this.ports = new TestMockPorts({ ...FAST, logger: this.log, ...defaults });
  }

  async init(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), 'posbridge-workflow-'));
    return this;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Everything posbridge keeps (audit trail, history) goes to the scratch directory, and no
   * daemon is looked for but one there (none): the commands run in-process.
   */
  sandboxEnv(): Record<string, string> {
    return {
      HOME: this.dir,
      POSBRIDGE_AUDIT: this.path('audit.sqlite3'),
      POSBRIDGE_SOCKET: this.path('no-daemon.sock'),
      XDG_DATA_HOME: this.path('data'),
      XDG_STATE_HOME: this.path('state'),
      XDG_CONFIG_HOME: this.path('config'),
    };
  }

  /** The terminal behind `port` (created on first use with the port's ?options), with a meter. */
  terminal(port: string): MockTerminal {
    const terminal = this.ports.terminal(port);
    const name = nameOf(port);
    if (!this.meters.has(name)) {
      const meter = new CableMeter();
      this.meters.set(name, meter);
      terminal.addBehaviour(meter, 'last');
    }
    return terminal;
  }

  meter(port: string): CableMeter {
    this.terminal(port);
    return this.meters.get(nameOf(port))!;
  }

  /** Runs `posbridge ...argv` in-process; stdout, stderr and the exit code as a person sees them. */
  async cli(argv: string[], call: CliCall = {}): Promise<CliRun> {
    const io = captureIo({ ...call, env: { ...this.sandboxEnv(), ...call.env } });
    // The composition root's runtime (audited, in-process), over this rig's ports.
    const deps = { ...productionDeps(io, this.ports), hostname: () => 'station-test' };
    const started = performance.now();
    const code = await runCli(argv, deps);
    return { code, stdout: io.out.join(''), stderr: io.err.join(''), ms: performance.now() - started };
  }

  /**
   * `posbridge provision` with the usual numbers, the admin password (ADMIN_PW unless `password`
   * says otherwise; null: no --admin-password-stdin) on stdin, operator passwords generated into
   * the scratch directory; `extra` flags are appended.
   */
  provision(
    port: string,
    extra: string[] = [],
    call: CliCall & { password?: string | null } = {},
  ): Promise<CliRun> {
    const { password = ADMIN_PW, ...rest } = call;
    return this.cli(
      [
        ...provisionArgv(port, this.path('operator-passwords.txt'), { passwordOnStdin: password !== null }),
        ...extra,
      ],
      { ...(password !== null && { stdin: `${password}\n` }), ...rest },
    );
  }

  /** A person at the terminal's other port (in memory, no CRC): lines in, lines out. */
  byHand(port: string): HostSession {
    const { link, host } = createMemoryLink('by hand');
    this.terminal(port).attach(link);
    return new HostSession(host);
  }

  /** Every file under the rig's directory (subdirectories too), with its mode. */
  async files(): Promise<Array<{ path: string; mode: number }>> {
    const entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
    return Promise.all(
      entries
        .filter((entry) => entry.isFile())
        .map(async (entry) => {
          const path = join(entry.parentPath, entry.name);
          return { path, mode: (await stat(path)).mode & 0o777 };
        }),
    );
  }

  async close(): Promise<void> {
    await this.ports.close();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

function nameOf(port: string): string {
  return /^mock:\/\/([^?]+)/.exec(port)?.[1] ?? port;
}

/** The persistent state without what a run always touches: the clock offset. */
export function withoutClock(state: PersistentState): Omit<PersistentState, 'clock'> & { clock?: unknown } {
  const { clock: _clock, ...rest } = state;
  return { ...rest, clock: { set: state.clock.set } };
}

/**
 * `newRig()` for one test file: each rig it makes is closed after the test that made it. Call it
 * once, at the top level of the file (it registers an afterEach).
 */
export function workflowRigs(defaults: MockTerminalOptions = {}): () => Promise<WorkflowRig> {
  const rigs: WorkflowRig[] = [];
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.close();
  });
  return async () => {
    const rig = await new WorkflowRig(defaults).init();
    rigs.push(rig);
    return rig;
  };
}
