/**
 * The password policy as this terminal applies it: src/protocol's checkPassword (docs/protocol.md
 * §14), unless a behaviour breaks the policy on purpose (faults/violate.ts).
 */
import { checkPassword, KNOWN_DEFAULT_PASSWORDS, type PasswordProblem } from '../../protocol/index.js';
import type { TerminalCore } from './context.js';

export function passwordProblem(
  core: TerminalCore,
  password: string,
  old?: string,
): PasswordProblem | undefined {
  if (core.violates('weak-known-default') && KNOWN_DEFAULT_PASSWORDS.includes(password)) return undefined;
  const problem = checkPassword(password, old);
  return problem === 'straight-run' && core.violates('weak-straight-run') ? undefined : problem;
}
