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
 *
 * A run always resolves to its report; how it ended is the report's `outcome`, and a run that
 * stopped early says why in `error` (report.ts). What can fail before a run starts (the port does
 * not open, the call is refused) is the caller's to throw: there is no terminal to report on yet.
 * The profile's part of the job (settings, operators, read-back) is in provision-profile.ts.
 */
import { codedErrorJson, FACTORY_ADMIN_PASSWORD } from '../../protocol/index.js';
import { isPosbridgeError, PosbridgeError } from '../errors.js';
import { lockedHint } from '../lockout-hints.js';
import { Secret } from '../secret.js';
import { chooseAdminCredential, type InterruptedLogin, LoginInterrupted, loginAdmin } from './admin-login.js';
import type { OperatorSpec, Profile } from './profile.js';
import { desiredSettings } from './profile-rules.js';
import { planSteps } from './provision-plan.js';
import {
  applyOperators,
  applySettings,
  refuseFactoryOperatorPassword,
  removeFactoryOperator,
  type StepResult,
  verifyProvisioned,
} from './provision-profile.js';
import type {
  ProvisionReport,
  RunOutcome,
  StepListener,
  StepName,
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

  /** Resolves to the report however the run ends: a stop is its outcome, never an exception. */
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
      // The whole error as data (a terminal's ERR keeps its status: a 423 still exits 4).
      this.report.error = codedErrorJson(failure);
      return this.finish(failure.code === 'TAMPERED' ? 'quarantined' : 'failed');
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
  private async step(name: StepName, body: () => Promise<StepResult>): Promise<void> {
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
    if (desiredSettings(this.request.profile).length === 0) return;
    await this.step('settings', () => applySettings(this.ops, this.request.profile));
  }

  private async applyOperators(): Promise<void> {
    if (this.request.profile.operators.length === 0) return;
    await this.step('operators', () =>
      applyOperators(this.ops, this.request.profile, (id, source) => this.operatorPassword(id, source)),
    );
  }

  private async removeFactoryOperator(): Promise<void> {
    await this.step('factory-operator', () =>
      removeFactoryOperator(this.ops, this.request.profile, (id, source) =>
        this.operatorPassword(id, source),
      ),
    );
  }

  private async operatorPassword(id: string, source: OperatorSpec['password']): Promise<Secret> {
    const password = await this.deps.operatorPassword({ id, source });
    refuseFactoryOperatorPassword(id, password);
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
    await this.step('verify', () => verifyProvisioned(this.ops, this.request));
  }
}
