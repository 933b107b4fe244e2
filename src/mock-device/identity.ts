/**
 * Who the mock terminal says it is (HELLO): model, serial number, firmware version (the protocol's
 * TerminalIdentity). Checked at start-up against TSP/1's limits so that every reply carrying them
 * stays valid.
 */
import { identityProblem, type TerminalIdentity } from '../protocol/index.js';
import { MockConfigError } from './errors.js';

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

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
