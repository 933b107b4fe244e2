/**
 * What a provisioned terminal holds, checked on the terminal's own state (MockTerminal.snapshot())
 * and over a second cable as a person would (LOGIN, GET): the source of truth is the terminal,
 * not what posbridge says it did.
 */
import { expect } from 'vitest';
import type { ProvisionReport } from '../../src/host/workflow/report.js';
import type { PersistentState } from '../../src/mock-device/index.js';
import { OPERATOR_03_PW, type ProfileDocument } from './workflow-profile.js';
import { ADMIN_PW, MERCHANT, SETTLE_ACCOUNT, TERMINAL, type WorkflowRig } from './workflow-rig.js';

/** Canonical permission order (TSP/1): sale, refund, query, report, settings. */
const PERM_ORDER = ['sale', 'refund', 'query', 'report', 'settings'];
const canonical = (perms: string[]) => PERM_ORDER.filter((p) => perms.includes(p));

/** The terminal's state says: provisioned as `profile` says, no factory password, no lockout. */
export function expectProvisionedState(state: PersistentState, profile: ProfileDocument = {}): void {
  expect(state.admin.factoryPassword).toBe(false);
  expect(state.admin.mustChange).toBe(false);
  expect(state.binding).toMatchObject({ merchant: MERCHANT, terminal: TERMINAL });
  for (const [key, value] of Object.entries(profile.settings ?? {}))
    expect(state.settings[key as keyof PersistentState['settings']], key).toBe(String(value));
  for (const spec of profile.operators ?? []) {
    const operator = state.operators[spec.id];
    expect(operator, `operator ${spec.id}`).toBeDefined();
    expect(operator!.name).toBe(spec.name);
    expect(operator!.perms).toEqual(canonical(spec.perms));
    expect(operator!.mustChange, `operator ${spec.id} must change its first password`).toBe(true);
    expect(operator!.factoryPassword).toBe(false);
  }
  const listed = (profile.operators ?? []).some((o) => o.id === '01');
  if (!listed && profile.factoryOperator === 'delete') expect(state.operators['01']).toBeUndefined();
  else {
    expect(state.operators['01']?.factoryPassword).toBe(false);
    expect(state.operators['01']?.mustChange).toBe(true);
  }
  expect(state.clock.set).toBe(profile.setClock !== false);
  expect(state.lockout).toEqual({ failures: 0, lockedUntil: null });
}

/**
 * Over a second cable: the factory admin password is refused, the new one logs in without a
 * pending change, the settlement account reads back masked, operator 03 has its password from the
 * environment. Leaves the lockout count at zero (the last login succeeds).
 */
export function expectProvisionedOverTheWire(rig: WorkflowRig, port: string, profile: ProfileDocument): void {
  const person = rig.byHand(port);
  try {
    expect(person.send('LOGIN user=admin password=1234')[0]).toMatch(/^ERR code=401 reason=bad-credentials/);
    expect(person.send(`LOGIN user=admin password="${ADMIN_PW}"`)).toEqual(['OK user=admin must_change=0']);
    if (profile.settings?.['settle.account'] !== undefined) {
      expect(person.send('GET key=settle.account')).toEqual([
        `OK key=settle.account value="****${SETTLE_ACCOUNT.slice(-4)}"`,
      ]);
    }
    if (profile.operators?.some((o) => o.id === '03')) {
      person.send('LOGOUT');
      expect(person.send(`LOGIN user=03 password="${OPERATOR_03_PW}"`)).toEqual(['OK user=03 must_change=1']);
    }
  } finally {
    person.close();
  }
}

export function stepOutcomes(report: ProvisionReport): Record<string, string> {
  return Object.fromEntries(report.steps.map((s) => [s.step, s.outcome]));
}

/** JSON.parse of the whole of stdout: exactly one JSON document, nothing before or after. */
export function onlyJson<T = unknown>(stdout: string): T {
  return JSON.parse(stdout) as T;
}
