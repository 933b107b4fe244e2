/**
 * Operators (sub-accounts): USER-ADD, USER-SET, USER-DEL, USER-LIST. IDs are two digits 01-99
 * (else 422 invalid-value key=id), names 1-32 bytes of UTF-8, perms a non-empty subset of the five
 * permissions, answered in canonical order (D13, D14). 422 checks come before 409 exists.
 */
import {
  encodeDataFields,
  isTextWithin,
  OPERATOR_ID,
  PASSWORD_PROBLEM_TEXT,
  parsePermissions,
} from '../../protocol/index.js';
import { hashPassword } from '../passwords.js';
import { operatorIds } from '../state.js';
import { asciiArg, secretArg, textArg } from './args.js';
import { type CommandContext, type CommandHandler, type Final, fail, ok } from './context.js';
import { passwordProblem } from './policy.js';

function operatorId(ctx: CommandContext): string | Final {
  const id = asciiArg(ctx.request, 'id');
  if (id === undefined || !OPERATOR_ID.test(id)) {
    return fail('invalid-value', { key: 'id' }, 'id must be two digits 01-99');
  }
  return id;
}

/** An existing operator's ID, or the 422 that answers. */
function existingOperator(ctx: CommandContext): string | Final {
  const id = operatorId(ctx);
  if (typeof id !== 'string') return id;
  return Object.hasOwn(ctx.core.state.operators, id) ? id : fail('unknown-user');
}

function nameArg(ctx: CommandContext): string | Final | undefined {
  const name = textArg(ctx.request, 'name');
  if (!name.given) return undefined;
  if (name.text === undefined || !isTextWithin(name.text, 1, 32)) {
    return fail('invalid-value', { key: 'name' }, 'name must be 1 to 32 bytes of UTF-8');
  }
  return name.text;
}

function permsArg(ctx: CommandContext) {
  if (!ctx.request.args.has('perms')) return undefined;
  const text = asciiArg(ctx.request, 'perms');
  const perms = text === undefined ? undefined : parsePermissions(text);
  return (
    perms ?? fail('invalid-value', { key: 'perms' }, 'perms: sale,refund,query,report,settings (one or more)')
  );
}

export const userAdd: CommandHandler = {
  run(ctx) {
    const id = operatorId(ctx);
    if (typeof id !== 'string') return id;
    const name = nameArg(ctx)!;
    if (typeof name !== 'string') return name;
    const perms = permsArg(ctx)!;
    if (!Array.isArray(perms)) return perms;
    const password = secretArg(ctx.request, 'password')!;
    const problem = passwordProblem(ctx.core, password);
    if (problem) return fail('weak-password', {}, `password ${PASSWORD_PROBLEM_TEXT[problem]}`);
    const { core } = ctx;
    if (Object.hasOwn(core.state.operators, id)) return fail('exists', {}, `operator ${id} exists`);
    core.state.operators[id] = {
      name,
      perms,
      password: hashPassword(password, core.random),
      mustChange: true,
      factoryPassword: false,
    };
    core.commit();
    return ok('USER-ADD');
  },
};

export const userSet: CommandHandler = {
  run(ctx) {
    const id = existingOperator(ctx);
    if (typeof id !== 'string') return id;
    const name = nameArg(ctx);
    if (name !== undefined && typeof name !== 'string') return name;
    const perms = permsArg(ctx);
    if (perms !== undefined && !Array.isArray(perms)) return perms;
    if (name === undefined && perms === undefined) return ok('USER-SET');
    const operator = ctx.core.state.operators[id]!;
    if (name !== undefined) operator.name = name;
    if (perms !== undefined) operator.perms = perms;
    ctx.core.commit();
    return ok('USER-SET');
  },
};

export const userDel: CommandHandler = {
  run(ctx) {
    const id = existingOperator(ctx);
    if (typeof id !== 'string') return id;
    delete ctx.core.state.operators[id];
    ctx.core.commit();
    // The account is gone: so are its logins (on any connection).
    ctx.core.endLogins((login) => login.user === id);
    return ok('USER-DEL');
  },
};

export const userList: CommandHandler = {
  run(ctx) {
    const { operators } = ctx.core.state;
    const ids = operatorIds(ctx.core.state);
    for (const id of ids) {
      const operator = operators[id]!;
      const { name, perms, mustChange } = operator;
      ctx.data(encodeDataFields('USER-LIST', { id, name, perms, mustChange }));
    }
    return ok('USER-LIST', { count: ids.length });
  },
};
