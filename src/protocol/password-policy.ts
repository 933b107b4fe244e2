/**
 * The TSP/1 password policy. The terminal enforces it (422 weak-password); the daemon checks it
 * before sending anything, so a weak choice never reaches the wire.
 */

/** Factory and well-known POS defaults that are never acceptable. */
export const KNOWN_DEFAULT_PASSWORDS: readonly string[] = ['1234', '123456', '0000', '000000', '12345678'];
export const FACTORY_ADMIN_PASSWORD = '1234';
export const FACTORY_OPERATOR_PASSWORD = '123456';
export const PASSWORD_MIN = 6;
export const PASSWORD_MAX = 32;

export type PasswordProblem =
  | 'length'
  | 'not-printable'
  | 'known-default'
  | 'repeated'
  | 'straight-run'
  | 'same-as-old';

export const PASSWORD_PROBLEM_TEXT: Record<PasswordProblem, string> = {
  length: `must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`,
  'not-printable': 'must use printable ASCII characters only (space to ~)',
  'known-default': 'is a well-known POS default',
  repeated: 'is one character repeated',
  'straight-run': 'is a straight run such as 123456 or 654321',
  'same-as-old': 'is the same as the old password',
};

/** The first rule the password breaks, or undefined when it is acceptable. */
export function checkPassword(password: string, old?: string): PasswordProblem | undefined {
  for (let i = 0; i < password.length; i++) {
    const code = password.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return 'not-printable';
  }
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) return 'length';
  if (KNOWN_DEFAULT_PASSWORDS.includes(password)) return 'known-default';
  if (isConstantStep(password, 0)) return 'repeated';
  if (isConstantStep(password, 1) || isConstantStep(password, -1)) return 'straight-run';
  if (old !== undefined && password === old) return 'same-as-old';
  return undefined;
}

/** Every consecutive pair of characters differs by exactly `step` in code point. */
function isConstantStep(text: string, step: number): boolean {
  for (let i = 1; i < text.length; i++) {
    if (text.charCodeAt(i) - text.charCodeAt(i - 1) !== step) return false;
  }
  return true;
}
