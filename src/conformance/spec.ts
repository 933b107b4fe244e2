/**
 * What docs/protocol.md says a terminal answers, transcribed from that document for the suite.
 *
 * Deliberately not taken from src/protocol's tables (COMMANDS, SETTINGS, DIAG_CHECKS, ...): those
 * tables drive the mock terminal, and a suite that read its expectations from them would pass a
 * terminal that shares their mistakes. Only the mechanics of the wire (CRC, value encoding,
 * tokenizing) come from src/protocol, and those are pinned to the document by its test vectors.
 */

/** The specification a run certifies against (test/unit/conformance-spec.test.ts keeps it true). */
export const SPEC = {
  protocol: 'TSP/1',
  document: 'docs/protocol.md',
  /** The document has no version line; its Decisions and worked examples identify its revision. */
  revision: 'Decisions D1-D52, worked examples 1-42',
} as const;

/** §3, §19. */
export const MAX_LINE = 512;
/** §19: echoed keys and check names, as written. */
export const MAX_ECHO = 64;
/** §7, §17, D47: `msg` and `hint`, as written. */
export const MAX_FREE_TEXT = 120;
/** §8. */
export const REPLAY_ENTRIES = 16;

/** §15 HELLO. */
export const CAPS = 'crc,replay,users,settings,time,diag,reboot,reset';

/** §15 STATUS, D18: the fields in the order a terminal writes them. */
export const STATUS_FIELDS = [
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
] as const;

/** §11: every slug and the code it belongs to. */
export const SLUG_CODES: Readonly<Record<string, number>> = {
  syntax: 400,
  'auth-required': 401,
  'bad-credentials': 401,
  permission: 403,
  'unknown-command': 404,
  'wrong-state': 409,
  exists: 409,
  'line-too-long': 413,
  'invalid-value': 422,
  'weak-password': 422,
  'unknown-key': 422,
  'unknown-user': 422,
  'unknown-check': 422,
  locked: 423,
  'password-change-required': 428,
  'bad-crc': 460,
  internal: 500,
  'not-ready': 503,
  busy: 503,
};

/** §12: the commands anyone may run; every other one but PASSWD is admin-only. */
export const PUBLIC_COMMANDS = ['HELLO', 'STATUS', 'LOGIN', 'LOGOUT'] as const;

/**
 * §12: each admin-only command with arguments that are valid in every state the auth checks
 * use, so the only fault of the line is who sends it. `{sn}` is replaced by the serial number.
 */
export const ADMIN_ONLY_REQUESTS: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>]> =
  [
    [
      'INIT',
      [
        ['merchant', '104110058120001'],
        ['terminal', '21017745'],
      ],
    ],
    ['GET', [['key', 'net.mode']]],
    [
      'SET',
      [
        ['key', 'net.mode'],
        ['value', 'eth'],
      ],
    ],
    ['TIME', []],
    [
      'USER-ADD',
      [
        ['id', '05'],
        ['name', 'Auth'],
        ['perms', 'sale'],
        ['password', 'Qw7.rT5mZ'],
      ],
    ],
    [
      'USER-SET',
      [
        ['id', '01'],
        ['name', 'Auth'],
      ],
    ],
    ['USER-DEL', [['id', '01']]],
    ['USER-LIST', []],
    ['DIAG', [['checks', 'clock']]],
    ['REBOOT', []],
    ['RESET', [['confirm', '{sn}']]],
  ];

/** §12: factory accounts. */
export const FACTORY_ADMIN_PASSWORD = '1234';
export const FACTORY_OPERATOR_PASSWORD = '123456';
export const FACTORY_OPERATOR_NAME = 'Initial account';
/** §12: the permissions in canonical order. */
export const PERMS = ['sale', 'refund', 'query', 'report', 'settings'] as const;

/** §14 rule 3. */
export const KNOWN_DEFAULTS = ['1234', '123456', '0000', '000000', '12345678'] as const;

/** §16: every setting and its factory value (`""` is unset). */
export const FACTORY_SETTINGS: Readonly<Record<string, string>> = {
  'net.mode': 'eth',
  'net.apn': '',
  'net.wifi.ssid': '',
  'host.addr': '',
  'host.port': '',
  'support.phone': '',
  'lockout.max': '5',
  'lockout.seconds': '300',
  'settle.account': '',
};

/** §17: the checks in their default order, each code with its status. */
export const DIAG_CHECKS: ReadonlyArray<readonly [string, Readonly<Record<string, 'warn' | 'fail'>>]> = [
  ['power', { battery_low: 'warn', battery_fault: 'fail' }],
  ['clock', { not_set: 'warn', rtc_fault: 'fail' }],
  ['storage', { corrupt: 'fail', nearly_full: 'warn' }],
  ['software', { missing_component: 'fail', outdated: 'warn' }],
  ['keys', { missing_keys: 'fail', expired: 'warn' }],
  ['network', { no_link: 'fail', no_sim: 'fail', weak_signal: 'warn' }],
  ['host', { not_configured: 'warn', unreachable: 'fail' }],
  ['printer', { paper_out: 'fail', cover_open: 'fail', overheat: 'warn' }],
  ['msr', { read_error: 'fail' }],
  ['icc', { reader_fault: 'fail' }],
  ['nfc', { antenna_fault: 'fail' }],
  ['tamper', { tampered: 'fail' }],
];
export const DIAG_ORDER = DIAG_CHECKS.map(([name]) => name);

/**
 * Passwords the suite sets. They are fixed and published in docs/conformance.md on purpose: if a
 * run is cut short (a pulled cable), the terminal is left with one of them, and the next run
 * needs it (`--admin-password-*`). A conformance terminal is erased at both ends of a run anyway.
 */
export const SUITE_ADMIN_PASSWORD = 'Tsp1.Conform-9x';
export const SUITE_ADMIN_PASSWORD_2 = 'Tsp1.Second-4k';
export const SUITE_OPERATOR_PASSWORD = 'Op3r.Tz8wQ4p';
export const SUITE_OPERATOR_PASSWORD_2 = 'Op3r.Second-7m';

/** Numbers the suite binds (§15 INIT): a merchant number with a leading zero (example 39). */
export const SUITE_MERCHANT = '004110058120001';
export const SUITE_TERMINAL = '21017745';
