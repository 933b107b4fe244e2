/** Where the audit trail lives by default: the user's data directory (XDG Base Directory). */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export const AUDIT_FILE_NAME = 'audit.sqlite3';

/**
 * `$XDG_DATA_HOME/posbridge/audit.sqlite3`, or `~/.local/share/posbridge/audit.sqlite3` when
 * XDG_DATA_HOME is unset, empty or relative (the XDG spec says to ignore a relative one).
 * Pure: creates nothing (AuditStore.open creates the directory, mode 0700, and the file, 0600).
 */
export function defaultAuditPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_DATA_HOME;
  const base =
    xdg && isAbsolute(xdg)
      ? xdg
      : join(env.HOME && isAbsolute(env.HOME) ? env.HOME : home, '.local', 'share');
  return join(base, 'posbridge', AUDIT_FILE_NAME);
}
