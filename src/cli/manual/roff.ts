/**
 * posbridge(1), the man page, in roff (man macros), from the command tree (spec.ts) and the
 * environment table: NAME, SYNOPSIS, DESCRIPTION, COMMANDS (each with its options and
 * examples), ENVIRONMENT, EXIT STATUS, FILES, EXAMPLES, SEE ALSO. Built with the package
 * (`npm run build` writes dist/man/posbridge.1) and checked with groff and man -l
 * (test/unit/cli-manual.test.ts).
 */
import { ENVIRONMENT } from './environment.js';
import { allSpecs, type CommandSpec, type OptionSpec } from './spec.js';

export interface ManPageInfo {
  version: string;
  /** The page's date, YYYY-MM-DD (the build's, so a rebuild of the same tree is the same page). */
  date: string;
}

const EXIT_STATUS: readonly [number, string][] = [
  [0, 'success'],
  [1, 'the terminal said no, a check failed, the terminal is tampered, or the audit trail failed its check'],
  [2, 'usage error (bad flag, bad value, weak password, bad profile or manifest): nothing was sent'],
  [
    3,
    'the terminal cannot be reached or stopped answering, its port is busy, or no daemon answers at --socket',
  ],
  [4, 'posbridge stopped to avoid a lockout, or the terminal is locked'],
];

const FILES: readonly [string, string][] = [
  ['$XDG_DATA_HOME/posbridge/audit.sqlite3', 'the audit trail (default ~/.local/share/...; POSBRIDGE_AUDIT)'],
  ['$XDG_CONFIG_HOME/posbridge/daemon.yaml', 'the daemon config: allow-list, ports, station name, timeouts'],
  ['$XDG_RUNTIME_DIR/posbridge/daemon.sock', "the daemon's API socket, mode 0600 (POSBRIDGE_SOCKET)"],
  [
    '$XDG_STATE_HOME/posbridge/operator-passwords.txt',
    'generated operator passwords, mode 0600 (--credentials-out)',
  ],
  ['$XDG_STATE_HOME/posbridge/console_history', "the console's history, secrets masked"],
];

const EXAMPLES: readonly [string, string][] = [
  ['Try everything on a built-in mock terminal:', 'posbridge demo'],
  ['Identify a terminal (no login, no attempt spent):', 'posbridge info --port /dev/ttyUSB0'],
  [
    'Provision a terminal in factory state:',
    "printf 'Adm1n-2026\\n' | posbridge provision --port /dev/ttyUSB0 \\\n    --merchant 822100052110023 --terminal 10023456 --admin-password-stdin",
  ],
  ['Check the audit trail:', 'posbridge history --verify'],
  ['Turn on completion in bash:', "echo 'source <(posbridge completion bash)' >> ~/.bashrc"],
];

export function manPage(program: CommandSpec, info: ManPageInfo): string {
  const out: string[] = [
    `.TH POSBRIDGE 1 ${quoted(info.date)} ${quoted(`posbridge ${info.version}`)} "User Commands"`,
    // Ragged right: long option values (a,b,c,...) leave nothing to justify a line with.
    '.ad l',
    '.SH NAME',
    `posbridge \\- ${text(program.description)}`,
    '.SH SYNOPSIS',
    '.B posbridge',
    '.I command',
    '[\\fIoptions\\fR]',
    '.br',
    '.B posbridge',
    '.RB [ \\-\\-version | \\-\\-help ]',
    '.SH DESCRIPTION',
    text(
      'posbridge provisions, configures and diagnoses POS payment terminals that speak TSP/1 over serial/USB: it logs in without ever risking a lockout, replaces the factory passwords, binds the merchant and terminal numbers, sets the clock, settings and operators, runs the self-diagnostics and keeps a hash-chained audit trail of what it did. A mock terminal speaks the same protocol for demos and CI.',
    ),
    '.PP',
    text(
      'A port is a serial device (/dev/ttyUSB0, /dev/serial/by-id/...), tcp://HOST:PORT, rfc2217://HOST:PORT, telnet://HOST:PORT, or mock://NAME (an in-process mock terminal). Passwords never go on the command line: they come from standard input, a file, an environment variable or a hidden prompt. While posbridge daemon runs, the commands go through it.',
    ),
    '.SH COMMANDS',
  ];
  for (const spec of allSpecs(program).slice(1)) out.push(...commandSection(spec));
  out.push('.SH ENVIRONMENT');
  for (const variable of ENVIRONMENT)
    out.push('.TP', `.B ${text(variable.name)}`, text(variable.description));
  out.push('.SH EXIT STATUS');
  for (const [code, meaning] of EXIT_STATUS) out.push('.TP', `.B ${code}`, text(meaning));
  out.push('.SH FILES');
  for (const [file, what] of FILES) out.push('.TP', `.I ${text(file)}`, text(what));
  out.push('.SH EXAMPLES');
  for (const [what, example] of EXAMPLES) out.push('.PP', text(what), ...literal(example));
  out.push(
    '.SH SEE ALSO',
    '.BR picocom (1),',
    '.BR systemctl (1),',
    '.BR udev (7)',
    '.PP',
    text(
      'The documentation shipped with the package (docs/cli.md for every flag, docs/protocol.md for TSP/1, docs/daemon.md, docs/station.md, docs/mock.md), and contrib/ for the systemd unit and the udev rule.',
    ),
  );
  return `${out.join('\n')}\n`;
}

function commandSection(spec: CommandSpec): string[] {
  const name = ['posbridge', ...spec.path].join(' ');
  const out = [`.SS ${quoted(`${name} ${spec.usage}`)}`, text(spec.description)];
  // Every command takes -h/--help; the page says so once, in SYNOPSIS.
  for (const option of spec.options.filter((o) => o.long !== '--help')) out.push(...optionItem(option));
  if (spec.after) out.push(...literal(spec.after));
  return out;
}

function optionItem(option: OptionSpec): string[] {
  return ['.TP', `.B ${text(option.flags)}`, text(option.description)];
}

/** A block shown as typed: no filling, no adjusting. */
function literal(block: string): string[] {
  const lines = block.split('\n').map((line) => (line.trim() === '' ? '.sp' : text(line)));
  return ['.PP', '.nf', '.RS 4', ...lines, '.RE', '.fi'];
}

/**
 * A text line for roff: backslashes and hyphens escaped, no line starting as a request, and a
 * break point (`\\:`) after a comma inside a word, so a long list (a,b,c,...) can wrap instead of
 * overflowing the line (groff warns "cannot adjust line").
 */
export function text(value: string): string {
  const escaped = value
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .replace(/,(?=\S)/g, ',\\:');
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

/** An argument of a macro line, in double quotes (a quote inside is written twice, groff's way). */
function quoted(value: string): string {
  return `"${text(value).replaceAll('"', '""')}"`;
}
