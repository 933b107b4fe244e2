/**
 * LOGIN and LOGOUT. A LOGIN for an unknown user is a failed attempt like a wrong password (no
 * enumeration, D10); a failed LOGIN leaves the current login as it was.
 */
import { recordSuccess } from '../lockout.js';
import { verifyPassword } from '../passwords.js';
import { asciiArg, secretArg } from './args.js';
import { failedAttempt, refuseWhileLocked } from './attempts.js';
import { accountOf } from './authorize.js';
import { type CommandHandler, ok } from './context.js';

export const login: CommandHandler = {
  run(ctx) {
    const { core, request, session } = ctx;
    const locked = refuseWhileLocked(ctx);
    if (locked) return locked;
    const user = asciiArg(request, 'user');
    const account = accountOf(core.state, user);
    const password = secretArg(request, 'password') ?? '';
    if (!account || !verifyPassword(password, account.password)) return failedAttempt(ctx);
    if (recordSuccess(core.state)) core.commit();
    session.login = { user: user! };
    return ok('LOGIN', { user: user!, mustChange: account.mustChange });
  },
};

export const logout: CommandHandler = {
  run({ session }) {
    session.login = undefined;
    return ok('LOGOUT');
  },
};
