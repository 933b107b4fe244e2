/**
 * The TSP/1 command table: arguments, who may run each command, how long a sender should wait,
 * and the shape of its replies. The terminal validates requests and encodes its replies with it;
 * the host builds requests, masks traces and decodes replies with it; docs/protocol.md documents
 * it. Adding a command touches this table and its handler.
 */
import {
  advisory,
  flag,
  int,
  list,
  noneOrList,
  oneOf,
  optional,
  type Props,
  type ReplyShape,
  shape,
  text,
  utc,
} from './reply-shape.js';

export interface ArgSpec {
  required: boolean;
  /** Never logged or traced in clear. */
  secret?: boolean;
}

/**
 * public: anyone, logged in or not. admin: the admin only (401 without a login, 403 for an
 * operator). self: PASSWD, which an operator may run on its own account.
 */
export type Access = 'public' | 'admin' | 'self';

/** normal: a few round trips' worth. slow: the terminal works for a while and sends DATA as it goes. */
export type TimeoutClass = 'normal' | 'slow';

export interface CommandSpec {
  args: Record<string, ArgSpec>;
  access: Access;
  /** Runs while a password change is pending (otherwise 428). */
  allowedWhileMustChange: boolean;
  timeout: TimeoutClass;
  /** The final OK line, its fields in the order a terminal writes them (docs/protocol.md §15). */
  ok: ReplyShape<Props>;
  /** Each DATA line, for the commands that send them. */
  data?: ReplyShape<Props>;
  summary: string;
}

const req: ArgSpec = { required: true };
const opt: ArgSpec = { required: false };
const secret: ArgSpec = { required: true, secret: true };
const optSecret: ArgSpec = { required: false, secret: true };

export const TERMINAL_STATES = ['factory', 'initialized'] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];
export const terminalState = oneOf(TERMINAL_STATES);

/** The OK of a command that answers nothing more. */
const bareOk = shape({});
const settingOk = shape({ key: text, value: text });

export const COMMANDS = {
  HELLO: {
    args: { proto: opt },
    access: 'public',
    allowedWhileMustChange: true,
    timeout: 'normal',
    ok: shape({ proto: int, model: text, sn: text, fw: text, state: terminalState, caps: list }),
    summary: 'identify the terminal and the protocol it speaks',
  },
  STATUS: {
    args: {},
    access: 'public',
    allowedWhileMustChange: true,
    timeout: 'normal',
    ok: shape({
      state: terminalState,
      /** `none`, `admin` or an operator ID (`01`...). */
      login: text,
      /** The current login must change its password (false without a login). */
      mustChange: flag,
      locked: flag,
      /** Login attempts left before a lockout; absent when lockout is disabled. */
      attemptsLeft: optional(int),
      tamper: flag,
      /** Accounts still holding their factory password (`admin`, `01`); [] for none. */
      factoryPw: noneOrList,
      /** Once initialized: the merchant and terminal numbers and the name. */
      merchant: optional(text),
      terminal: optional(text),
      name: optional(text),
    }),
    summary: 'state, login, lockout, tamper and factory passwords, without logging in',
  },
  LOGIN: {
    args: { user: req, password: secret },
    access: 'public',
    allowedWhileMustChange: true,
    timeout: 'normal',
    ok: shape({ user: text, mustChange: flag }),
    summary: 'log in as the admin or an operator',
  },
  LOGOUT: {
    args: {},
    access: 'public',
    allowedWhileMustChange: true,
    timeout: 'normal',
    ok: bareOk,
    summary: 'end the login',
  },
  PASSWD: {
    args: { user: opt, old: optSecret, new: secret, confirm: optSecret },
    access: 'self',
    allowedWhileMustChange: true,
    timeout: 'normal',
    ok: bareOk,
    summary: "change one's own password, or (admin) set an operator's",
  },
  INIT: {
    args: { merchant: req, terminal: req, name: opt },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: shape({ state: terminalState, changed: flag }),
    summary: 'bind the merchant and terminal numbers',
  },
  GET: {
    args: { key: req },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: settingOk,
    summary: 'read a setting',
  },
  SET: {
    args: { key: req, value: req },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: settingOk,
    summary: 'write a setting',
  },
  TIME: {
    args: { utc: opt },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: shape({ utc }),
    summary: 'read or set the clock (UTC)',
  },
  'USER-ADD': {
    args: { id: req, name: req, perms: req, password: secret },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: bareOk,
    summary: 'create an operator',
  },
  'USER-SET': {
    args: { id: req, name: opt, perms: opt },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: bareOk,
    summary: "change an operator's name or permissions",
  },
  'USER-DEL': {
    args: { id: req },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: bareOk,
    summary: 'delete an operator',
  },
  'USER-LIST': {
    args: {},
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: shape({ count: int }, { announced: (ok) => ok.count }),
    data: shape({ id: text, name: text, perms: list, mustChange: flag }),
    summary: 'list the operators',
  },
  DIAG: {
    args: { checks: opt },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'slow',
    ok: shape({ pass: int, warn: int, fail: int }, { announced: (ok) => ok.pass + ok.warn + ok.fail }),
    // docs/protocol.md D51: a terminal SHOULD send `ms`; a receiver must not depend on it.
    data: shape({
      check: text,
      status: oneOf(['pass', 'warn', 'fail']),
      code: optional(text),
      hint: optional(text),
      ms: advisory(int),
    }),
    summary: 'run self-diagnostics',
  },
  REBOOT: {
    args: {},
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: bareOk,
    summary: 'restart the terminal (EVT boot when back)',
  },
  RESET: {
    args: { confirm: req },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    ok: bareOk,
    summary: 'restore factory state (confirm with the serial number)',
  },
} as const satisfies Record<string, CommandSpec>;

export type Verb = keyof typeof COMMANDS;
export const VERBS = Object.keys(COMMANDS) as Verb[];

/** Verbs match case-insensitively (a person typing `hello` is understood). */
export function lookupVerb(word: string): Verb | undefined {
  const upper = word.toUpperCase();
  return Object.hasOwn(COMMANDS, upper) ? (upper as Verb) : undefined;
}

export function commandSpec(verb: Verb): CommandSpec {
  return COMMANDS[verb];
}

/** HELLO's `caps`. */
export const CAPABILITIES = [
  'crc',
  'replay',
  'users',
  'settings',
  'time',
  'diag',
  'reboot',
  'reset',
] as const;
