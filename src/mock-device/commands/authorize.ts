/**
 * The state-dependent part of TSP/1's fault order that every command shares: 401 (no login), 403
 * (an operator asking for an admin-only command, checked before 428), 428 (a password change is
 * pending). Each handler then checks 422, 423 and 409 in that order.
 */
import type { CommandSpec } from '../../protocol/index.js';
import type { Login } from '../connection.js';
import type { AccountState, PersistentState } from '../state.js';
import { type Final, fail, type LoginState } from './context.js';

export const ADMIN = 'admin';

export function authorize(spec: CommandSpec, session: LoginState, state: PersistentState): Final | undefined {
  if (spec.access === 'public') return undefined;
  const { login } = session;
  if (login === undefined) return fail('auth-required');
  if (spec.access === 'admin' && login.user !== ADMIN) return fail('permission');
  if (!spec.allowedWhileMustChange && mustChange(state, login)) return fail('password-change-required');
  return undefined;
}

/** The account a LOGIN `user=` names: `admin` or an existing operator's two-digit ID. */
export function accountOf(state: PersistentState, user: string | undefined): AccountState | undefined {
  if (user === undefined) return undefined;
  if (user === ADMIN) return state.admin;
  return Object.hasOwn(state.operators, user) ? state.operators[user] : undefined;
}

/** STATUS `must_change` and the 428 rule: that of the current login, 0 without one. */
export function mustChange(state: PersistentState, login: Login | undefined): boolean {
  return accountOf(state, login?.user)?.mustChange ?? false;
}
