/**
 * Exit codes (docs/cli.md, "Exit codes"): 0 success, 1 the terminal said no or a check failed, 2 usage error,
 * 3 the terminal cannot be reached or stopped answering, 4 stopped to avoid a lockout or locked.
 */
import { EXIT as CODES, exitCodeFor, PosbridgeError } from '../host/errors.js';

/** The CLI's names for the one table of exit codes (src/host/errors.ts `EXIT`). */
export const EXIT = {
  ok: CODES.OK,
  refused: CODES.REFUSED,
  usage: CODES.USAGE,
  unreachable: CODES.UNREACHABLE,
  lockout: CODES.LOCKOUT,
} as const;

/**
 * The exit code for an error, by the daemon's one table (src/host/errors.ts `exitCodeFor`), so
 * the CLI and the local API never disagree: a 423 is 4, a reboot mid-command or a closed link 3,
 * a weak password 2. An error that only restates another (a stopped workflow keeps the code of
 * what stopped it) is judged by that one, so a terminal's ERR keeps its status.
 */
export function exitCodeForError(error: unknown): number {
  let current = error;
  while (
    current instanceof PosbridgeError &&
    current.cause instanceof PosbridgeError &&
    current.cause.code === current.code
  )
    current = current.cause;
  return exitCodeFor(current);
}
