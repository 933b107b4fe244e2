/**
 * The mock terminal: one device, any number of connections (attach a DeviceLink per plug-in).
 *
 * The engine implements TSP/1 as docs/protocol.md specifies (§10): for each line,
 * the fault order 413, 400 (bytes), 460, 404, 400 (arguments) (src/protocol readRequest), then
 * 503 not-ready while rebooting, the behaviours' plan (faults), at-most-once replay, 503 busy while
 * another request executes, then the command itself (command-run.ts: 401, 403, 428 from
 * authorize, then the handler's 422, 423, 409). Terminal-wide state (accounts, lockout, settings, binding, clock) is persistent and saved after
 * every change; connection state (login, replay cache, CRC mode) lives in Connection.
 *
 * No input crashes it: every handler exception answers `ERR code=500 reason=internal` and is logged.
 */

import type { TerminalIdentity } from '../protocol/index.js';
import {
  type Clock,
  type DiagCheck,
  diagCode,
  type EventInput,
  type EventName,
  encodeErrReply,
  encodeEventFields,
  errorReply,
  type Frame,
  maskLine,
  NOT_REPLAYED,
  type Rejection,
  type Request,
  readRequest,
  systemClock,
  type TimerHandle,
  type Timers,
} from '../protocol/index.js';
import type { MockBehaviour } from './behaviour.js';
import { unrefTimers } from './clock.js';
import { type CommandRunner, type Execution, runCommand } from './command-run.js';
import { fail, type TerminalCore } from './commands/context.js';
import { Connection, type ConnectionHost, type Login } from './connection.js';
import { MockConfigError } from './errors.js';
import { createFaultBehaviours, type Violation } from './faults/index.js';
import { resolveIdentity } from './identity.js';
import type { DeviceLink } from './link.js';
import { expireLock } from './lockout.js';
import { type MockLogger, silentLogger } from './logger.js';
import { type MockTerminalOptions, resolveNumbers } from './options.js';
import { planRequest } from './plan.js';
import { createRandom, deriveSeed, type Random } from './prng.js';
import { MemoryRecorder, noRecorder, type Recording } from './recording.js';
import { ReplyWriter } from './reply-writer.js';
import { cloneState, factoryState, type PersistentState } from './state.js';
import { MemoryStateStore, type StateStore } from './state-store.js';

export class MockTerminal {
  readonly identity: TerminalIdentity;
  private state: PersistentState;
  private readonly store: StateStore;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: MockLogger;
  private readonly recorder: MemoryRecorder | undefined;
  private readonly random: Random;
  private readonly baud: number;
  private readonly rebootMs: number;
  private readonly diagTimeScale: number;
  private readonly behaviourList: MockBehaviour[];
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  private requestSeq = 0;
  private down = false;
  private bootTimer: TimerHandle | undefined;
  private executing: Execution | undefined;
  private isClosed = false;
  private readonly host: ConnectionHost;
  private readonly core: TerminalCore;
  private readonly runner: CommandRunner;

  constructor(options: MockTerminalOptions = {}) {
    const numbers = resolveNumbers(options);
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? unrefTimers;
    this.log = options.logger ?? silentLogger;
    this.recorder = options.record ? new MemoryRecorder() : undefined;
    this.baud = numbers.baud;
    this.rebootMs = numbers.rebootMs;
    this.diagTimeScale = numbers.diagTimeScale;
    this.random = createRandom(deriveSeed(numbers.seed, 'passwords'));
    this.store = options.store ?? new MemoryStateStore();
    this.behaviourList = [
      ...(options.behaviours ?? []),
      ...(options.faults === undefined ? [] : createFaultBehaviours(options.faults, numbers.seed)),
    ];

    const given = options.identity ?? {};
    const loaded = this.store.load();
    if (loaded) {
      if (given.sn !== undefined && given.sn !== loaded.identity.sn) {
        throw new MockConfigError(
          `state file ${this.store.description} belongs to terminal ${loaded.identity.sn}, not ${given.sn}`,
          'STATE_FILE',
        );
      }
      loaded.identity = resolveIdentity({ ...loaded.identity, ...definedIdentity(given) });
      this.state = loaded;
    } else {
      this.state = factoryState(resolveIdentity(given), this.random);
    }
    this.identity = this.state.identity;
    if (options.tamper !== undefined) this.state.hardware.tamper = options.tamper;
    if (numbers.diagFaults !== undefined) this.state.hardware.diagFaults = numbers.diagFaults;
    this.commit();

    const terminal = this;
    this.host = {
      clock: this.clock,
      timers: this.timers,
      baud: this.baud,
      log: this.log,
      recorder: this.recorder ?? noRecorder,
      behaviours: this.behaviourList,
      violates: (rule) => this.violates(rule),
      handleFrame: (connection, frame) => this.handleFrame(connection, frame),
      connectionClosed: (connection) => this.connectionClosed(connection),
    };
    this.core = {
      get state() {
        return terminal.state;
      },
      clock: this.clock,
      timers: this.timers,
      random: this.random,
      diagTimeScale: this.diagTimeScale,
      terminalNow: () => this.clock.now() + this.state.clock.offsetMs,
      violates: (rule) => this.violates(rule),
      commit: () => this.commit(),
      broadcast: (name, value) => this.broadcast(name, value),
      endLogins: (match) => this.endLogins(match),
      clearReplayCaches: () => {
        for (const connection of this.connections) connection.replay.clear();
      },
      reboot: () => this.goDown('REBOOT'),
      resetToFactory: () => {
        const { clock, hardware } = this.state;
        this.state = factoryState(this.identity, this.random, { clock, hardware });
        this.commit();
        this.log.info({}, 'reset to factory state');
      },
    };
    this.runner = {
      core: this.core,
      log: this.log,
      recorder: this.recorder ?? noRecorder,
      hold: (execution) => {
        this.executing = execution;
      },
      release: (connection) => {
        if (this.executing?.connection === connection) this.executing = undefined;
      },
      goDown: (reason) => this.goDown(reason),
    };
  }

  /** A host plugged in: serve this link until it closes. Usable directly as a transport's LinkHandler. */
  attach(link: DeviceLink): void {
    if (this.isClosed) {
      link.close();
      return;
    }
    const connection = new Connection(this.nextConnectionId++, link, this.host);
    this.connections.add(connection);
    this.log.info({ connection: link.label }, 'connection opened');
    connection.start();
  }

  /** What it received, executed and sent so far (a copy); needs `record: true`. */
  recording(): Recording {
    if (!this.recorder) throw new MockConfigError('recording() needs the option record: true');
    return this.recorder.snapshot();
  }

  /** Forget what was recorded (a test's next phase starts from nothing). */
  clearRecording(): void {
    this.recorder?.clear();
  }

  /** A copy of the persistent state (tests and tools read it; changing it changes nothing). */
  snapshot(): PersistentState {
    return cloneState(this.state);
  }

  /** The terminal is rebooting (requests get 503 not-ready). */
  get isDown(): boolean {
    return this.down;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** The behaviours, in the order they are consulted (test behaviours, then faults). */
  get behaviours(): readonly MockBehaviour[] {
    return this.behaviourList;
  }

  /** A behaviour consulted first (`first`, the default) or after the others. */
  addBehaviour(behaviour: MockBehaviour, position: 'first' | 'last' = 'first'): void {
    if (position === 'first') this.behaviourList.unshift(behaviour);
    else this.behaviourList.push(behaviour);
  }

  removeBehaviour(behaviour: MockBehaviour): void {
    const at = this.behaviourList.indexOf(behaviour);
    if (at >= 0) this.behaviourList.splice(at, 1);
  }

  /**
   * Power-cycle from outside (not a TSP/1 command): down for the reboot time, then `EVT boot`. A
   * power-up ends every connection's state, the event-CRC flag included (docs/protocol.md D41).
   */
  reboot(): void {
    this.goDown('power cycle');
  }

  /** Trip or clear the PIN-pad tamper latch. */
  setTamper(tampered: boolean): void {
    this.state.hardware.tamper = tampered;
    this.commit();
  }

  /** Make a check report `code` (a DIAG_CHECKS code of that check), or pass again with undefined. */
  setDiagFault(check: DiagCheck, code: string | undefined): void {
    if (code !== undefined && !diagCode(check, code))
      throw new MockConfigError(`unknown code ${code} for check ${check}`);
    if (code === undefined) delete this.state.hardware.diagFaults[check];
    else this.state.hardware.diagFaults[check] = code;
    this.commit();
  }

  /** Stop: every connection is closed, timers are cancelled, the state is saved. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.executing?.cancel();
    this.executing = undefined;
    if (this.bootTimer !== undefined) this.timers.clearTimeout(this.bootTimer);
    this.bootTimer = undefined;
    for (const connection of [...this.connections]) connection.close();
    try {
      this.commit();
    } catch (error) {
      this.log.error({ err: error }, 'could not save the state at shutdown');
    }
  }

  /** A behaviour breaks `rule` on purpose (`violate:rule=NAME`, faults/violate.ts). */
  private violates(rule: Violation): boolean {
    return this.behaviourList.some((behaviour) => behaviour.violates === rule);
  }

  private commit(): void {
    this.store.save(this.state);
  }

  private handleFrame(connection: Connection, frame: Frame): void {
    let request: Request | undefined;
    try {
      const now = this.clock.now();
      if (expireLock(this.state, now)) {
        this.commit();
        this.log.info({}, 'lockout ended');
      }
      if (connection.touch(now)) this.log.info({ connection: connection.label }, 'login ended: idle');
      const read = readRequest(frame);
      if (!read.ok) {
        this.reject(connection, read.rejection, frame);
        return;
      }
      request = read.request;
      this.handleRequest(connection, request);
    } catch (error) {
      this.log.error({ connection: connection.label, err: error }, 'internal error');
      const context = { id: request?.id, crc: request?.crc ?? false };
      connection.sendReply(encodeErrReply(context, errorReply('internal')));
    }
  }

  private reject(connection: Connection, rejection: Rejection, frame: Frame): void {
    // D5: a 413 leaves the CRC mode of events as it was.
    if (rejection.code !== 413) connection.crc = rejection.crc;
    const line = frame.kind === 'too-long' ? `(${frame.length} bytes)` : maskLine(frame.text);
    this.log.info({ connection: connection.label, request: line, reply: rejection.code }, 'rejected');
    this.recorder?.request(connection.label, line, 'rejected', rejection.code);
    // readRequest already bounds `msg` as written (D47).
    const { code, reason, key, msg } = rejection;
    const authFirst = code === 404 && !connection.login && this.violates('auth-before-unknown');
    const reply = encodeErrReply(
      { id: rejection.id, crc: rejection.crc },
      authFirst ? errorReply('auth-required') : { code, reason, key, msg },
    );
    // A 404 answers a readable request: stored like any reply but 400, 413, 460 and 503 (its
    // retransmission would get the same answer anyway; the entry replaces that ID's old one).
    const kept = !NOT_REPLAYED.has(rejection.code) || this.violates('replay-rejections');
    if (rejection.id !== undefined && frame.kind !== 'too-long' && kept) {
      connection.replay.store(rejection.id, frame.text, [reply]);
    }
    connection.sendReply(reply);
  }

  private handleRequest(connection: Connection, request: Request): void {
    connection.crc = request.crc;
    const masked = maskLine(request.raw);
    const context = { id: request.id, crc: request.crc };
    if (this.down) {
      this.log.info({ connection: connection.label, request: masked }, 'not ready (rebooting)');
      this.recorder?.request(connection.label, request.raw, 'not-ready', 503);
      connection.sendReply(encodeErrReply(context, errorReply('not-ready')));
      return;
    }
    const plan = planRequest(
      this.behaviourList,
      { connection, request, seq: ++this.requestSeq, now: this.clock.now() },
      this.log,
    );
    if (plan.reboot === 'before') {
      this.log.info({ connection: connection.label, request: masked }, 'fault: reboot before executing');
      this.recorder?.request(connection.label, request.raw, 'reboot-before');
      this.goDown('fault');
      return;
    }
    const writer = new ReplyWriter(connection, context, plan);
    if (plan.busy) {
      this.log.info({ connection: connection.label, request: masked }, 'fault: busy');
      this.recorder?.request(connection.label, request.raw, 'busy', 503);
      writer.final(fail('busy'));
      return;
    }
    const stored =
      request.id !== undefined && !this.violates('no-replay')
        ? connection.replay.lookup(request.id, request.raw)
        : undefined;
    if (stored) {
      this.log.info({ connection: connection.label, request: masked }, 'replayed');
      this.recorder?.request(connection.label, request.raw, 'replayed');
      writer.replay(stored);
      if (plan.reboot === 'after') this.goDown('fault');
      return;
    }
    if (this.executing) {
      this.recorder?.request(connection.label, request.raw, 'busy', 503);
      writer.final(fail('busy'));
      return;
    }
    this.recorder?.request(connection.label, request.raw, 'executed');
    runCommand(this.runner, { connection, request, writer, plan, masked });
  }

  private broadcast<N extends EventName>(name: N, value: EventInput<N>): void {
    this.log.info({ event: name }, 'event');
    const fields = encodeEventFields(name, value);
    for (const connection of this.connections) connection.sendEvent(name, fields);
  }

  private endLogins(match: (login: Login) => boolean): void {
    for (const connection of this.connections) {
      if (connection.login && match(connection.login)) connection.login = undefined;
    }
  }

  private goDown(reason: string): void {
    if (this.down || this.isClosed) return;
    this.down = true;
    this.executing?.cancel();
    this.executing = undefined;
    for (const connection of this.connections) connection.restarted(reason === 'power cycle');
    this.log.info({ reason, downMs: this.rebootMs }, 'rebooting');
    this.bootTimer = this.timers.setTimeout(() => {
      this.bootTimer = undefined;
      this.down = false;
      this.broadcast('boot', { sn: this.identity.sn });
    }, this.rebootMs);
  }

  private connectionClosed(connection: Connection): void {
    this.connections.delete(connection);
    if (this.executing?.connection === connection) {
      this.executing.cancel();
      this.executing = undefined;
    }
    this.log.info({ connection: connection.label }, 'connection closed');
  }
}

function definedIdentity(given: Partial<TerminalIdentity>): Partial<TerminalIdentity> {
  const out: Partial<TerminalIdentity> = {};
  if (given.model !== undefined) out.model = given.model;
  if (given.fw !== undefined) out.fw = given.fw;
  return out;
}
