/**
 * The terminal as typed methods: one per TSP/1 command, replies parsed into typed values, ERR
 * replies as TerminalError (with `remaining`, `retryAfter`, `key`). The driver checks what it can
 * before anything reaches the wire (password policy, merchant/terminal numbers, operator IDs,
 * permissions, setting values), so a value the terminal would refuse costs no round trip and
 * never a login attempt.
 *
 * It never retries anything itself, least of all a LOGIN or PASSWD the terminal refused: the only
 * resending is the session's same-ID retransmission, which the terminal's replay cache makes safe.
 */
import type { Logger } from 'pino';
import {
  COMMANDS,
  type CommandSpec,
  formatUtc,
  isSettingKey,
  isTextWithin,
  MERCHANT_NUMBER,
  PROTOCOL_VERSION,
  parseUtc,
  SETTINGS,
  type SettingSpec,
  TERMINAL_NUMBER,
  type Verb,
} from '../protocol/index.js';
import { isPosbridgeError, isTerminalError, PosbridgeError } from './errors.js';
import type { PortRegistry } from './ports/registry.js';
import {
  checkNewPassword,
  checkOperatorId,
  checkOperatorName,
  checkPerms,
  checkUser,
  checkUtc,
  invalid,
} from './request-checks.js';
import { Secret } from './secret.js';
import {
  type Fields,
  type Reply,
  type RequestArgs,
  Session,
  type SessionOptions,
  type TerminalEvent,
} from './session.js';
import { type Clock, type RandomSource, systemTimers, type TimerHandle, type Timers } from './timers.js';
import { createFileTrace, type WireTrace } from './trace.js';

export type TerminalState = 'factory' | 'initialized';

export interface Hello {
  proto: number;
  model: string;
  sn: string;
  fw: string;
  state: TerminalState;
  caps: string[];
}

export interface TerminalStatus {
  state: TerminalState;
  /** `none`, `admin` or an operator ID (`01`...). */
  login: string;
  /** The current login must change its password (false without a login). */
  mustChange: boolean;
  locked: boolean;
  /** Login attempts left before a lockout; absent when lockout is disabled. */
  attemptsLeft?: number;
  tamper: boolean;
  /** Accounts still holding their factory password (`admin`, `01`); [] for none. */
  factoryPw: string[];
  /** Once initialized. */
  merchant?: string;
  terminal?: string;
  name?: string;
}

export interface Operator {
  id: string;
  name: string;
  perms: string[];
  mustChange: boolean;
}

export type DiagStatus = 'pass' | 'warn' | 'fail';

export interface DiagResult {
  check: string;
  status: DiagStatus;
  code?: string;
  hint?: string;
  ms?: number;
}

export interface DiagSummary {
  results: DiagResult[];
  pass: number;
  warn: number;
  fail: number;
}

export type DriverEvent = TerminalEvent;

export interface DriverOptions {
  timers?: Timers | undefined;
  /** How long reboot() waits for `EVT boot` after the terminal's OK, in ms. Default 60000. */
  rebootTimeoutMs?: number | undefined;
  /** A trace the driver owns: closed by close(). */
  ownedTrace?: WireTrace | undefined;
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
  /** EVT boot lines seen on this session. */
  private boots = 0;
  /** The login this driver holds, and how many restarts had been seen when it was granted. */
  private loggedIn: { user: string; boots: number } | undefined;

  constructor(session: Session, options: DriverOptions = {}) {
    this.session = session;
    this.timers = options.timers ?? systemTimers;
    this.rebootTimeoutMs = options.rebootTimeoutMs ?? DRIVER_DEFAULTS.rebootTimeoutMs;
    this.ownedTrace = options.ownedTrace;
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
    try {
      transport = await options.registry.open(portName, {
        baudRate: options.baudRate ?? DRIVER_DEFAULTS.baudRate,
      });
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
    });
  }

  /** The port name. */
  get name(): string {
    return this.session.name;
  }

  async hello(): Promise<Hello> {
    const reply = await this.request('HELLO', { proto: PROTOCOL_VERSION });
    const proto = intField(reply, 'proto');
    return {
      proto,
      model: field(reply, 'model'),
      sn: field(reply, 'sn'),
      fw: field(reply, 'fw'),
      state: stateField(reply),
      caps: listOf(field(reply, 'caps')),
    };
  }

  async status(): Promise<TerminalStatus> {
    const reply = await this.request('STATUS');
    const status: TerminalStatus = {
      state: stateField(reply),
      login: field(reply, 'login'),
      mustChange: flagField(reply, 'must_change'),
      locked: flagField(reply, 'locked'),
      tamper: flagField(reply, 'tamper'),
      factoryPw: noneOrList(field(reply, 'factory_pw')),
    };
    if (reply.fields.attempts_left !== undefined) status.attemptsLeft = intField(reply, 'attempts_left');
    for (const key of ['merchant', 'terminal', 'name'] as const) {
      const value = reply.fields[key];
      if (value !== undefined) status[key] = value;
    }
    return status;
  }

  /**
   * One attempt, never repeated. A wrong password is a TerminalError 401 (`remaining`), 423 when
   * locked. An OK that may come from before a restart (EVT boot arrived while LOGIN was under way)
   * is REBOOTED: the restart ended that login, and the commands after it would get 401.
   */
  async login(user: string, password: Secret): Promise<{ user: string; mustChange: boolean }> {
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
    const granted = { user: field(reply, 'user'), mustChange: flagField(reply, 'must_change') };
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

  async init(args: {
    merchant: string;
    terminal: string;
    name?: string;
  }): Promise<{ state: string; changed: boolean }> {
    if (!MERCHANT_NUMBER.test(args.merchant))
      throw invalid('merchant', 'the merchant number must be 15 digits');
    if (!TERMINAL_NUMBER.test(args.terminal))
      throw invalid('terminal', 'the terminal number must be 8 digits');
    if (args.name !== undefined && !isTextWithin(args.name, 1, 40)) {
      throw invalid('name', 'the name must be 1 to 40 bytes of UTF-8 text');
    }
    const reply = await this.request('INIT', {
      merchant: args.merchant,
      terminal: args.terminal,
      name: args.name,
    });
    return { state: field(reply, 'state'), changed: flagField(reply, 'changed') };
  }

  /** A setting's value as the terminal shows it (`settle.account` masked). */
  async get(key: string): Promise<string> {
    const reply = await this.request('GET', { key });
    return field(reply, 'value');
  }

  /** Writes a setting; returns the value as the terminal shows it. Known keys are checked first. */
  async set(key: string, value: string | Secret): Promise<string> {
    if (isSettingKey(key)) {
      const spec: SettingSpec = SETTINGS[key];
      const clear = value instanceof Secret ? value.reveal() : value;
      if (spec.parse(clear) === undefined) throw invalid(key, `${key} must be ${spec.rule}`);
      // A secret setting travels as a Secret even if the caller passed a string.
      if (spec.secret && !(value instanceof Secret)) value = new Secret(value);
    }
    const reply = await this.request('SET', { key, value });
    return field(reply, 'value');
  }

  /** Reads the clock, or sets it to `utc` (whole seconds). */
  async time(utc?: Date): Promise<Date> {
    let text: string | undefined;
    if (utc !== undefined) {
      text = formatUtc(checkUtc(utc));
    }
    const reply = await this.request('TIME', { utc: text });
    const ms = parseUtc(field(reply, 'utc'));
    if (ms === undefined) throw badReply('TIME', `utc=${reply.fields.utc} is not YYYY-MM-DDTHH:MM:SSZ`);
    return new Date(ms);
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
    return reply.data.map((data) => ({
      id: dataField('USER-LIST', data, 'id'),
      name: dataField('USER-LIST', data, 'name'),
      perms: listOf(dataField('USER-LIST', data, 'perms')),
      mustChange: flag('USER-LIST', 'must_change', dataField('USER-LIST', data, 'must_change')),
    }));
  }

  /**
   * Runs the self-diagnostics (`checks` in that order; default all). `onCheck` sees each result
   * as it arrives, once per check even if a retransmission makes the terminal replay the lines.
   */
  async diag(checks?: string[], onCheck?: (result: DiagResult) => void): Promise<DiagSummary> {
    if (checks !== undefined) {
      if (checks.length === 0) throw invalid('checks', 'name at least one check');
      if (new Set(checks).size !== checks.length) throw invalid('checks', 'a check is named twice');
      const bad = checks.find((c) => !/^[a-z][a-z0-9_]*$/.test(c));
      if (bad !== undefined) throw invalid('checks', `"${bad}" is not a check name`);
    }
    const seen = new Set<string>();
    const reply = await this.request(
      'DIAG',
      { checks: checks?.join(',') },
      {
        onData: (data) => {
          if (!onCheck) return;
          const result = diagResult(data);
          if (seen.has(result.check)) return;
          seen.add(result.check);
          onCheck(result);
        },
      },
    );
    const results = reply.data.map(diagResult);
    return {
      results,
      pass: intField(reply, 'pass'),
      warn: intField(reply, 'warn'),
      fail: intField(reply, 'fail'),
    };
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
    let booted = false;
    let resolveBoot!: () => void;
    const boot = new Promise<void>((resolve) => {
      resolveBoot = resolve;
    });
    const offEvent = this.session.onEvent((event) => {
      if (event.name !== 'boot') return;
      booted = true;
      resolveBoot();
    });
    let timer: TimerHandle | undefined;
    let offClose = (): void => {};
    try {
      try {
        await this.request('REBOOT');
      } catch (error) {
        if (!booted && !isPosbridgeError(error, 'REBOOTED')) throw error;
      }
      if (booted) return;
      await new Promise<void>((resolve, reject) => {
        timer = this.timers.setTimeout(() => {
          reject(
            new PosbridgeError(
              'TIMEOUT',
              `${this.name}: the terminal did not come back within ${this.rebootTimeoutMs} ms`,
              {
                hint: 'Check that the terminal restarted (power, display); run posbridge info once it is up.',
                details: { port: this.name, verb: 'REBOOT' },
              },
            ),
          );
        }, this.rebootTimeoutMs);
        offClose = this.session.onClose(reject);
        boot.then(resolve);
      });
    } finally {
      offEvent();
      offClose();
      if (timer !== undefined) this.timers.clearTimeout(timer);
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
    // The restart may also come while the request is under way: the session then resends it only
    // if it cannot have run, and the terminal refuses it for want of the login it just lost.
    return this.session.request(verb, args, options).catch((error: unknown) => {
      const refusedForLogin =
        isTerminalError(error, 401, 'auth-required') || (verb === 'PASSWD' && isTerminalError(error, 400));
      if (refusedForLogin && loginLost())
        throw this.loginEnded(verb, `the terminal refused ${verb} for want of it (nothing ran)`);
      throw error;
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

function badReply(verb: string, problem: string): PosbridgeError {
  return new PosbridgeError('BAD_REPLY', `${verb}: the terminal's reply does not fit TSP/1: ${problem}`, {
    hint: 'The terminal may speak another protocol version: check its firmware (posbridge info).',
    details: { verb },
  });
}

function field(reply: Reply, key: string): string {
  const value = reply.fields[key];
  if (value === undefined) throw badReply(reply.verb, `OK without ${key}=`);
  return value;
}

function dataField(verb: string, data: Fields, key: string): string {
  const value = data[key];
  if (value === undefined) throw badReply(verb, `DATA without ${key}=`);
  return value;
}

function intField(reply: Reply, key: string): number {
  const text = field(reply, key);
  if (!/^[0-9]{1,9}$/.test(text)) throw badReply(reply.verb, `${key}=${text} is not a number`);
  return Number(text);
}

function flag(verb: string, key: string, text: string): boolean {
  if (text === '0') return false;
  if (text === '1') return true;
  throw badReply(verb, `${key}=${text} is not 0 or 1`);
}

function flagField(reply: Reply, key: string): boolean {
  return flag(reply.verb, key, field(reply, key));
}

function stateField(reply: Reply): TerminalState {
  const state = field(reply, 'state');
  if (state !== 'factory' && state !== 'initialized') throw badReply(reply.verb, `unknown state=${state}`);
  return state;
}

function listOf(text: string): string[] {
  return text === '' ? [] : text.split(',');
}

function noneOrList(text: string): string[] {
  return text === 'none' ? [] : listOf(text);
}

function diagResult(data: Fields): DiagResult {
  const check = dataField('DIAG', data, 'check');
  const status = dataField('DIAG', data, 'status');
  if (status !== 'pass' && status !== 'warn' && status !== 'fail') throw badReply('DIAG', `status=${status}`);
  const result: DiagResult = { check, status };
  if (data.code !== undefined) result.code = data.code;
  if (data.hint !== undefined) result.hint = data.hint;
  if (data.ms !== undefined && /^[0-9]{1,9}$/.test(data.ms)) result.ms = Number(data.ms);
  return result;
}
