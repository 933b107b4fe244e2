/**
 * The terminal's persistent state: what its flash holds across reconnects, REBOOT and a restart
 * of the mock (with --state FILE). Per-connection things (login, replay cache, CRC mode) live in
 * the connection, not here.
 */

import type { TerminalIdentity } from '../protocol/index.js';
import {
  DIAG_CHECK_ORDER,
  type DiagCheck,
  FACTORY_ADMIN_PASSWORD,
  FACTORY_OPERATOR_PASSWORD,
  factorySettings,
  PERMISSIONS,
  type Permission,
  type SettingKey,
} from '../protocol/index.js';
import { hashPassword, type StoredPassword } from './passwords.js';
import type { Random } from './prng.js';

export const STATE_VERSION = 1;

export interface AccountState {
  password: StoredPassword;
  /** The account must change its password before anything but PASSWD/LOGIN/LOGOUT/HELLO/STATUS. */
  mustChange: boolean;
  /** The password is still the factory one (never changed since factory state or RESET): STATUS factory_pw. */
  factoryPassword: boolean;
}

export interface OperatorState extends AccountState {
  /** 1-32 bytes of UTF-8. */
  name: string;
  /** Non-empty, canonical order. */
  perms: Permission[];
}

export interface BindingState {
  merchant: string;
  terminal: string;
  /** "" when INIT never gave one. */
  name: string;
}

/** Hardware conditions: faults of the device itself, which RESET does not repair. */
export interface HardwareState {
  /** The PIN-pad tamper switch has tripped (a latch: only the vendor clears it). */
  tamper: boolean;
  /** Checks that report a failure or warning code, e.g. `{ printer: 'paper_out' }`. */
  diagFaults: Partial<Record<DiagCheck, string>>;
}

export interface PersistentState {
  version: typeof STATE_VERSION;
  identity: TerminalIdentity;
  admin: AccountState;
  /** By two-digit ID, "01".."99". */
  operators: Record<string, OperatorState>;
  /** Set by the first INIT; null in factory state. */
  binding: BindingState | null;
  settings: Record<SettingKey, string>;
  lockout: {
    /** Failed attempts since the last success, lock end or RESET. */
    failures: number;
    /** Epoch ms (host clock) when the lock ends; null when not locked. */
    lockedUntil: number | null;
  };
  clock: {
    /** Terminal time minus host time, in ms (TIME sets it). */
    offsetMs: number;
    /** TIME has set the clock at least once (DIAG clock stops warning not_set). */
    set: boolean;
  };
  hardware: HardwareState;
}

export const INITIAL_OPERATOR_ID = '01';
export const INITIAL_OPERATOR_NAME = 'Initial account';

/**
 * Factory state (docs/protocol.md §12): admin/1234 and operator 01 "Initial account"/123456
 * with all five permissions, both must change their password; no binding; factory settings; no
 * lockout. Clock and hardware are passed in because RESET keeps them.
 */
export function factoryState(
  identity: TerminalIdentity,
  random: Random,
  keep: { clock?: PersistentState['clock']; hardware?: HardwareState } = {},
): PersistentState {
  return {
    version: STATE_VERSION,
    identity: { ...identity },
    admin: {
      password: hashPassword(FACTORY_ADMIN_PASSWORD, random),
      mustChange: true,
      factoryPassword: true,
    },
    operators: {
      [INITIAL_OPERATOR_ID]: {
        name: INITIAL_OPERATOR_NAME,
        perms: [...PERMISSIONS],
        password: hashPassword(FACTORY_OPERATOR_PASSWORD, random),
        mustChange: true,
        factoryPassword: true,
      },
    },
    binding: null,
    settings: factorySettings(),
    lockout: { failures: 0, lockedUntil: null },
    clock: keep.clock ? { ...keep.clock } : { offsetMs: 0, set: false },
    hardware: keep.hardware ? cloneHardware(keep.hardware) : { tamper: false, diagFaults: {} },
  };
}

/** STATUS `factory_pw`: the accounts still holding their factory password, admin first (D12). */
export function factoryPasswordAccounts(state: PersistentState): string[] {
  const accounts: string[] = [];
  if (state.admin.factoryPassword) accounts.push('admin');
  if (state.operators[INITIAL_OPERATOR_ID]?.factoryPassword) accounts.push(INITIAL_OPERATOR_ID);
  return accounts;
}

/** Operator IDs in ascending order (USER-LIST). */
export function operatorIds(state: PersistentState): string[] {
  return Object.keys(state.operators).sort();
}

export function cloneState(state: PersistentState): PersistentState {
  return structuredClone(state);
}

function cloneHardware(hardware: HardwareState): HardwareState {
  const diagFaults: HardwareState['diagFaults'] = {};
  for (const check of DIAG_CHECK_ORDER) {
    const code = hardware.diagFaults[check];
    if (code !== undefined) diagFaults[check] = code;
  }
  return { tamper: hardware.tamper, diagFaults };
}
