/** Failed and refused credential checks, shared by LOGIN and PASSWD (lockout is terminal-wide). */
import { type FailureOutcome, isLocked, lockoutMax, recordFailure, retryAfter } from '../lockout.js';
import { type CommandContext, type Final, fail, type TerminalCore } from './context.js';

/** 423 while locked (neither counts nor extends the lock), else undefined. */
export function refuseWhileLocked({ core }: CommandContext): Final | undefined {
  const now = core.clock.now();
  return isLocked(core.state, now) ? fail('locked', { retryAfter: retryAfter(core.state, now) }) : undefined;
}

/**
 * A wrong password: one attempt. The failure that reaches `lockout.max` answers `remaining=0` and,
 * after the reply, sends `EVT lockout retry_after=S` to every connection.
 */
export function failedAttempt(ctx: CommandContext): Final {
  const { core } = ctx;
  const now = core.clock.now();
  const outcome = violatedFailure(core) ?? recordFailure(core.state, now);
  core.commit();
  if (outcome.locked) {
    const seconds = retryAfter(core.state, now);
    // violate:rule=lock-never-ends: the lock runs until RESET.
    if (core.violates('lock-never-ends')) core.state.lockout.lockedUntil = Number.MAX_SAFE_INTEGER;
    ctx.afterReply(() => core.broadcast('lockout', { retryAfter: seconds }));
  }
  return fail('bad-credentials', { remaining: outcome.remaining });
}

/** The lockout violations (faults/violate.ts): a failure not counted, or counted without locking. */
function violatedFailure(core: TerminalCore): FailureOutcome | undefined {
  const max = lockoutMax(core.state);
  if (max === 0) return undefined;
  if (core.violates('failures-not-counted'))
    return { remaining: Math.max(0, max - core.state.lockout.failures), locked: false };
  if (!core.violates('lockout-never-locks')) return undefined;
  core.state.lockout.failures++;
  return { remaining: Math.max(0, max - core.state.lockout.failures), locked: false };
}
