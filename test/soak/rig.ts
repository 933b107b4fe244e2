/**
 * One soak seed's world: a fresh mock terminal behind `mock://` (the daemon's serial code path,
 * the mock's in-process serialport binding), its faults wrapped so each firing is counted, what
 * the terminal executed observed from its side, and `posbridge provision` run in-process through
 * runCli with the runtime the composition root builds (buildRuntime: a LocalEngine, audited in a
 * temporary file).
 *
 * One part differs from production: the reply timeout of DIAG (RuntimeParts `slowTimeoutMs`,
 * 5 x --timeout by default) is 1 s, so a dropped DIAG reply costs a second and not more.
 * Everything else is the production path: argv parsing, secrets from stdin and env, the
 * composition, the workflow, rendering, exit codes.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AuditStore } from '../../src/audit/index.js';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliIo } from '../../src/cli/io.js';
import { MockPorts } from '../../src/cli/mock-ports.js';
import { runCli } from '../../src/cli/program.js';
import {
  createFaultBehaviours,
  type FaultKind,
  MemoryStateStore,
  type MockBehaviour,
  type MockLogger,
  type MockTerminal,
  type PersistentState,
} from '../../src/mock-device/index.js';
import {
  ADMIN_PW,
  MERCHANT,
  OPERATOR_03_ENV,
  OPERATOR_03_PW,
  PROFILES,
  type SoakMix,
  TERMINAL,
} from './mix.js';

/** Soak timings: an unpaced mock answers in well under a millisecond. */
export const SOAK_TIMEOUT_MS = 100;
export const SOAK_SLOW_TIMEOUT_MS = 1000;
export const SOAK_REBOOT_MS = 20;

/**
 * Where each seed's files go: SOAK_TMPDIR, else /dev/shm when there is one. The audit trail
 * commits every step with an fsync (synchronous=FULL); on a disk that is ~10 ms each, which the
 * soak would spend waiting on the disk rather than on the line. Durability is not what it tests.
 */
export function soakTmpdir(): string {
  if (process.env.SOAK_TMPDIR) return process.env.SOAK_TMPDIR;
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/** One entry the mock logged at info level or above (lines are masked by the mock). */
export interface MockLogEntry {
  message: string;
  fields: Record<string, unknown>;
}

/** A request the terminal executed (not replayed), from its log. */
export interface Execution {
  /** The masked request line: `@12 PASSWD user=01 new=*** *1A2B`. */
  line: string;
  verb: string;
  /** `OK` or `ERR 401 auth-required`. */
  reply: string;
  /** The reply never reached the wire (a drop, or a reboot after executing). */
  replyDropped: boolean;
}

/** Keeps what the terminal logs at info and above (debug, every line sent, is not kept). */
export class SoakMockLogger implements MockLogger {
  readonly entries: MockLogEntry[] = [];
  debug(): void {}
  info(fields: object, message: string): void {
    this.entries.push({ message, fields: fields as Record<string, unknown> });
  }
  warn(fields: object, message: string): void {
    this.entries.push({ message, fields: fields as Record<string, unknown> });
  }
  error(fields: object, message: string): void {
    this.entries.push({ message: `error: ${message}`, fields: fields as Record<string, unknown> });
  }

  /** Executed requests among entries[from, to). */
  executed(from = 0, to = this.entries.length): Execution[] {
    const out: Execution[] = [];
    for (const entry of this.entries.slice(from, to)) {
      if (entry.message !== 'command' && entry.message !== 'command (reply dropped)') continue;
      const line = String(entry.fields.request);
      out.push({
        line,
        verb: line
          .replace(/^@\d+\s+/, '')
          .split(' ')[0]!
          .toUpperCase(),
        reply: String(entry.fields.reply),
        replyDropped: entry.message !== 'command',
      });
    }
    return out;
  }

  count(message: string, from = 0, to = this.entries.length): number {
    let n = 0;
    for (let i = from; i < to; i++) if (this.entries[i]!.message === message) n++;
    return n;
  }
}

/** Remembers the worst lockout count the terminal ever stored. */
export class WatchedStore extends MemoryStateStore {
  maxFailures = 0;
  everLocked = false;
  override save(state: PersistentState): void {
    this.maxFailures = Math.max(this.maxFailures, state.lockout.failures);
    if (state.lockout.lockedUntil !== null) this.everLocked = true;
    super.save(state);
  }
}

/**
 * Wraps the mock's own fault behaviours (createFaultBehaviours, the same ones `--fault` builds) to
 * count each firing, and to switch them all off at once (the technician changes the cable).
 */
export class FaultMeter {
  enabled = true;
  readonly fired = new Map<FaultKind, number>();
  /** Firings so far, all kinds. */
  total = 0;

  wrap(kind: FaultKind, inner: MockBehaviour): MockBehaviour {
    const hit = (): void => {
      this.fired.set(kind, (this.fired.get(kind) ?? 0) + 1);
      this.total++;
    };
    const wrapped: MockBehaviour = { name: inner.name };
    if (inner.onRequest) {
      wrapped.onRequest = (info) => {
        if (!this.enabled) return undefined;
        const plan = inner.onRequest!(info);
        if (plan && (plan.busy || plan.reboot || plan.dropReply || plan.delayMs)) hit();
        return plan;
      };
    }
    if (inner.onLine) {
      wrapped.onLine = (connection, line) => {
        if (!this.enabled) return undefined;
        const lines = inner.onLine!(connection, line);
        if (lines !== undefined) hit();
        return lines;
      };
    }
    if (inner.onBytes) {
      wrapped.onBytes = (connection, direction, count) => {
        if (!this.enabled) return undefined;
        const allowed = inner.onBytes!(connection, direction, count);
        if (allowed !== undefined && allowed < count) hit();
        return allowed;
      };
    }
    if (inner.onClose) wrapped.onClose = (connection) => inner.onClose!(connection);
    return wrapped;
  }
}

/** Requests as the terminal read them: a retransmission is the same ID and line on one connection. */
export class RequestMeter implements MockBehaviour {
  readonly name = 'soak:request-meter';
  requests = 0;
  retransmissions = 0;
  private readonly seen = new Set<string>();

  onRequest(info: { connection: { id: number }; request: { id?: string; raw: string } }): undefined {
    this.requests++;
    if (info.request.id !== undefined) {
      const key = `${info.connection.id}\u0000${info.request.raw}`;
      if (this.seen.has(key)) this.retransmissions++;
      else this.seen.add(key);
    }
    return undefined;
  }
}

export interface ProvisionRun {
  /** 1-based attempt number within the seed. */
  attempt: number;
  argv: string[];
  code: number;
  /** The JSON document the CLI printed (`--json`): a report, or `{ error }`. */
  json: Record<string, unknown> & {
    kind?: string;
    outcome?: string;
    steps?: Array<{ step: string; outcome: string; detail: string }>;
    diagnostics?: { pass: number; warn: number; fail: number; results: unknown[] };
    error?: { code: string; message: string };
  };
  stderr: string;
  /** The mock's log entries of this run: entries[logFrom, logTo). */
  logFrom: number;
  logTo: number;
  /** Faults that fired during this run, all kinds. */
  faultsFired: number;
  /** The session's `resending request` warnings, by reason. */
  resends: Map<string, number>;
  /** Whether the faults were switched on. */
  faultsOn: boolean;
  ms: number;
}

/** Standard streams in memory; stdin is a pipe holding `stdin`. */
function memoryIo(stdin: string, env: NodeJS.ProcessEnv): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const input = Readable.from([Buffer.from(stdin)]) as Readable & { isTTY?: boolean };
  input.isTTY = false;
  return {
    out,
    err,
    stdout: { write: (text: string) => void out.push(text), isTTY: false },
    stderr: { write: (text: string) => void err.push(text), isTTY: false },
    stdin: input,
    env,
  };
}

export class SoakRig {
  readonly log = new SoakMockLogger();
  readonly store = new WatchedStore();
  readonly faults = new FaultMeter();
  readonly meter = new RequestMeter();
  readonly port: string;
  readonly sn: string;
  readonly terminal: MockTerminal;
  readonly runs: ProvisionRun[] = [];
  dir = '';
  private auditStore: AuditStore | undefined;
  private readonly mockPorts: MockPorts;

  constructor(readonly mix: SoakMix) {
    this.sn = `SOAK${mix.seed}`;
    this.port = `mock://soak-${mix.seed}`;
    const behaviours = createFaultBehaviours(mix.faults, mix.seed).map((b, i) =>
      this.faults.wrap(mix.faults[i]!.kind, b),
    );
    this.mockPorts = new MockPorts({
      defaults: {
        identity: { sn: this.sn },
        seed: mix.seed,
        baud: 0,
        diagTimeScale: 0,
        rebootMs: SOAK_REBOOT_MS,
        logger: this.log,
        store: this.store,
        behaviours: [this.meter, ...behaviours],
      },
    });
    this.terminal = this.mockPorts.terminal(this.port);
  }

  async init(): Promise<this> {
    this.dir = await mkdtemp(join(soakTmpdir(), `posbridge-soak-${this.mix.seed}-`));
    const profile = PROFILES[this.mix.profile]!;
    if (Object.keys(profile).length > 0)
      await writeFile(this.path('profile.json'), JSON.stringify(profile), { mode: 0o600 });
    return this;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** The audit trail the runs wrote (read by the checks; opened on first use). */
  get audit(): AuditStore {
    this.auditStore ??= AuditStore.open(this.path('audit.db'), { readonly: true });
    return this.auditStore;
  }

  get hasProfileFile(): boolean {
    return Object.keys(PROFILES[this.mix.profile]!).length > 0;
  }

  /** The argv of one provisioning attempt (the admin password comes on stdin). */
  provisionArgv(): string[] {
    return [
      'provision',
      '--port',
      this.port,
      '--merchant',
      MERCHANT,
      '--terminal',
      TERMINAL,
      ...(this.mix.name !== undefined ? ['--name', this.mix.name] : []),
      ...(this.hasProfileFile ? ['--profile', this.path('profile.json')] : []),
      '--admin-password-stdin',
      '--credentials-out',
      this.path('operator-passwords.txt'),
      '--technician',
      'soak-tech',
      '--station',
      'soak-station',
      '--timeout',
      String(SOAK_TIMEOUT_MS),
      ...(process.env.SOAK_TRACE ? ['--trace', this.path(`trace-${this.runs.length + 1}.txt`)] : []),
      '--json',
    ];
  }

  /** Runs `posbridge ...argv` in-process against this rig's terminal and audit trail. */
  async cli(argv: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
    const io = memoryIo(stdin, {
      USER: 'soak-tech',
      NO_COLOR: '1',
      [OPERATOR_03_ENV]: OPERATOR_03_PW,
      POSBRIDGE_AUDIT: this.path('audit.db'),
      // No daemon but one here (none): every run in-process.
      POSBRIDGE_SOCKET: this.path('no-daemon.sock'),
    });
    const deps = {
      ...productionDeps(io, this.mockPorts),
      hostname: () => 'soak-station',
      slowTimeoutMs: SOAK_SLOW_TIMEOUT_MS,
    };
    const code = await runCli(argv, deps);
    return { code, stdout: io.out.join(''), stderr: io.err.join('') };
  }

  /** One `posbridge provision --json` attempt, recorded with what the terminal did meanwhile. */
  async provision(): Promise<ProvisionRun> {
    const argv = this.provisionArgv();
    const logFrom = this.log.entries.length;
    const firedBefore = this.faults.total;
    const started = performance.now();
    const { code, stdout, stderr } = await this.cli(argv, `${ADMIN_PW}\n`);
    const ms = performance.now() - started;
    let json: ProvisionRun['json'];
    try {
      json = JSON.parse(stdout) as ProvisionRun['json'];
    } catch {
      throw new Error(
        `posbridge provision --json printed no JSON document (exit ${code}):\n${stdout}\n${stderr}`,
      );
    }
    const run: ProvisionRun = {
      attempt: this.runs.length + 1,
      argv,
      code,
      json,
      stderr,
      logFrom,
      logTo: this.log.entries.length,
      faultsFired: this.faults.total - firedBefore,
      resends: resendsOf(stderr),
      faultsOn: this.faults.enabled,
      ms,
    };
    this.runs.push(run);
    return run;
  }

  /** `posbridge info --json`: what the terminal says about itself. */
  async info(): Promise<Record<string, unknown>> {
    const { code, stdout, stderr } = await this.cli([
      'info',
      '--port',
      this.port,
      '--timeout',
      String(SOAK_TIMEOUT_MS),
      '--json',
    ]);
    if (code !== 0) throw new Error(`posbridge info failed (exit ${code}): ${stdout}${stderr}`);
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  async credentials(): Promise<string> {
    return readFile(this.path('operator-passwords.txt'), 'utf8').catch(() => '');
  }

  async close(keepFiles: boolean): Promise<void> {
    this.auditStore?.close();
    await this.mockPorts.close();
    if (this.dir && !keepFiles && !process.env.SOAK_TRACE)
      await rm(this.dir, { recursive: true, force: true });
  }
}

/** The session's `resending request` warnings on stderr (pino JSON), counted by reason. */
function resendsOf(stderr: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of stderr.split('\n')) {
    if (!line.includes('resending request')) continue;
    try {
      const entry = JSON.parse(line) as { reason?: string };
      const reason = entry.reason ?? 'unknown';
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    } catch {
      counts.set('unparsed', (counts.get('unparsed') ?? 0) + 1);
    }
  }
  return counts;
}
