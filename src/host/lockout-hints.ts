/**
 * What to tell a person stopped by a lockout (exit 4): what waiting can do and what it cannot
 * (docs/protocol.md §13). The end of a lock gives the attempts back (the count starts again from
 * lockout.max); nothing but a successful login, the end of a lock or a factory RESET gives them
 * back otherwise, and no wait ever tells anyone which password is right.
 */

/** The terminal is locked: `retryAfter` seconds left (423), or unknown (STATUS locked=1). */
export function lockedHint(retryAfter?: number): string {
  const how =
    retryAfter === undefined
      ? 'The terminal stays locked until its lockout time runs out (lockout.seconds, 300 s unless changed; STATUS does not say how much is left).'
      : `The terminal is locked for ${retryAfter} more second${retryAfter === 1 ? '' : 's'}.`;
  return `${how} Waiting ends the lock but does not recover the password: make sure of the admin password (who set it, and when) before running again; after the lock the terminal counts lockout.max attempts again.`;
}

/** Only `attemptsLeft` (0 or 1) before a lock, and the password is not known to be right. */
export function lockoutRiskHint(attemptsLeft: number): string {
  const left = attemptsLeft === 1 ? 'One attempt left' : `${attemptsLeft} attempts left`;
  return `${left}; posbridge will not spend it on a password it does not know is right. Waiting does not give attempts back (only a successful login, the end of a lock or a factory RESET does): make sure of the admin password, then log in by hand once (posbridge console); a success resets the count and the next run goes on.`;
}
