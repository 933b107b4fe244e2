/**
 * What the driver checks before a request reaches the wire: a value the terminal would refuse
 * costs no round trip, and never a login attempt. Each failure is an INVALID_VALUE (or
 * WEAK_PASSWORD) PosbridgeError naming the argument; nothing was sent.
 */
import {
  checkPassword,
  isSettingKey,
  isTextWithin,
  isUtcInRange,
  MERCHANT_NUMBER,
  OPERATOR_ID,
  PASSWORD_PROBLEM_TEXT,
  PERMISSIONS,
  parsePermissions,
  SETTINGS,
  type SettingSpec,
  TERMINAL_NUMBER,
} from '../protocol/index.js';
import { PosbridgeError } from './errors.js';
import { Secret } from './secret.js';

export function invalid(key: string, problem: string): PosbridgeError {
  return new PosbridgeError('INVALID_VALUE', `${key}: ${problem}`, { details: { key } });
}

/** A time to set, in epoch ms: a real date within 2000-2099 (docs/protocol.md D48: hosts never send others). */
export function checkUtc(utc: Date): number {
  const ms = utc.getTime();
  if (Number.isNaN(ms)) throw invalid('utc', 'not a valid date');
  if (!isUtcInRange(ms)) {
    throw invalid('utc', `${utc.toISOString()} is outside 2000-2099: check this computer's clock`);
  }
  return ms;
}

export function checkUser(user: string): void {
  if (user !== 'admin' && !OPERATOR_ID.test(user)) {
    throw invalid('user', `"${user.slice(0, 16)}" is neither admin nor an operator ID (01-99)`);
  }
}

export function checkOperatorId(id: string): void {
  if (!OPERATOR_ID.test(id))
    throw invalid('id', `"${id.slice(0, 16)}" is not an operator ID (two digits, 01-99)`);
}

export function checkOperatorName(name: string): void {
  if (!isTextWithin(name, 1, 32)) throw invalid('name', 'an operator name is 1 to 32 bytes of UTF-8 text');
}

export function checkPerms(perms: string[]): string {
  const canonical = parsePermissions(perms.join(','));
  if (canonical === undefined || perms.length === 0) {
    throw invalid('perms', `permissions are a non-empty set of ${PERMISSIONS.join(', ')}`);
  }
  return canonical.join(',');
}

export function checkNewPassword(password: Secret, old: Secret | undefined): void {
  const problem = checkPassword(password.reveal(), old?.reveal());
  if (problem !== undefined) {
    throw new PosbridgeError('WEAK_PASSWORD', `The new password ${PASSWORD_PROBLEM_TEXT[problem]}`, {
      hint: 'Choose another password: 6-32 printable characters, not a default, not a run, not one repeated character.',
      details: { problem },
    });
  }
}

export function checkInit(args: { merchant: string; terminal: string; name?: string | undefined }): void {
  if (!MERCHANT_NUMBER.test(args.merchant))
    throw invalid('merchant', 'the merchant number must be 15 digits');
  if (!TERMINAL_NUMBER.test(args.terminal)) throw invalid('terminal', 'the terminal number must be 8 digits');
  if (args.name !== undefined && !isTextWithin(args.name, 1, 40)) {
    throw invalid('name', 'the name must be 1 to 40 bytes of UTF-8 text');
  }
}

/**
 * A known setting's value against its rule; returns the value to send, a Secret for a secret
 * setting even if the caller passed a string. An unknown key goes as is (the terminal answers).
 */
export function checkSetting(key: string, value: string | Secret): string | Secret {
  if (!isSettingKey(key)) return value;
  const spec: SettingSpec = SETTINGS[key];
  const clear = value instanceof Secret ? value.reveal() : value;
  if (spec.parse(clear) === undefined) throw invalid(key, `${key} must be ${spec.rule}`);
  return spec.secret && !(value instanceof Secret) ? new Secret(value) : value;
}

export function checkDiagChecks(checks: string[]): void {
  if (checks.length === 0) throw invalid('checks', 'name at least one check');
  if (new Set(checks).size !== checks.length) throw invalid('checks', 'a check is named twice');
  const bad = checks.find((c) => !/^[a-z][a-z0-9_]*$/.test(c));
  if (bad !== undefined) throw invalid('checks', `"${bad}" is not a check name`);
}
