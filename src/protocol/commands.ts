/**
 * The TSP/1 command table: arguments, who may run each command, and how long a sender should
 * wait. The terminal validates requests with it; the daemon builds requests and masks traces with
 * it; docs/protocol.md documents it. Adding a command touches this table and its handler.
 */

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
  /** Fields of the final OK line, in order. */
  okFields: readonly string[];
  /** Fields of each DATA line, if the command sends any. */
  dataFields?: readonly string[];
  summary: string;
}

const req: ArgSpec = { required: true };
const opt: ArgSpec = { required: false };
const secret: ArgSpec = { required: true, secret: true };
const optSecret: ArgSpec = { required: false, secret: true };

export const COMMANDS = {
  HELLO: {
    args: { proto: opt },
    access: 'public',
    allowedWhileMustChange: true,
    timeout: 'normal',
    okFields: ['proto', 'model', 'sn', 'fw', 'state', 'caps'],
    summary: 'identify the terminal and the protocol it speaks',
  },
  STATUS: {
    args: {},
    access: 'public',
    allowedWhileMustChange: true,
    timeout: 'normal',
    okFields: [
      'state',
      'login',
      'must_change',
      'locked',
      'attempts_left',
      'tamper',
      'factory_pw',
      'merchant',
      'terminal',
      'name',
    ],
    summary: 'state, login, lockout, tamper and factory passwords, without logging in',
  },
  LOGIN: {
    args: { user: req, password: secret },
    access: 'public',
    allowedWhileMustChange: true,
    timeout: 'normal',
    okFields: ['user', 'must_change'],
    summary: 'log in as the admin or an operator',
  },
  LOGOUT: {
    args: {},
    access: 'public',
    allowedWhileMustChange: true,
    timeout: 'normal',
    okFields: [],
    summary: 'end the login',
  },
  PASSWD: {
    args: { user: opt, old: optSecret, new: secret, confirm: optSecret },
    access: 'self',
    allowedWhileMustChange: true,
    timeout: 'normal',
    okFields: [],
    summary: "change one's own password, or (admin) set an operator's",
  },
  INIT: {
    args: { merchant: req, terminal: req, name: opt },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: ['state', 'changed'],
    summary: 'bind the merchant and terminal numbers',
  },
  GET: {
    args: { key: req },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: ['key', 'value'],
    summary: 'read a setting',
  },
  SET: {
    args: { key: req, value: req },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: ['key', 'value'],
    summary: 'write a setting',
  },
  TIME: {
    args: { utc: opt },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: ['utc'],
    summary: 'read or set the clock (UTC)',
  },
  'USER-ADD': {
    args: { id: req, name: req, perms: req, password: secret },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: [],
    summary: 'create an operator',
  },
  'USER-SET': {
    args: { id: req, name: opt, perms: opt },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: [],
    summary: "change an operator's name or permissions",
  },
  'USER-DEL': {
    args: { id: req },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: [],
    summary: 'delete an operator',
  },
  'USER-LIST': {
    args: {},
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: ['count'],
    dataFields: ['id', 'name', 'perms', 'must_change'],
    summary: 'list the operators',
  },
  DIAG: {
    args: { checks: opt },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'slow',
    okFields: ['pass', 'warn', 'fail'],
    dataFields: ['check', 'status', 'code', 'hint', 'ms'],
    summary: 'run self-diagnostics',
  },
  REBOOT: {
    args: {},
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: [],
    summary: 'restart the terminal (EVT boot when back)',
  },
  RESET: {
    args: { confirm: req },
    access: 'admin',
    allowedWhileMustChange: false,
    timeout: 'normal',
    okFields: [],
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
