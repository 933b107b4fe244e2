/**
 * What must hold once a seed's workflow reported success, checked against the terminal's own
 * state and log (never against what the tool says about itself):
 *
 * - the terminal is fully provisioned: numbers bound, no factory password, the admin password is
 *   the one given, operators and settings as the profile says, clock set;
 * - each account's password was changed exactly once, counted from the requests the terminal
 *   executed (a replay from its cache is not an execution), and no other change ran twice;
 * - the tool caused no lockout: no failed login or PASSWD ever (the count never left 0, so never
 *   reached lockout.max), and STATUS attempts_left is lockout.max at the end;
 * - each run's report agrees with what the terminal executed during that run (a step `done` did
 *   its change, a step `already` sent none), the audit trail holds every run with the CLI's
 *   outcome, error and steps, the final run's diagnostics, passes verify(), and holds no secret;
 * - the generated operator passwords written to the credentials file are the ones the terminal
 *   holds (the last line per operator).
 *
 * Each check returns problems as sentences: a seed fails with all of them listed.
 */
import { readFile } from 'node:fs/promises';
import { desiredSettings, profileSchema } from '../../src/host/workflow/profile.js';
import { verifyPassword } from '../../src/mock-device/passwords.js';
import {
  isSettingKey,
  PERMISSIONS,
  SETTINGS,
  type SettingKey,
  type SettingSpec,
} from '../../src/protocol/index.js';
import { ADMIN_PW, MERCHANT, OPERATOR_03_PW, PROFILES, SETTLE_ACCOUNT, TERMINAL } from './mix.js';
import type { Execution, SoakRig } from './rig.js';

/** The workflow step a change on the terminal belongs to; undefined for reads, LOGIN, LOGOUT. */
export function stepOf(execution: Execution): string | undefined {
  const { verb, line } = execution;
  switch (verb) {
    case 'PASSWD':
      return /\buser=(?!admin\b)\d\d\b/.test(line) ? 'factory-operator' : 'admin-password';
    case 'INIT':
      return 'bind';
    case 'TIME':
      return /\butc=/.test(line) ? 'clock' : undefined;
    case 'SET':
      return 'settings';
    case 'USER-ADD':
    case 'USER-SET':
      return 'operators';
    case 'USER-DEL':
      return 'factory-operator';
    case 'REBOOT':
    case 'RESET':
      return 'forbidden';
    default:
      return undefined;
  }
}

/**
 * Writes the workflow repeats on every run by design, so neither counted as changes nor barred
 * from a step that says `already`: TIME (the clock is written even when in sync) and a write-only
 * setting (settle.account: GET shows only its last four, so it is written again).
 */
export function isRewrite(execution: Execution): boolean {
  if (execution.verb === 'TIME') return true;
  if (execution.verb !== 'SET') return false;
  const key = /\bkey=([^\s"]+)/.exec(execution.line)?.[1];
  return key !== undefined && isSettingKey(key) && isSecretSetting(key);
}

function isSecretSetting(key: SettingKey): boolean {
  const spec: SettingSpec = SETTINGS[key];
  return spec.secret === true;
}

/** A change's identity for counting: `PASSWD admin`, `SET net.mode`, `USER-ADD 02`. */
export function changeKey(execution: Execution): string | undefined {
  const { verb, line } = execution;
  const arg = (name: string) => new RegExp(`\\b${name}=([^\\s"]+)`).exec(line)?.[1];
  switch (verb) {
    case 'PASSWD':
      return `PASSWD ${arg('user') ?? 'admin'}`;
    case 'INIT':
      return 'INIT';
    case 'SET':
      return `SET ${arg('key')}`;
    case 'USER-ADD':
    case 'USER-SET':
    case 'USER-DEL':
      return `${verb} ${arg('id')}`;
    case 'REBOOT':
    case 'RESET':
      return verb;
    default:
      return undefined;
  }
}

interface Expected {
  /** Each change that must have executed (OK) exactly once, by changeKey. */
  changes: Map<string, number>;
  settings: Array<[SettingKey, string]>;
  operators: Map<string, { name: string; perms: string[]; password?: string }>;
}

function expected(rig: SoakRig): Expected {
  const document = PROFILES[rig.mix.profile]!;
  const profile = profileSchema.parse(document);
  const settings = desiredSettings(profile);
  const changes = new Map<string, number>([
    ['PASSWD admin', 1],
    ['INIT', 1],
  ]);
  // A rewritten setting must have been written at least once: counted apart (`atLeastOnce`).
  for (const [key] of settings) if (!isSecretSetting(key)) changes.set(`SET ${key}`, 1);
  const operators = new Map<string, { name: string; perms: string[]; password?: string }>();
  const listed01 = profile.operators.find((o) => o.id === '01');
  if (listed01 || profile.factoryOperator !== 'delete') {
    operators.set('01', { name: 'Initial account', perms: [...PERMISSIONS] });
    changes.set('PASSWD 01', 1);
  } else changes.set('USER-DEL 01', 1);
  for (const operator of profile.operators) {
    const perms = PERMISSIONS.filter((p) => operator.perms.includes(p));
    const password = typeof operator.password === 'object' ? OPERATOR_03_PW : undefined;
    operators.set(operator.id, { name: operator.name, perms, ...(password && { password }) });
    changes.set(operator.id === '01' ? 'USER-SET 01' : `USER-ADD ${operator.id}`, 1);
  }
  return { changes, settings, operators };
}

/** The terminal's persistent state and log after the last run. */
export function checkTerminal(rig: SoakRig): string[] {
  const problems: string[] = [];
  const want = expected(rig);
  const state = rig.terminal.snapshot();

  if (state.binding?.merchant !== MERCHANT || state.binding.terminal !== TERMINAL)
    problems.push(`numbers not bound: binding is ${JSON.stringify(state.binding)}`);
  else if (state.binding.name !== (rig.mix.name ?? ''))
    problems.push(`name is "${state.binding.name}", not "${rig.mix.name ?? ''}"`);
  if (state.admin.factoryPassword) problems.push('admin still holds the factory password');
  if (state.admin.mustChange) problems.push('admin must still change its password');
  if (!verifyPassword(ADMIN_PW, state.admin.password)) problems.push('admin password is not the one given');
  if (!state.clock.set) problems.push('clock never set');

  const ids = Object.keys(state.operators).sort();
  const wantIds = [...want.operators.keys()].sort();
  if (ids.join(',') !== wantIds.join(','))
    problems.push(`operators are ${ids.join(',') || 'none'}, not ${wantIds.join(',')}`);
  for (const [id, operator] of Object.entries(state.operators)) {
    if (operator.factoryPassword) problems.push(`operator ${id} still holds its factory password`);
    const spec = want.operators.get(id);
    if (!spec) continue;
    if (operator.name !== spec.name)
      problems.push(`operator ${id} is named "${operator.name}", not "${spec.name}"`);
    if (operator.perms.join(',') !== spec.perms.join(','))
      problems.push(`operator ${id} has perms ${operator.perms.join(',')}, not ${spec.perms.join(',')}`);
    if (spec.password && !verifyPassword(spec.password, operator.password))
      problems.push(`operator ${id} does not hold the password of the profile`);
  }
  // A value stored as the profile says was written at least once; the others exactly once.
  for (const [key, value] of want.settings) {
    if (state.settings[key] !== value)
      problems.push(
        `setting ${key} is "${state.settings[key]}", not "${SETTINGS[key].parse(value) ?? value}"`,
      );
  }

  // No lockout caused by the tool: no failed attempt was ever stored.
  if (rig.store.maxFailures > 0)
    problems.push(`the terminal counted ${rig.store.maxFailures} failed login/PASSWD attempt(s)`);
  if (rig.store.everLocked) problems.push('the terminal was locked');
  if (state.lockout.failures !== 0 || state.lockout.lockedUntil !== null)
    problems.push(`lockout state at the end: ${JSON.stringify(state.lockout)}`);

  // Exactly one execution per change (a replayed reply is not an execution).
  const executions = rig.log.executed();
  const done = new Map<string, number>();
  for (const execution of executions) {
    if (/bad-credentials|locked/.test(execution.reply))
      problems.push(`the terminal answered ${execution.reply} to ${execution.line}`);
    const key = changeKey(execution);
    if (key === undefined || isRewrite(execution)) continue;
    if (execution.reply === 'OK') done.set(key, (done.get(key) ?? 0) + 1);
  }
  for (const key of new Set([...want.changes.keys(), ...done.keys()])) {
    const times = done.get(key) ?? 0;
    const wanted = want.changes.get(key) ?? 0;
    if (times !== wanted) problems.push(`${key} executed ${times} time(s), expected ${wanted}`);
  }
  return problems;
}

/** Generated operator passwords: the last one written per operator is the one the terminal holds. */
export async function checkCredentialsFile(rig: SoakRig): Promise<string[]> {
  const problems: string[] = [];
  const text = await rig.credentials();
  const last = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = / sn=(\S+) operator=(\d\d) password=(.+)$/.exec(line);
    if (!match) continue;
    if (match[1] !== rig.sn) problems.push(`credentials file names sn ${match[1]}, not ${rig.sn}`);
    last.set(match[2]!, match[3]!);
  }
  const state = rig.terminal.snapshot();
  const want = expected(rig);
  for (const [id, spec] of want.operators) {
    if (spec.password) continue; // from the environment
    const written = last.get(id);
    const operator = state.operators[id];
    if (written === undefined) problems.push(`no generated password written for operator ${id}`);
    else if (operator && !verifyPassword(written, operator.password))
      problems.push(`the password written for operator ${id} is not the one the terminal holds`);
  }
  return problems;
}

const CHANGING_STEPS = ['admin-password', 'bind', 'settings', 'operators', 'factory-operator'];

type StepRecordJson = { step: string; outcome: string; detail: string };

/**
 * A run in passes: a run that went on after a restart (a `resume` step) went through the workflow
 * again, so a step may appear once per pass (`failed` where the restart cut it, then `already` or
 * `done`). Each pass's records go with what the terminal executed between its restarts. When the
 * terminal restarted more often than the run resumed (a restart before the login, which no
 * command noticed), the passes cannot be told apart on the terminal's side: one pass then holds
 * everything, and a step counts as `done` or `failed` if any of its records says so.
 */
function passesOf(
  rig: SoakRig,
  run: SoakRig['runs'][number],
): Array<{ steps: Map<string, StepRecordJson[]>; executions: Execution[] }> {
  const records = run.json.steps ?? [];
  const resumes = records.filter((s) => s.step === 'resume').length;
  const reboots: number[] = [];
  for (let i = run.logFrom; i < run.logTo; i++)
    if (rig.log.entries[i]!.message === 'rebooting') reboots.push(i);
  const bounds =
    resumes > 0 && reboots.length === resumes
      ? [run.logFrom, ...reboots, run.logTo]
      : [run.logFrom, run.logTo];
  const split = bounds.length - 1;
  const passes = Array.from({ length: split }, (_, i) => ({
    steps: new Map<string, StepRecordJson[]>(),
    executions: rig.log.executed(bounds[i], bounds[i + 1]),
  }));
  let pass = 0;
  for (const record of records) {
    if (record.step === 'resume' && split > 1) {
      pass++;
      continue;
    }
    const steps = passes[pass]!.steps;
    steps.set(record.step, [...(steps.get(record.step) ?? []), record]);
  }
  return passes;
}

/**
 * Each run's report against what the terminal executed during that run: every change belongs to
 * a step that says `done` or `failed`; a step that says `done` made a change in that run; a step
 * that says `already` made none. A run that went on after a restart is checked pass by pass.
 */
export function checkRunsAgainstTerminal(rig: SoakRig): string[] {
  const problems: string[] = [];
  for (const run of rig.runs) {
    const resumed = (run.json.steps ?? []).some((s) => s.step === 'resume');
    const passes = passesOf(rig, run);
    passes.forEach(({ steps, executions }, index) => {
      const at = passes.length > 1 ? `run ${run.attempt} pass ${index + 1}` : `run ${run.attempt}`;
      const changedBy = new Map<string, Execution[]>();
      for (const execution of executions) {
        const step = stepOf(execution);
        if (step === undefined) continue;
        if (step === 'forbidden') {
          problems.push(`${at}: the tool sent ${execution.line}`);
          continue;
        }
        // The tool sends a change only when it holds the login and the change is valid. One
        // refusal is unavoidable and harmless: a change answered 503 while the terminal restarted
        // is resent (it did not run) to a terminal that no longer knows the login, and refused
        // for want of it (401, or the 400 key=old of D31 for PASSWD user=NN), which costs no
        // attempt; the run must then have seen the restart: stopped with REBOOTED, or gone on
        // after it (a resume step). Such a refusal lands after the restart, so it is not held
        // against the next pass's record.
        if (execution.reply !== 'OK') {
          const forWantOfLogin =
            /^ERR 401 auth-required/.test(execution.reply) ||
            (execution.verb === 'PASSWD' &&
              /^ERR 400 syntax/.test(execution.reply) &&
              /\buser=\d\d\b/.test(execution.line));
          if (!forWantOfLogin || (run.json.error?.code !== 'REBOOTED' && !resumed))
            problems.push(`${at}: ${execution.line} executed with ${execution.reply}`);
          continue;
        }
        changedBy.set(step, [...(changedBy.get(step) ?? []), execution]);
        const records = steps.get(step) ?? [];
        if (records.length === 0 && !(run.json.steps ?? []).some((s) => s.step === step))
          problems.push(`${at}: ${execution.line} executed, but its step ${step} is not in the report`);
        else if (records.length > 0 && records.every((r) => r.outcome === 'already') && !isRewrite(execution))
          problems.push(`${at}: step ${step} says already, yet ${execution.line} executed`);
      }
      for (const step of CHANGING_STEPS) {
        for (const record of steps.get(step) ?? []) {
          if (record.outcome !== 'done') continue;
          const ok = changedBy.get(step) ?? [];
          if (ok.length === 0)
            problems.push(`${at}: step ${step} says done, but the terminal executed no change for it`);
          if (step === 'settings') {
            for (const claim of record.detail.replace(/^set /, '').split(', ')) {
              const key = claim.split('=')[0]!;
              if (!ok.some((e) => changeKey(e) === `SET ${key}`))
                problems.push(`${at}: report says ${key} was set, the terminal executed no SET of it`);
            }
          }
          if (step === 'operators') {
            for (const claim of record.detail.split('; ')) {
              const match = /^(created|updated) (\d\d)/.exec(claim);
              if (!match) continue;
              const key = `${match[1] === 'created' ? 'USER-ADD' : 'USER-SET'} ${match[2]}`;
              if (!ok.some((e) => changeKey(e) === key))
                problems.push(
                  `${at}: report says operator ${match[2]} ${match[1]}, the terminal executed no ${key}`,
                );
            }
          }
        }
      }
    });
    // The exit code and the outcome tell one story.
    const success = run.json.outcome === 'provisioned' || run.json.outcome === 'already-provisioned';
    if ((run.code === 0) !== success)
      problems.push(
        `run ${run.attempt}: exit ${run.code} with outcome ${run.json.outcome ?? run.json.error?.code}`,
      );
  }
  return problems;
}

/** The audit trail against the CLI's reports, and its integrity. */
export async function checkAudit(rig: SoakRig, secrets: string[]): Promise<string[]> {
  const problems: string[] = [];
  const store = rig.audit!;
  const runs = store.history().reverse();
  if (runs.length !== rig.runs.length)
    problems.push(`audit trail holds ${runs.length} run(s), the CLI ran ${rig.runs.length}`);
  runs.forEach((audited, index) => {
    const run = rig.runs[index];
    if (!run) return;
    const at = `run ${run.attempt}`;
    const outcome = run.json.outcome ?? 'failed';
    if (audited.kind !== 'provision') problems.push(`${at}: audited as ${audited.kind}`);
    if (audited.outcome !== outcome)
      problems.push(`${at}: audit outcome ${audited.outcome}, CLI said ${outcome}`);
    const cliError = run.json.error?.code;
    if (audited.error?.code !== cliError)
      problems.push(`${at}: audit error ${audited.error?.code ?? 'none'}, CLI said ${cliError ?? 'none'}`);
    if (audited.terminal && audited.terminal.sn !== rig.sn)
      problems.push(`${at}: audit names terminal ${audited.terminal.sn}, not ${rig.sn}`);
    if (audited.merchant !== MERCHANT || audited.terminalNumber !== TERMINAL)
      problems.push(`${at}: audit names merchant ${audited.merchant} terminal ${audited.terminalNumber}`);
    const cliSteps = (run.json.steps ?? []).map((s) => `${s.step}:${s.outcome}:${s.detail}`);
    const auditSteps = audited.steps.map((s) => `${s.step}:${s.outcome}:${s.detail}`);
    if (cliSteps.join('\n') !== auditSteps.join('\n'))
      problems.push(
        `${at}: audit steps differ from the report:\n  audit: ${auditSteps.join(' | ')}\n  cli:   ${cliSteps.join(' | ')}`,
      );
    if (run.json.diagnostics) {
      const diag = audited.diagnostics;
      if (!diag) problems.push(`${at}: diagnostics missing from the audit trail`);
      else if (sorted(diag.results) !== sorted(run.json.diagnostics.results))
        problems.push(`${at}: audited diagnostics differ from the report`);
    }
  });
  const final = rig.runs.at(-1);
  const finalAudit = runs.at(-1);
  if (final && finalAudit) {
    if (!finalAudit.terminal) problems.push('final run: the audit trail does not name the terminal');
    const diag = finalAudit.diagnostics;
    if (diag?.fail !== 0 || diag.results.length !== 12)
      problems.push(
        `final run: audited diagnostics ${JSON.stringify(diag && { pass: diag.pass, warn: diag.warn, fail: diag.fail })}`,
      );
    const verify = finalAudit.steps.find((s) => s.step === 'verify');
    if (verify?.outcome !== 'done') problems.push('final run: no verify step done in the audit trail');
  }
  const verified = store.verify();
  if (!verified.ok) problems.push(`audit verify() failed: ${verified.problem?.message}`);
  // No secret in the file (the store is closed so the WAL is folded into it).
  store.close();
  const bytes = await readFile(store.file);
  for (const secret of secrets) {
    if (bytes.includes(Buffer.from(secret, 'utf8'))) problems.push('a secret appears in the audit file');
  }
  return problems;
}

/** JSON with keys in sorted order (the audit trail stores canonical JSON). */
function sorted(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Everything secret a seed handled: the admin password, operator passwords, the bank account. */
export async function secretsOf(rig: SoakRig): Promise<string[]> {
  const text = await rig.credentials();
  const generated = [...text.matchAll(/ password=(.+)$/gm)].map((m) => m[1]!);
  return [ADMIN_PW, OPERATOR_03_PW, SETTLE_ACCOUNT, ...generated];
}
