/**
 * The terminal as typed methods: one per TSP/1 command, replies read into typed values by the
 * command table's codecs (replies.ts), ERR replies as TerminalError (with `remaining`,
 * `retryAfter`, `key`). The driver checks what it can before anything reaches the wire
 * (request-checks.ts: password policy, merchant/terminal numbers, operator IDs, permissions,
 * setting values), so a value the terminal would refuse costs no round trip and never a login
 * attempt.
 *
 * It never retries anything itself, least of all a LOGIN or PASSWD the terminal refused: the only
 * resending is the session's same-ID retransmission, which the terminal's replay cache makes safe.
 */
import type { Logger } from 'pino';
import {
  type Clock,
  COMMANDS,
  type CommandSpec,
  type DataValue,
  formatUtc,
  type OkValue,
  PROTOCOL_VERSION,
  systemTimers,
  type Timers,
  type Verb,
} from '../protocol/index.js';
import { watchForBoot } from './boot-watch.js';
import { isPosbridgeError, isTerminalError, PosbridgeError } from './errors.js';
import { type LinkOptions, SharedLink } from './link-options.js';
import { explainByOtherReaders } from './other-readers.js';
import type { PortHolder } from './ports/holders.js';
import { type PortRegistry, parsePortName } from './ports/registry.js';
import { dataValue, dataValues, okValue } from './replies.js';
import {
  checkDiagChecks,
  checkInit,
  checkNewPassword,
  checkOperatorId,
  checkOperatorName,
  checkPerms,
  checkSetting,
  checkUser,
  checkUtc,
  invalid,
} from './request-checks.js';
import type { Secret } from './secret.js';
import { type Reply, type RequestArgs, Session, type SessionOptions, type TerminalEvent } from './session.js';
import type { RandomSource } from './timers.js';
import { createFileTrace, type WireTrace } from './trace.js';

export type { DiagStatus, TerminalState } from '../protocol/index.js';

// The replies' typed values are the command table's shapes (src/protocol/commands.ts).
export type Hello = OkValue<'HELLO'>;
export type TerminalStatus = OkValue<'STATUS'>;
export type Operator = DataValue<'USER-LIST'>;
export type DiagResult = DataValue<'DIAG'>;

export interface DiagSummary {
  results: DiagResult[];
  pass: number;
  warn: number;
  fail: number;
}

export type DriverEvent = TerminalEvent;

export interface DriverOptions {
  timers?: Timers | undefined;
  /**
   * The line rate the port was opened at, for a serial device; undefined where no rate applies
   * (tcp://, mock://). An operation that expects another rate is refused (useLink).
   */
  lineRate?: number | undefined;
  /** How long reboot() waits for `EVT boot` after the terminal's OK, in ms. Default 60000. */
  rebootTimeoutMs?: number | undefined;
  /** A trace the driver owns: closed by close(). */
  ownedTrace?: WireTrace | undefined;
  /** Other processes with the port open, named when replies look stolen (other-readers.ts). */
  otherHolders?: (() => Promise<PortHolder[]>) | undefined;
}

export interface OpenDriverOptions {
  /** Dispatches the port name (device path, tcp://, mock://...). */
  registry: PortRegistry;
  logger: Logger;
  /** Default 115200 (TSP/1). */
  baudRate?: number | undefined;
  /** Reply timeout of normal commands, ms (the CLI's --timeout). Default 2000. */
  timeoutMs?: number | undefined;
  /** Reply timeout of slow commands (DIAG), ms, restarted by each DATA line. Default 15000. */
  slowTimeoutMs?: number | undefined;
  /** A file path (the driver opens and closes it) or a sink the caller owns. */
  trace?: string | WireTrace | undefined;
  clock?: Clock | undefined;
  timers?: Timers | undefined;
  random?: RandomSource | undefined;
  rebootTimeoutMs?: number | undefined;
  /** Passed to the session as is (retransmissions, busy backoff). */
  session?: Partial<Omit<SessionOptions, 'logger' | 'trace' | 'clock' | 'timers' | 'random'>> | undefined;
}

export const DRIVER_DEFAULTS = { baudRate: 115_200, rebootTimeoutMs: 60_000 } as const;

export class TerminalDriver {
  readonly session: Session;
  private readonly timers: Timers;
  private readonly rebootTimeoutMs: number;
  private readonly ownedTrace: WireTrace | undefined;
  private readonly otherHolders: DriverOptions['otherHolders'];
  /** What the operation holding the link now asked of it (useLink). */
  private readonly link: SharedLink;
  /** EVT boot lines seen on this session. */
  private boots = 0;
  /** The login this driver holds, and how many restarts had been seen when it was granted. */
  private loggedIn: { user: string; boots: number } | undefined;

  constructor(session: Session, options: DriverOptions = {}) {
    this.session = session;
    this.timers = options.timers ?? systemTimers;
    this.rebootTimeoutMs = options.rebootTimeoutMs ?? DRIVER_DEFAULTS.rebootTimeoutMs;
    this.ownedTrace = options.ownedTrace;
    this.otherHolders = options.otherHolders;
    this.link = new SharedLink(
      () => this.name,
      options.lineRate,
      (sink) => this.session.addTrace(sink),
    );
    this.session.onEvent((event) => {
      if (event.name === 'boot') this.boots++;
    });
  }

  /**
   * Opens `portName` through the registry and returns a driver over a new session. Rejects with
   * PORT_NOT_FOUND, PORT_BUSY or PORT_OPEN_FAILED; nothing is sent yet.
   */
  static async open(portName: string, options: OpenDriverOptions): Promise<TerminalDriver> {
    const trace = typeof options.trace === 'string' ? createFileTrace(options.trace) : options.trace;
    const ownedTrace = typeof options.trace === 'string' ? trace : undefined;
    let transport: Awaited<ReturnType<PortRegistry['open']>>;
    const baudRate = options.baudRate ?? DRIVER_DEFAULTS.baudRate;
    try {
      transport = await options.registry.open(portName, { baudRate });
    } catch (error) {
      await ownedTrace?.close();
      throw error;
    }
    const session = new Session(transport, {
      ...options.session,
      logger: options.logger,
      timeoutMs: options.timeoutMs,
      slowTimeoutMs: options.slowTimeoutMs,
      trace,
      clock: options.clock,
      timers: options.timers,
      random: options.random,
    });
    return new TerminalDriver(session, {
      timers: options.timers,
      rebootTimeoutMs: options.rebootTimeoutMs,
      ownedTrace,
      otherHolders: transport.otherHolders && (() => transport.otherHolders!()),
      // Only a serial device has a line rate; TCP and in-process transports ignore it.
      lineRate: parsePortName(portName).kind === 'device' ? baudRate : undefined,
    });
  }

  /**
   * Applies one operation's link options until the returned function is called (link-options.ts):
   * its wire lines also go to `link.trace`, its replies wait `link.timeoutMs` (DIAG 5x). A rate
   * other than the one this serial port is open at is refused (USAGE) before anything is sent:
   * the port is not reopened under the other users of a shared link.
   */
  useLink(link: LinkOptions): () => void {
    return this.link.use(link);
  }

  /** The port name. */
  get name(): string {
    return this.session.name;
  }

  async hello(): Promise<Hello> {
    return okValue('HELLO', await this.request('HELLO', { proto: PROTOCOL_VERSION }));
  }

  async status(): Promise<TerminalStatus> {
    return okValue('STATUS', await this.request('STATUS'));
  }

  /**
   * One attempt, never repeated. A wrong password is a TerminalError 401 (`remaining`), 423 when
   * locked. An OK that may come from before a restart (EVT boot arrived while LOGIN was under way)
   * is REBOOTED: the restart ended that login, and the commands after it would get 401.
   */
  async login(user: string, password: Secret): Promise<OkValue<'LOGIN'>> {
    checkUser(user);
    if (password.length === 0) throw invalid('password', 'the password is empty');
    const reply = await this.request('LOGIN', { user, password });
    if (reply.rebooted) {
      throw new PosbridgeError(
        'REBOOTED',
        `LOGIN on ${this.name}: the terminal restarted while logging in; the login it granted ended with the restart`,
        {
          hint: 'The terminal restarted in the middle of the command. Run the command again: it reads the terminal state first.',
          details: { port: this.name, verb: 'LOGIN' },
        },
      );
    }
    const granted = okValue('LOGIN', reply);
    this.loggedIn = { user: granted.user, boots: this.boots };
    return granted;
  }

  async logout(): Promise<void> {
    this.loggedIn = undefined;
    await this.request('LOGOUT');
  }

  /**
   * Changes the logged-in account's password (`old` required), or, for the admin, an operator's
   * (`user` set, `old` not needed; that operator must change it at first login). The new password
   * is checked against the policy first: WEAK_PASSWORD, nothing sent.
   */
  async passwd(args: { user?: string; old?: Secret; new: Secret }): Promise<void> {
    const { user, old } = args;
    if (user !== undefined) checkUser(user);
    const setsOperator = user !== undefined && user !== 'admin';
    if (old === undefined && !setsOperator) {
      throw new PosbridgeError('USAGE', 'PASSWD needs the old password to change your own', {
        hint: 'Give the current password as well.',
      });
    }
    // The admin setting an operator's password: the terminal ignores `old` (D11), so neither do we.
    checkNewPassword(args.new, setsOperator ? undefined : old);
    await this.request('PASSWD', { user, old: setsOperator ? undefined : old, new: args.new });
  }

  async init(args: { merchant: string; terminal: string; name?: string }): Promise<OkValue<'INIT'>> {
    checkInit(args);
    const { merchant, terminal, name } = args;
    return okValue('INIT', await this.request('INIT', { merchant, terminal, name }));
  }

  /** A setting's value as the terminal shows it (`settle.account` masked). */
  async get(key: string): Promise<string> {
    return okValue('GET', await this.request('GET', { key })).value;
  }

  /** Writes a setting; returns the value as the terminal shows it. Known keys are checked first. */
  async set(key: string, value: string | Secret): Promise<string> {
    const checked = checkSetting(key, value);
    return okValue('SET', await this.request('SET', { key, value: checked })).value;
  }

  /** Reads the clock, or sets it to `utc` (whole seconds). */
  async time(utc?: Date): Promise<Date> {
    const text = utc === undefined ? undefined : formatUtc(checkUtc(utc));
    return new Date(okValue('TIME', await this.request('TIME', { utc: text })).utc);
  }

  async userAdd(args: { id: string; name: string; perms: string[]; password: Secret }): Promise<void> {
    checkOperatorId(args.id);
    checkOperatorName(args.name);
    const perms = checkPerms(args.perms);
    checkNewPassword(args.password, undefined);
    await this.request('USER-ADD', { id: args.id, name: args.name, perms, password: args.password });
  }

  async userSet(args: { id: string; name?: string; perms?: string[] }): Promise<void> {
    checkOperatorId(args.id);
    if (args.name !== undefined) checkOperatorName(args.name);
    const perms = args.perms === undefined ? undefined : checkPerms(args.perms);
    await this.request('USER-SET', { id: args.id, name: args.name, perms });
  }

  async userDel(id: string): Promise<void> {
    checkOperatorId(id);
    await this.request('USER-DEL', { id });
  }

  async userList(): Promise<Operator[]> {
    const reply = await this.request('USER-LIST');
    okValue('USER-LIST', reply); // its count= (the session matched it to the DATA lines)
    return dataValues('USER-LIST', reply);
  }

  /**
   * Runs the self-diagnostics (`checks` in that order; default all). `onCheck` sees each result
   * as it arrives, once per check even if a retransmission makes the terminal replay the lines.
   */
  async diag(checks?: string[], onCheck?: (result: DiagResult) => void): Promise<DiagSummary> {
    if (checks !== undefined) checkDiagChecks(checks);
    const seen = new Set<string>();
    const reply = await this.request(
      'DIAG',
      { checks: checks?.join(',') },
      {
        onData: (data) => {
          if (!onCheck) return;
          const result = dataValue('DIAG', data);
          if (seen.has(result.check)) return;
          seen.add(result.check);
          onCheck(result);
        },
      },
    );
    const { pass, warn, fail } = okValue('DIAG', reply);
    return { results: dataValues('DIAG', reply), pass, warn, fail };
  }

  /**
   * Restarts the terminal and resolves once it is back (`EVT boot`), within rebootTimeoutMs
   * (then TIMEOUT). The login is gone afterwards. If the terminal's OK is lost but `EVT boot`
   * arrives, that is a success too (REBOOT is never sent twice across a restart). Over USB the
   * device may re-enumerate during a reboot: the link then ends and this rejects with DISCONNECTED.
   */
  async reboot(): Promise<void> {
    // A restart we ask for ends the login as expected: the terminal, not the driver, answers the
    // commands after it.
    this.loggedIn = undefined;
    const boot = watchForBoot(this.session, this.timers);
    try {
      try {
        await this.request('REBOOT');
      } catch (error) {
        if (!boot.booted && !isPosbridgeError(error, 'REBOOTED')) throw error;
      }
      await boot.wait(this.rebootTimeoutMs);
    } finally {
      boot.stop();
    }
  }

  /** Restores factory state; `sn` must be the terminal's serial number (from hello()). */
  async reset(sn: string): Promise<void> {
    if (sn === '') throw invalid('confirm', 'give the serial number to confirm');
    await this.request('RESET', { confirm: sn });
  }

  /** EVT lines as they arrive (`boot`: the terminal restarted, the login is gone). */
  onEvent(callback: (event: DriverEvent) => void): () => void {
    return this.session.onEvent(callback);
  }

  /** `EVT boot`: the terminal restarted (by REBOOT or on its own); its login is gone. */
  onReboot(callback: (event: DriverEvent) => void): () => void {
    return this.session.onEvent((event) => {
      if (event.name === 'boot') callback(event);
    });
  }

  /** Called once when the link ends (DISCONNECTED) or the driver is closed (CLOSED). */
  onClose(callback: (error: PosbridgeError) => void): () => void {
    return this.session.onClose(callback);
  }

  async close(): Promise<void> {
    try {
      await this.session.close();
    } finally {
      await this.ownedTrace?.close();
    }
  }

  private request(
    verb: Verb,
    args?: RequestArgs,
    options?: Parameters<Session['request']>[2],
  ): Promise<Reply> {
    // The terminal restarted (EVT boot) since it granted our login: the login is gone, and a
    // command that needs it would be refused (401, or 400 key=old for a PASSWD user=NN, D31).
    // Say what happened instead of sending it.
    const spec: CommandSpec = COMMANDS[verb];
    const loginLost = () =>
      spec.access !== 'public' && this.loggedIn !== undefined && this.boots > this.loggedIn.boots;
    if (loginLost()) return Promise.reject(this.loginEnded(verb, `${verb} was not sent`));
    const asked = options?.timeoutMs === undefined ? this.link.timeoutMs(spec.timeout === 'slow') : undefined;
    const sent = asked === undefined ? options : { ...options, timeoutMs: asked };
    // The restart may also come while the request is under way: the session then resends it only
    // if it cannot have run, and the terminal refuses it for want of the login it just lost.
    return this.session.request(verb, args, sent).catch(async (error: unknown) => {
      const refusedForLogin =
        isTerminalError(error, 401, 'auth-required') || (verb === 'PASSWD' && isTerminalError(error, 400));
      if (refusedForLogin && loginLost())
        throw this.loginEnded(verb, `the terminal refused ${verb} for want of it (nothing ran)`);
      throw await explainByOtherReaders(error, this.otherHolders);
    });
  }

  private loginEnded(verb: Verb, what: string): PosbridgeError {
    return new PosbridgeError(
      'REBOOTED',
      `${verb} on ${this.name}: the terminal restarted after the login (EVT boot), which ended it; ${what}`,
      {
        hint: 'The terminal restarted in the middle of the command. Run the command again: it reads the terminal state first.',
        details: { port: this.name, verb },
      },
    );
  }
}
