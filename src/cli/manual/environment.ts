/**
 * The environment variables posbridge reads, for the man page and docs/cli.md. Every
 * `POSBRIDGE_*` name in src/ must be here: test/unit/cli-manual.test.ts greps the code for them.
 */
export interface EnvironmentVariable {
  name: string;
  description: string;
}

export const ENVIRONMENT: readonly EnvironmentVariable[] = [
  {
    name: 'POSBRIDGE_ADMIN_PASSWORD',
    description:
      'the admin password when no --admin-password-stdin or --admin-password-file is given: the new one for provision and station, the current one for the other commands',
  },
  { name: 'POSBRIDGE_NEW_PASSWORD', description: 'the new password for passwd' },
  { name: 'POSBRIDGE_OPERATOR_PASSWORD', description: "the new operator's password for operator add" },
  {
    name: 'POSBRIDGE_AUDIT',
    description:
      'the audit trail file, instead of $XDG_DATA_HOME/posbridge/audit.sqlite3 (for the daemon too, over its config)',
  },
  {
    name: 'POSBRIDGE_AUDIT_WITNESS',
    description:
      'a witness file on other storage that gets every new head of the audit trail; history --verify checks against it',
  },
  {
    name: 'POSBRIDGE_SOCKET',
    description:
      "the daemon's API socket, instead of $XDG_RUNTIME_DIR/posbridge/daemon.sock (else /tmp/posbridge-$UID/daemon.sock)",
  },
  {
    name: 'POSBRIDGE_DEBUG',
    description: 'when set, an internal error (a bug) prints its stack trace as well',
  },
  {
    name: 'POSBRIDGE_PORT',
    description:
      'the terminal when neither --port nor --sn is given (see docs/cli.md, "Choosing the terminal")',
  },
  {
    name: 'NO_COLOR, FORCE_COLOR, TERM',
    description:
      'colour: NO_COLOR set, no colour; FORCE_COLOR set (not 0), colour even into a pipe (it beats NO_COLOR); TERM=dumb, no colour and no diag spinner',
  },
  {
    name: 'JOURNAL_STREAM',
    description: 'set by systemd: log lines get syslog priority prefixes when it names stderr',
  },
  { name: 'USER', description: 'the default --technician' },
  {
    name: 'XDG_DATA_HOME, XDG_STATE_HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR',
    description:
      'where the audit trail, the console history and generated operator passwords, the daemon config, and the daemon socket go (defaults: ~/.local/share, ~/.local/state, ~/.config, /tmp/posbridge-$UID)',
  },
];
