/**
 * What a dry run (`provision --dry-run`) says a run would do, from STATUS alone: nothing is sent
 * but HELLO and STATUS, no login is made, so the plan costs no attempt.
 */
import { desiredSettings } from './profile-rules.js';
import type { ProvisionRequest } from './provision.js';
import type { StepName, StepOutcome } from './report.js';
import type { StatusInfo } from './terminal-ops.js';

export type PlannedStep = readonly [StepName, StepOutcome, string];

export function planSteps(status: StatusInfo, request: ProvisionRequest): PlannedStep[] {
  const steps: PlannedStep[] = [];
  const planned = (step: StepName, outcome: StepOutcome, detail: string) =>
    steps.push([step, outcome, detail]);
  const viaFactory = status.factoryPw.includes('admin');
  if (status.locked) planned('login', 'failed', 'terminal is locked: a run would stop here');
  else if (viaFactory)
    planned('login', 'planned', 'log in as admin with the factory password (STATUS lists it as current)');
  else planned('login', 'planned', `log in as admin with the new password (${attemptsText(status)})`);
  planned(
    'admin-password',
    viaFactory ? 'planned' : 'already',
    viaFactory ? 'replace the factory admin password' : 'admin password already replaced',
  );
  const bound = status.merchant === request.merchant && status.terminal === request.terminal;
  const nameOk = request.name === undefined || request.name === status.name;
  planned(
    'bind',
    bound && nameOk ? 'already' : 'planned',
    bound && nameOk
      ? 'numbers already bound'
      : `bind merchant ${request.merchant} terminal ${request.terminal}`,
  );
  if (request.profile.setClock) planned('clock', 'planned', 'set the clock if it is off by more than 2 s');
  const settings = desiredSettings(request.profile);
  if (settings.length > 0)
    planned('settings', 'planned', `check and set ${settings.map(([k]) => k).join(', ')}`);
  const operators = request.profile.operators;
  if (operators.length > 0)
    planned('operators', 'planned', `check and create ${operators.map((o) => o.id).join(', ')}`);
  const factoryOperator = status.factoryPw.includes('01');
  planned(
    'factory-operator',
    factoryOperator ? 'planned' : 'already',
    factoryOperator
      ? `operator 01 still has its factory password: ${factoryOperatorAction(request)}`
      : 'no operator holds a factory password',
  );
  planned('diagnostics', 'planned', 'run the self-diagnostics');
  return steps;
}

function factoryOperatorAction(request: ProvisionRequest): string {
  if (request.profile.operators.some((o) => o.id === '01')) return 'give it the password of the profile';
  return request.profile.factoryOperator === 'delete'
    ? 'delete it'
    : 'give it a new password (to change at first login)';
}

function attemptsText(status: StatusInfo): string {
  return status.attemptsLeft === undefined ? 'lockout disabled' : `${status.attemptsLeft} attempts left`;
}
