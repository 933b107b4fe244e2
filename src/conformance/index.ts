/**
 * The TSP/1 conformance suite: checks a terminal that someone else implemented against
 * docs/protocol.md, over the raw wire. Imports src/protocol (CRC, value encoding, tokenizing)
 * and src/host (a Transport, errors, timers); never the session or the driver, which would hide
 * what the terminal really sent.
 */

import { type Check, GROUPS, type Group } from './check.js';
import { authChecks } from './checks/auth.js';
import { commandChecks } from './checks/commands.js';
import { passwdInitChecks } from './checks/commands-passwd-init.js';
import { userChecks } from './checks/commands-users.js';
import { crcChecks } from './checks/crc.js';
import { diagChecks } from './checks/diag.js';
import { errorChecks } from './checks/errors.js';
import { passwdOrderChecks } from './checks/errors-passwd.js';
import { syntaxErrorChecks } from './checks/errors-syntax.js';
import { eventChecks } from './checks/events.js';
import { framingChecks } from './checks/framing.js';
import { idChecks } from './checks/ids.js';
import { lockoutChecks } from './checks/lockout.js';
import { policyChecks } from './checks/policy.js';
import { rebootChecks } from './checks/reboot.js';
import { replayChecks } from './checks/replay.js';
import { resetChecks } from './checks/reset.js';
import { settingChecks } from './checks/settings.js';

export * from './check.js';
export type { Identity } from './context.js';
export { runSuite, type SuiteOptions, type SuiteReport } from './runner.js';
export { SPEC, SUITE_ADMIN_PASSWORD } from './spec.js';

/** Every check, grouped, in the order a run takes them. */
export const ALL_CHECKS: readonly Check[] = [
  ...framingChecks,
  ...crcChecks,
  ...idChecks,
  ...replayChecks,
  ...commandChecks,
  ...passwdInitChecks,
  ...userChecks,
  ...errorChecks,
  ...passwdOrderChecks,
  ...syntaxErrorChecks,
  ...authChecks,
  ...lockoutChecks,
  ...policyChecks,
  ...settingChecks,
  ...diagChecks,
  ...eventChecks,
  ...rebootChecks,
  ...resetChecks,
].sort((a, b) => GROUPS.indexOf(a.group) - GROUPS.indexOf(b.group));

/** The checks of `groups` (all when none), in run order. */
export function selectChecks(groups?: readonly Group[]): Check[] {
  return ALL_CHECKS.filter((c) => !groups || groups.length === 0 || groups.includes(c.group));
}
