/** Failed and refused credential checks, shared by LOGIN and PASSWD (lockout is terminal-wide). */
import { isLocked, recordFailure, retryAfter } from '../lockout.js';
import { type CommandContext, type Final, fail } from './context.js';

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
  const outcome = recordFailure(core.state, now);
  core.commit();
  if (outcome.locked) {
    const seconds = retryAfter(core.state, now);
    ctx.afterReply(() => core.broadcast('lockout', { retryAfter: seconds }));
  }
  return fail('bad-credentials', { remaining: outcome.remaining });
}
