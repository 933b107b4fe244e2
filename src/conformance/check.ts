/** What a check is, and what a run reports about it. */
import type { Ctx } from './context.js';
import type { Rule } from './lines.js';

/** The groups, in the order a run takes them (`--only` picks some). */
export const GROUPS = [
  'framing',
  'crc',
  'ids',
  'replay',
  'commands',
  'errors',
  'auth',
  'lockout',
  'policy',
  'settings',
  'diag',
  'events',
  'reboot',
  'reset',
] as const;
export type Group = (typeof GROUPS)[number];

/**
 * The rules each group judges in every reply besides readability (lines.ts, Rule): the group
 * that tests a rule reports it, so a terminal that breaks it fails there, named by the rule.
 */
export const GROUP_RULES: Readonly<Record<Group, readonly Rule[]>> = {
  framing: ['terminator', 'canonical'],
  crc: ['crc'],
  ids: ['id'],
  replay: [],
  commands: [],
  errors: ['err', 'text'],
  auth: [],
  lockout: [],
  policy: [],
  settings: [],
  diag: ['text'],
  events: ['evt'],
  reboot: [],
  reset: [],
};

export function isGroup(name: string): name is Group {
  return (GROUPS as readonly string[]).includes(name);
}

/**
 * The states a check starts from, after a RESET (docs/protocol.md §22, "Starting states"):
 * - factory: nobody logged in;
 * - admin-must-change: the admin logged in with the factory password;
 * - admin-ready: the admin logged in, its password replaced (not initialized);
 * - admin-ready-operator-02: admin-ready, and operator 02 created;
 * - operator-01: operator 01 logged in with its factory password;
 * - provisioned: admin-ready, initialized, clock set, host configured.
 */
export type StartState =
  | 'factory'
  | 'admin-must-change'
  | 'admin-ready'
  | 'admin-ready-operator-02'
  | 'operator-01'
  | 'provisioned';

export interface Check {
  /** `group.name`, stable: reports and CI history use it. */
  id: string;
  group: Group;
  /** The part of docs/protocol.md it tests: `§3`, `§8, D30`. */
  section: string;
  /** What a passing terminal does, in a few words. */
  title: string;
  start: StartState;
  /** The check leaves the terminal as it found it: the next check may start without a RESET. */
  readOnly?: boolean;
  /** The rule families judged in every reply of the check (default: its group's, GROUP_RULES). */
  rules?: readonly Rule[];
  /** The check's own time limit, ms, when the default is too short (real-time waits). */
  budgetMs?: number;
  run(t: Ctx): Promise<void>;
}

export type Outcome = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  group: Group;
  section: string;
  title: string;
  outcome: Outcome;
  ms: number;
  /** Why it failed: what was expected and what came, the wire lines involved (secrets masked). */
  failure?: {
    message: string;
    expected?: string;
    got?: string;
    more?: string[];
    wire: string[];
  };
  /** Why it was not run. */
  skipped?: string;
}

/** Defines a check (keeps each group file a plain table). */
export function check(group: Group, spec: Omit<Check, 'group' | 'id'> & { name: string }): Check {
  const { name, ...rest } = spec;
  return { ...rest, group, id: `${group}.${name}` };
}
