/**
 * Who the mock terminal says it is (HELLO): model, serial number, firmware version. Checked at
 * start-up against TSP/1's limits so that every reply carrying them stays valid.
 */
import { isBareToken, MAX_IDENTITY_TEXT } from '../protocol/index.js';
import { MockConfigError } from './errors.js';

export interface TerminalIdentity {
  /** Bare token, 1-32 characters. */
  model: string;
  /** Bare token, 1-32 characters; RESET asks for it as `confirm=`. */
  sn: string;
  /** Bare token, 1-32 characters. */
  fw: string;
}

export const DEFAULT_IDENTITY: Readonly<TerminalIdentity> = {
  model: 'PB-MOCK',
  sn: 'PBM0000001',
  fw: '1.0.0',
};

/** The identity with defaults applied, or a MockConfigError naming the bad field. */
export function resolveIdentity(given: Partial<TerminalIdentity> = {}): TerminalIdentity {
  const identity = { ...DEFAULT_IDENTITY, ...definedOnly(given) };
  for (const field of ['model', 'sn', 'fw'] as const) {
    const problem = identityProblem(identity[field]);
    if (problem) throw new MockConfigError(`invalid ${field} "${identity[field].slice(0, 40)}": ${problem}`);
  }
  return identity;
}

/** Why a model, sn or fw value cannot be used, or undefined. */
export function identityProblem(value: string): string | undefined {
  if (value.length < 1 || value.length > MAX_IDENTITY_TEXT)
    return `must be 1 to ${MAX_IDENTITY_TEXT} characters`;
  if (!isBareToken(value)) return 'may only use letters, digits and _.:,+/-';
  return undefined;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
