/**
 * The provisioning workflow (docs/cli.md, `posbridge provision`): identify, log in with the
 * password STATUS says is current, replace the admin password, bind the merchant and terminal
 * numbers, set the clock and settings, create operators, make sure no factory password survives,
 * run the diagnostics, read everything back.
 *
 * The terminal's state is the source of truth: every step first looks at what the terminal says
 * and does only what is missing, so a run cut by a pulled cable is finished by running again, and
 * a run on a finished terminal changes nothing and says so.
 *
 * Terminals are precious: a rejected password is never sent again, and the last remaining login
 * attempt is never spent on a password that is not known to be right.
 */
import {
  FACTORY_ADMIN_PASSWORD,
  FACTORY_OPERATOR_PASSWORD,
  SETTINGS,
  type SettingSpec,
  showSetting,
} from '../../protocol/index.js';
import { isPosbridgeError, PosbridgeError } from '../errors.js';
import { lockedHint } from '../lockout-hints.js';
import { Secret } from '../secret.js';
import { chooseAdminCredential, type InterruptedLogin, LoginInterrupted, loginAdmin } from './admin-login.js';
import { canonicalPerms, desiredSettings, type OperatorSpec, type Profile } from './profile.js';
import { planSteps } from './provision-plan.js';
import type {
  ProvisionReport,
  RunOutcome,
  StepListener,
  StepName,
  StepOutcome,
  StepRecord,
  TerminalIdentity,
} from './report.js';
import { checkSameTerminal, mayResume, restartedAgain, resumeStep } from './restart.js';
import type { DiagCheckResult, StatusInfo, TerminalOps } from './terminal-ops.js';

export interface ProvisionRequest {
  port: string;
  merchant: string;
  terminal: string;
  name?: string;
  /** The admin password the terminal must end up with (a dry run may leave it out). */
  adminPassword?: Secret;
  /**
   * True when there is evidence the terminal already holds `adminPassword` (this tool set it,
   * per the audit trail). Only such a password may be tried on the last remaining attempt.
   */
  adminPasswordKnown?: boolean;
  profile: Profile;
  technician: string;
  station: string;
  dryRun?: boolean;
}

export interface ProvisionDeps {
  now(): Date;
  /** The first password of an operator, from the profile's source or generated. */
  operatorPassword(operator: { id: string; source: OperatorSpec['password'] }): Promise<Secret>;
  /** Keep a generated password where its owner can read it; called before it is sent. */
  recordGenerated?(id: string, password: Secret): Promise<void>;
  onStep?: StepListener;
  /** Each diagnostic check as its DATA line arrives (docs/protocol.md, DIAG): progress to show. */
  onCheck?: ((result: DiagCheckResult) => void) | undefined;
  /** Called once HELLO has named the terminal, before any other step. */
  onIdentified?(terminal: TerminalIdentity): void;
}

/** A clock drift below this is "in sync" and not worth reporting as a change. */
const CLOCK_TOLERANCE_MS = 2000;

/** What ended a run early with a report (not a crash): carries the report for the caller. */
export class WorkflowStopped extends PosbridgeError {
  constructor(
    cause: PosbridgeError,
    readonly report: ProvisionReport,
  ) {
    super(cause.code, cause.message, { hint: cause.hint, cause });
  }
}

export async function provision(
  ops: TerminalOps,
  request: ProvisionRequest,
  deps: ProvisionDeps,
): Promise<ProvisionReport> {
  const run = new Run(ops, request, deps);
  return run.execute();
}

class Run {
  private readonly steps: StepRecord[] = [];
  private readonly report: ProvisionReport;
  /** Restarts the run went on after (restart.ts). */
  private resumed = 0;
  /** The LOGIN a restart interrupted, judged before its password goes out again. */
  private interruptedLogin: InterruptedLogin | undefined;
  /** This run replaced the admin password (its OK came): the password given is known right. */
  private adminPasswordSet = false;
  /** STATUS state at the start of the run (a factory terminal's clock was never set). */
  private startState: StatusInfo['state'] | undefined;

  constructor(
    private readonly ops: TerminalOps,
    private readonly request: ProvisionRequest,
    private readonly deps: ProvisionDeps,
  ) {
    this.report = {
      kind: 'provision',
      outcome: 'failed',
      port: request.port,
      technician: request.technician,
      station: request.station,
      merchant: request.merchant,
      terminalNumber: request.terminal,
      startedAt: deps.now().toISOString(),
      finishedAt: '',
      steps: this.steps,
    };
  }

  async execute(): Promise<ProvisionReport> {
    try {
      const outcome = await this.work();
      return this.finish(outcome);
    } catch (error) {
      const failure =
        error instanceof PosbridgeError
          ? error
          : new PosbridgeError('INTERNAL', `unexpected failure: ${(error as Error).message}`, {
              cause: error,
            });
      this.report.error = {
        code: failure.code,
        message: failure.message,
        ...(failure.hint && { hint: failure.hint }),
      };
      const outcome: RunOutcome = failure.code === 'TAMPERED' ? 'quarantined' : 'failed';
      throw new WorkflowStopped(failure, this.finish(outcome));
    }
  }

  private finish(outcome: RunOutcome): ProvisionReport {
    this.report.outcome = outcome;
    this.report.finishedAt = this.deps.now().toISOString();
    return this.report;
  }

  /** The workflow, gone through again once if the terminal restarts (restart.ts). */
  private async work(): Promise<RunOutcome> {
    for (;;) {
      try {
        return await this.pass();
      } catch (error) {
        if (!mayResume(error, this.resumed)) {
          throw this.resumed > 0 && isPosbridgeError(error, 'REBOOTED') ? restartedAgain(error) : error;
        }
        this.resumed++;
        this.interruptedLogin = error instanceof LoginInterrupted ? error.attempt : undefined;
        this.record(resumeStep(this.steps, this.deps.now()));
      }
    }
  }

  private async pass(): Promise<RunOutcome> {
    const status = await this.identify();
    if (this.request.dryRun) {
      this.plan(status);
      return 'planned';
    }
    const login = await this.login(status);
    await this.replaceAdminPassword(login.viaFactory);
    await this.bind(status);
    await this.setClock(this.startState === 'factory');
    await this.applySettings();
    await this.applyOperators();
    await this.removeFactoryOperator();
    await this.diagnose();
    await this.verify();
    await this.step('logout', async () => {
      await this.ops.logout();
      return ['done', 'logged out'];
    });
    const changed = this.steps.some(
      (s) =>
        s.outcome === 'done' &&
        !['login', 'diagnostics', 'verify', 'logout', 'identify', 'resume'].includes(s.step),
    );
    return changed ? 'provisioned' : 'already-provisioned';
  }

  /** Run one step, record it, tell the listener; a failure is recorded, then rethrown. */
  private async step(name: StepName, body: () => Promise<[StepOutcome, string]>): Promise<void> {
    const startedAt = this.deps.now().toISOString();
    try {
      const [outcome, detail] = await body();
      this.record({ step: name, outcome, detail, startedAt, finishedAt: this.deps.now().toISOString() });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      this.record({
        step: name,
        outcome: 'failed',
        detail,
        startedAt,
        finishedAt: this.deps.now().toISOString(),
      });
      throw error;
    }
  }

  private record(step: StepRecord): void {
    this.steps.push(step);
    this.deps.onStep?.(step);
  }

  private async identify(): Promise<StatusInfo> {
    let status: StatusInfo | undefined;
    await this.step('identify', async () => {
      const hello = await this.ops.hello();
      const known = this.report.terminal;
      if (known) checkSameTerminal(known, hello.sn, this.request.port);
      this.report.terminal = { model: hello.model, sn: hello.sn, fw: hello.fw };
      if (!known) this.deps.onIdentified?.(this.report.terminal);
      status = await this.ops.status();
      this.startState ??= status.state;
      const bound = status.merchant
        ? `, bound to merchant ${status.merchant} terminal ${status.terminal}`
        : '';
      const factory =
        status.factoryPw.length > 0
          ? `factory passwords: ${status.factoryPw.join(', ')}`
          : 'no factory password';
      return ['done', `${hello.model} sn ${hello.sn} fw ${hello.fw}, ${status.state}${bound}, ${factory}`];
    });
    const current = status!;
    if (current.tamper) {
      throw new PosbridgeError(
        'TAMPERED',
        `terminal ${this.report.terminal?.sn} reports tamper=1: quarantined, no credential was touched`,
        {
          hint: 'do not use or provision it; return it to the vendor',
        },
      );
    }
    if (
      current.merchant &&
      (current.merchant !== this.request.merchant || current.terminal !== this.request.terminal)
    ) {
      throw new PosbridgeError(
        'WRONG_TERMINAL',
        `terminal ${this.report.terminal?.sn} is already bound to merchant ${current.merchant} terminal ${current.terminal}, not ${this.request.merchant}/${this.request.terminal}`,
        {
          hint: 'check the numbers and the terminal; rebinding needs a factory RESET by an authorized person',
        },
      );
    }
    return current;
  }

  private plan(status: StatusInfo): void {
    const at = this.deps.now().toISOString();
    for (const [step, outcome, detail] of planSteps(status, this.request))
      this.record({ step, outcome, detail, startedAt: at, finishedAt: at });
  }

  private requireAdminPassword(): Secret {
    if (!this.request.adminPassword) {
      throw new PosbridgeError('USAGE', 'the new admin password is needed to replace the factory one', {
        hint: 'give it with --admin-password-stdin, --admin-password-file or POSBRIDGE_ADMIN_PASSWORD',
      });
    }
    return this.request.adminPassword;
  }

  private async login(status: StatusInfo): Promise<{ viaFactory: boolean }> {
    const credential = chooseAdminCredential(
      status,
      this.request.adminPassword,
      this.request.adminPasswordKnown || this.adminPasswordSet,
    );
    const viaFactory = status.factoryPw.includes('admin');
    const after = this.interruptedLogin;
    this.interruptedLogin = undefined;
    await this.step('login', async () => {
      await loginAdmin(this.ops, credential, { after });
      return ['done', `logged in as admin with ${credential.label}`];
    });
    return { viaFactory };
  }

  private async replaceAdminPassword(viaFactory: boolean): Promise<void> {
    await this.step('admin-password', async () => {
      if (!viaFactory) return ['already', 'admin password already replaced'];
      // PASSWD with old= costs an attempt if old is wrong; it is right (we just logged in with
      // it), but a lock set meanwhile from another connection still stops us before sending it.
      if ((await this.ops.status()).locked) {
        throw new PosbridgeError('LOCKED', 'the terminal locked itself before the password change', {
          hint: lockedHint(),
        });
      }
      await this.ops.passwd({ old: new Secret(FACTORY_ADMIN_PASSWORD), new: this.requireAdminPassword() });
      this.adminPasswordSet = true;
      return ['done', 'factory admin password replaced'];
    });
  }

  private async bind(status: StatusInfo): Promise<void> {
    const { merchant, terminal, name } = this.request;
    await this.step('bind', async () => {
      const nameOk = name === undefined || name === status.name;
      if (status.merchant === merchant && status.terminal === terminal && nameOk) {
        return ['already', `merchant ${merchant} terminal ${terminal} already bound`];
      }
      const result = await this.ops.init({ merchant, terminal, ...(name !== undefined && { name }) });
      return [
        result.changed ? 'done' : 'already',
        `merchant ${merchant} terminal ${terminal}${name ? ` "${name}"` : ''} bound`,
      ];
    });
  }

  /** `fresh`: the terminal came in factory state, so its clock was never set by anyone. */
  private async setClock(fresh: boolean): Promise<void> {
    if (!this.request.profile.setClock) return;
    await this.step('clock', async () => {
      const terminalTime = await this.ops.time();
      const drift = terminalTime.getTime() - this.deps.now().getTime();
      // The clock is written even when in sync: a terminal whose clock was never set reads
      // close to real time yet reports `clock not_set` in DIAG until TIME sets it.
      await this.ops.time(this.deps.now());
      if (fresh) return ['done', 'clock set (a factory terminal reports it as not set until it is)'];
      if (Math.abs(drift) <= CLOCK_TOLERANCE_MS)
        return ['already', `clock in sync (drift ${(drift / 1000).toFixed(1)} s)`];
      return ['done', `clock set (was off by ${(drift / 1000).toFixed(1)} s)`];
    });
  }

  private async applySettings(): Promise<void> {
    const settings = desiredSettings(this.request.profile);
    if (settings.length === 0) return;
    await this.step('settings', async () => {
      const changed: string[] = [];
      const rewritten: string[] = [];
      for (const [key, value] of settings) {
        const shown = showSetting(key, value);
        const same = (await this.ops.get(key)) === shown;
        const spec: SettingSpec = SETTINGS[key];
        if (spec.secret) {
          // Write-only (settle.account): GET shows `****` and the last four, so another account
          // ending the same way reads back alike. It is written on every run; the same value
          // written again changes nothing on the terminal.
          await this.ops.set(key, new Secret(value));
          if (same) rewritten.push(key);
          else changed.push(`${key}=${shown}`);
          continue;
        }
        if (same) continue;
        await this.ops.set(key, value);
        changed.push(`${key}=${shown}`);
      }
      const note =
        rewritten.length > 0
          ? ` (${rewritten.join(', ')} written again: the terminal shows only its last four)`
          : '';
      if (changed.length === 0)
        return ['already', `${settings.length} settings already as the profile says${note}`];
      return ['done', `set ${changed.join(', ')}${note}`];
    });
  }

  private async applyOperators(): Promise<void> {
    const wanted = this.request.profile.operators;
    if (wanted.length === 0) return;
    await this.step('operators', async () => {
      const existing = new Map((await this.ops.userList()).map((o) => [o.id, o]));
      const actions: string[] = [];
      for (const spec of wanted) {
        const perms = canonicalPerms(spec.perms);
        const current = existing.get(spec.id);
        if (current) {
          const sameName = current.name === spec.name;
          const samePerms = current.perms.join(',') === perms.join(',');
          if (sameName && samePerms) continue;
          await this.ops.userSet({
            id: spec.id,
            ...(!sameName && { name: spec.name }),
            ...(!samePerms && { perms }),
          });
          actions.push(`updated ${spec.id}`);
        } else {
          const password = await this.operatorPassword(spec.id, spec.password);
          await this.ops.userAdd({ id: spec.id, name: spec.name, perms, password });
          actions.push(`created ${spec.id} (${perms.join(',')})`);
        }
      }
      if (actions.length === 0)
        return ['already', `operators ${wanted.map((o) => o.id).join(', ')} already as the profile says`];
      return ['done', actions.join('; ')];
    });
  }

  private async removeFactoryOperator(): Promise<void> {
    await this.step('factory-operator', async () => {
      const status = await this.ops.status();
      if (!status.factoryPw.includes('01')) return ['already', 'no operator holds a factory password'];
      const listed = this.request.profile.operators.find((o) => o.id === '01');
      if (!listed && this.request.profile.factoryOperator === 'delete') {
        await this.ops.userDel('01');
        return ['done', 'factory operator 01 deleted'];
      }
      const password = await this.operatorPassword('01', listed?.password ?? 'generate');
      await this.ops.passwd({ user: '01', new: password });
      return ['done', 'operator 01 given a new password (to change at first login)'];
    });
  }

  private async operatorPassword(id: string, source: OperatorSpec['password']): Promise<Secret> {
    const password = await this.deps.operatorPassword({ id, source });
    if (password.reveal() === FACTORY_OPERATOR_PASSWORD) {
      throw new PosbridgeError('USAGE', `the password for operator ${id} is the factory one`, {
        hint: 'choose another',
      });
    }
    if (source === 'generate') await this.deps.recordGenerated?.(id, password);
    return password;
  }

  private async diagnose(): Promise<void> {
    await this.step('diagnostics', async () => {
      const summary = await this.ops.diag(this.request.profile.diagChecks, this.deps.onCheck);
      this.report.diagnostics = summary;
      const text = `${summary.results.length} checks: ${summary.pass} pass, ${summary.warn} warn, ${summary.fail} fail`;
      return [summary.fail > 0 ? 'failed' : 'done', text];
    });
  }

  private async verify(): Promise<void> {
    await this.step('verify', async () => {
      const status = await this.ops.status();
      const problems: string[] = [];
      if (status.merchant !== this.request.merchant || status.terminal !== this.request.terminal)
        problems.push('numbers not bound');
      if (status.factoryPw.length > 0)
        problems.push(`factory password still held by ${status.factoryPw.join(', ')}`);
      for (const [key, value] of desiredSettings(this.request.profile)) {
        if ((await this.ops.get(key)) !== showSetting(key, value))
          problems.push(`${key} reads back differently`);
      }
      if (this.request.profile.operators.length > 0) {
        const operators = new Map((await this.ops.userList()).map((o) => [o.id, o]));
        for (const spec of this.request.profile.operators) {
          const current = operators.get(spec.id);
          if (
            !current ||
            current.perms.join(',') !== canonicalPerms(spec.perms).join(',') ||
            current.name !== spec.name
          ) {
            problems.push(`operator ${spec.id} reads back differently`);
          }
        }
      }
      if (problems.length > 0)
        throw new PosbridgeError('VERIFY_FAILED', `read-back found: ${problems.join('; ')}`, {
          hint: 'run again; if it repeats, report the trace',
        });
      return ['done', 'read back: numbers, passwords, settings and operators as intended'];
    });
  }
}
