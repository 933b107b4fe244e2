/**
 * The part of a provisioning the profile decides (docs/cli.md, `posbridge provision`): its
 * settings, its operators, what becomes of the factory operator 01, and the read-back that shows
 * the terminal ended up as asked. Each function reads what the terminal holds first and changes
 * only what differs, and returns its step's outcome and detail; provision.ts records it.
 */
import { FACTORY_OPERATOR_PASSWORD, SETTINGS, type SettingSpec, showSetting } from '../../protocol/index.js';
import { PosbridgeError } from '../errors.js';
import { Secret } from '../secret.js';
import type { OperatorSpec, Profile } from './profile.js';
import { canonicalPerms, desiredSettings } from './profile-rules.js';
import type { StepOutcome } from './report.js';
import type { TerminalOps } from './terminal-ops.js';

/** A step's result: its outcome and what happened, for people (never a secret). */
export type StepResult = [StepOutcome, string];

/** The first password of operator `id` from its source (checked not to be the factory one). */
export type OperatorPasswordOf = (id: string, source: OperatorSpec['password']) => Promise<Secret>;

export async function applySettings(ops: TerminalOps, profile: Profile): Promise<StepResult> {
  const settings = desiredSettings(profile);
  const changed: string[] = [];
  const rewritten: string[] = [];
  for (const [key, value] of settings) {
    const shown = showSetting(key, value);
    const same = (await ops.get(key)) === shown;
    const spec: SettingSpec = SETTINGS[key];
    if (spec.secret) {
      // Write-only (settle.account): GET shows `****` and the last four, so another account
      // ending the same way reads back alike. It is written on every run; the same value
      // written again changes nothing on the terminal.
      await ops.set(key, new Secret(value));
      if (same) rewritten.push(key);
      else changed.push(`${key}=${shown}`);
      continue;
    }
    if (same) continue;
    await ops.set(key, value);
    changed.push(`${key}=${shown}`);
  }
  const note =
    rewritten.length > 0
      ? ` (${rewritten.join(', ')} written again: the terminal shows only its last four)`
      : '';
  if (changed.length === 0)
    return ['already', `${settings.length} settings already as the profile says${note}`];
  return ['done', `set ${changed.join(', ')}${note}`];
}

export async function applyOperators(
  ops: TerminalOps,
  profile: Profile,
  passwordOf: OperatorPasswordOf,
): Promise<StepResult> {
  const wanted = profile.operators;
  const existing = new Map((await ops.userList()).map((o) => [o.id, o]));
  const actions: string[] = [];
  for (const spec of wanted) {
    const perms = canonicalPerms(spec.perms);
    const current = existing.get(spec.id);
    if (current) {
      const sameName = current.name === spec.name;
      const samePerms = current.perms.join(',') === perms.join(',');
      if (sameName && samePerms) continue;
      await ops.userSet({
        id: spec.id,
        ...(!sameName && { name: spec.name }),
        ...(!samePerms && { perms }),
      });
      actions.push(`updated ${spec.id}`);
    } else {
      const password = await passwordOf(spec.id, spec.password);
      await ops.userAdd({ id: spec.id, name: spec.name, perms, password });
      actions.push(`created ${spec.id} (${perms.join(',')})`);
    }
  }
  if (actions.length === 0)
    return ['already', `operators ${wanted.map((o) => o.id).join(', ')} already as the profile says`];
  return ['done', actions.join('; ')];
}

/** Operator 01 must not keep its factory password: deleted, or given a new one, as the profile says. */
export async function removeFactoryOperator(
  ops: TerminalOps,
  profile: Profile,
  passwordOf: OperatorPasswordOf,
): Promise<StepResult> {
  const status = await ops.status();
  if (!status.factoryPw.includes('01')) return ['already', 'no operator holds a factory password'];
  const listed = profile.operators.find((o) => o.id === '01');
  if (!listed && profile.factoryOperator === 'delete') {
    await ops.userDel('01');
    return ['done', 'factory operator 01 deleted'];
  }
  const password = await passwordOf('01', listed?.password ?? 'generate');
  await ops.passwd({ user: '01', new: password });
  return ['done', 'operator 01 given a new password (to change at first login)'];
}

/** A password for an operator must not be the factory one (checked before it is recorded or sent). */
export function refuseFactoryOperatorPassword(id: string, password: Secret): void {
  if (password.reveal() === FACTORY_OPERATOR_PASSWORD) {
    throw new PosbridgeError('USAGE', `the password for operator ${id} is the factory one`, {
      hint: 'choose another',
    });
  }
}

/** Reads back what the run set: numbers, no factory password, settings, operators. */
export async function verifyProvisioned(
  ops: TerminalOps,
  expected: { merchant: string; terminal: string; profile: Profile },
): Promise<StepResult> {
  const status = await ops.status();
  const problems: string[] = [];
  if (status.merchant !== expected.merchant || status.terminal !== expected.terminal)
    problems.push('numbers not bound');
  if (status.factoryPw.length > 0)
    problems.push(`factory password still held by ${status.factoryPw.join(', ')}`);
  for (const [key, value] of desiredSettings(expected.profile)) {
    if ((await ops.get(key)) !== showSetting(key, value)) problems.push(`${key} reads back differently`);
  }
  if (expected.profile.operators.length > 0) {
    const operators = new Map((await ops.userList()).map((o) => [o.id, o]));
    for (const spec of expected.profile.operators) {
      const current = operators.get(spec.id);
      if (
        !current ||
        current.perms.join(',') !== canonicalPerms(spec.perms).join(',') ||
        current.name !== spec.name
      ) {
        problems.push(`operator ${spec.id} reads back differently`);
      }
    }
  }
  if (problems.length > 0)
    throw new PosbridgeError('VERIFY_FAILED', `read-back found: ${problems.join('; ')}`, {
      hint: 'run again; if it repeats, report the trace',
    });
  return ['done', 'read back: numbers, passwords, settings and operators as intended'];
}
