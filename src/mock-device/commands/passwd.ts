/**
 * PASSWD: change one's own password (`old=` required), or, as the admin, set an operator's
 * (`user=NN`, no `old`; the operator must change it at its next login). Checks in docs/protocol.md's
 * order (PASSWD, §15): syntax (400), login and permission (401, 403), `confirm` (422 invalid-value), unknown
 * user (422 unknown-user), policy (422 weak-password, compared with the `old=` argument, never the
 * stored password), lock (423), then `old` (401 bad-credentials, one attempt). A weak choice costs
 * no attempt.
 */
import { OPERATOR_ID, PASSWORD_PROBLEM_TEXT } from '../../protocol/index.js';
import { recordSuccess } from '../lockout.js';
import { hashPassword, verifyPassword } from '../passwords.js';
import { asciiArg, sameBytes, secretArg } from './args.js';
import { failedAttempt, refuseWhileLocked } from './attempts.js';
import { ADMIN, accountOf } from './authorize.js';
import { type CommandContext, type CommandHandler, type Final, fail, ok } from './context.js';
import { passwordProblem } from './policy.js';

const missingOld = (): Final =>
  fail('syntax', { key: 'old' }, 'PASSWD needs old= to change your own password');

export const passwd: CommandHandler = {
  /**
   * D31: `old=` may be left out only when the admin is logged in and `user=` names another
   * account; that is decided at the syntax step with the current login, so a missing `old=` is a
   * 400 before 401 and 403.
   */
  precheck({ request, session }) {
    if (request.args.has('old')) return undefined;
    const user = request.args.get('user');
    const adminSettingOther =
      session.login?.user === ADMIN &&
      user !== undefined &&
      !sameBytes(user, new TextEncoder().encode(ADMIN));
    return adminSettingOther ? undefined : missingOld();
  },

  run(ctx) {
    const { core, request, session } = ctx;
    const login = session.login!;
    const named = request.args.has('user') ? (asciiArg(request, 'user') ?? '\u0000') : undefined;
    const self = named === undefined || named === login.user;
    if (!self && login.user !== ADMIN) return fail('permission');
    if (self && !request.args.has('old')) return missingOld();

    const next = secretArg(request, 'new')!;
    if (request.args.has('confirm') && !sameBytes(request.args.get('confirm'), request.args.get('new'))) {
      return fail('invalid-value', { key: 'confirm' }, 'confirm differs from new');
    }
    if (!self && !(OPERATOR_ID.test(named!) && Object.hasOwn(core.state.operators, named!))) {
      return fail('unknown-user');
    }
    const old = self ? secretArg(request, 'old') : undefined;
    const problem = passwordProblem(core, next, old);
    if (problem) return fail('weak-password', {}, `new password ${PASSWORD_PROBLEM_TEXT[problem]}`);
    return self ? changeOwn(ctx, old!, next) : setOperator(ctx, named!, next);
  },
};

function changeOwn(ctx: CommandContext, old: string, next: string): Final {
  const { core, session } = ctx;
  const locked = refuseWhileLocked(ctx);
  if (locked) return locked;
  const account = accountOf(core.state, session.login!.user)!;
  if (!verifyPassword(old, account.password)) return failedAttempt(ctx);
  recordSuccess(core.state);
  account.password = hashPassword(next, core.random);
  account.mustChange = false;
  account.factoryPassword = false;
  core.commit();
  return ok('PASSWD');
}

/** D11: the admin sets an operator's password; the operator must change it at its next login. */
function setOperator(ctx: CommandContext, id: string, next: string): Final {
  const { core } = ctx;
  const operator = core.state.operators[id]!;
  operator.password = hashPassword(next, core.random);
  operator.mustChange = true;
  operator.factoryPassword = false;
  core.commit();
  return ok('PASSWD');
}
