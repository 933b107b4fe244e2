/**
 * Exit codes (DESIGN.md): 0 success, 1 the terminal said no or a check failed, 2 usage error,
 * 3 the terminal cannot be reached or stopped answering, 4 stopped to avoid a lockout or locked.
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, lockout: 4 } as const;

const BY_CODE: Record<string, number> = {
  USAGE: EXIT.usage,
  PORT_NOT_FOUND: EXIT.unreachable,
  PORT_BUSY: EXIT.unreachable,
  PORT_OPEN_FAILED: EXIT.unreachable,
  DISCONNECTED: EXIT.unreachable,
  TIMEOUT: EXIT.unreachable,
  BAD_REPLY: EXIT.unreachable,
  LOCKOUT_RISK: EXIT.lockout,
  LOCKED: EXIT.lockout,
};

export function exitCodeForError(code: string | undefined): number {
  return (code !== undefined && BY_CODE[code]) || EXIT.refused;
}
