/**
 * The audit trail around any Engine: every provision, diag, passwd and operator run and each of
 * its steps is written as it happens (one committed transaction each), whether the engine runs
 * in this process or in the daemon. Only what reports already hold goes in: no secret.
 *
 * A provisioning's report comes back with `auditHead`, the anchor of the row that closed the run
 * (anchor.ts); a provisioning that ends in an error without a report carries it in the error's
 * details instead, so every outcome can be checked against the trail later.
 */
import type {
  DiagReport,
  Engine,
  InfoReport,
  OperatorReport,
  PasswdReport,
  ProvisionCall,
} from '../host/engine.js';
import { PosbridgeError } from '../host/errors.js';
import type { LinkOptions } from '../host/link-options.js';
import { WorkflowStopped } from '../host/workflow/provision.js';
import type { ProvisionReport } from '../host/workflow/report.js';
import { formatAnchor } from './anchor.js';
import type { AuditStore } from './store.js';
import type { AuditRunKind } from './types.js';

export interface AuditContext {
  /** Who runs diag/passwd/operator (provision names its own technician and station). */
  technician: string;
  station: string;
  now(): Date;
}

export class AuditedEngine implements Engine {
  constructor(
    private readonly inner: Engine,
    private readonly store: AuditStore,
    private readonly context: AuditContext,
  ) {}

  info(port: string, link?: LinkOptions): Promise<InfoReport> {
    return this.inner.info(port, link); // reads only: nothing to record
  }

  async provision(call: ProvisionCall): Promise<ProvisionReport> {
    const { request } = call;
    const runId = this.store.startRun({
      kind: 'provision',
      port: request.port,
      technician: request.technician,
      station: request.station,
      merchant: request.merchant,
      terminalNumber: request.terminal,
      details: { dryRun: request.dryRun === true },
    });
    let identified = false;
    const finish = (report: ProvisionReport) => {
      if (report.terminal && !identified) this.store.recordTerminal(runId, report.terminal);
      if (report.diagnostics) this.store.recordDiagnostics(runId, report.diagnostics.results);
      const head = this.store.finishRun(runId, {
        outcome: report.outcome,
        ...(report.error && { error: report.error }),
        ...(report.credentialsFile && { details: { credentialsFile: report.credentialsFile } }),
      });
      report.auditHead = formatAnchor(head);
    };
    try {
      const report = await this.inner.provision({
        ...call,
        onIdentified: (terminal) => {
          this.store.recordTerminal(runId, terminal);
          identified = true;
          call.onIdentified?.(terminal);
        },
        onStep: (step) => {
          this.store.recordStep(runId, step);
          call.onStep?.(step);
        },
      });
      finish(report);
      return report;
    } catch (error) {
      if (error instanceof WorkflowStopped) finish(error.report);
      else {
        const head = this.failRun(runId, error);
        if (error instanceof PosbridgeError) error.details.auditHead = formatAnchor(head);
      }
      throw error;
    }
  }

  diag(port: string, options: Parameters<Engine['diag']>[1]): Promise<DiagReport> {
    return this.recorded(
      'diag',
      port,
      { checks: options.checks ?? 'all' },
      () => this.inner.diag(port, options),
      (runId, report) => {
        this.store.recordDiagnostics(runId, report.diagnostics.results);
        return report.diagnostics.fail > 0 ? 'failed' : 'ok';
      },
    );
  }

  passwd(port: string, options: Parameters<Engine['passwd']>[1]): Promise<PasswdReport> {
    return this.recorded(
      'passwd',
      port,
      { user: options.user ?? 'admin' },
      () => this.inner.passwd(port, options),
      () => 'ok',
    );
  }

  operator(port: string, options: Parameters<Engine['operator']>[1]): Promise<OperatorReport> {
    const op = options.operation;
    const details: Record<string, string> =
      op.action === 'list' ? { action: 'list' } : { action: op.action, id: op.id };
    return this.recorded(
      'operator',
      port,
      details,
      () => this.inner.operator(port, options),
      () => 'ok',
    );
  }

  private async recorded<R extends { terminal: { model: string; sn: string; fw: string } }>(
    kind: AuditRunKind,
    port: string,
    details: Record<string, string | string[]>,
    run: () => Promise<R>,
    outcomeOf: (runId: string, report: R) => 'ok' | 'failed',
  ): Promise<R> {
    const runId = this.store.startRun({
      kind,
      port,
      technician: this.context.technician,
      station: this.context.station,
      details,
    });
    try {
      const report = await run();
      this.store.recordTerminal(runId, report.terminal);
      this.store.finishRun(runId, { outcome: outcomeOf(runId, report) });
      return report;
    } catch (error) {
      this.failRun(runId, error);
      throw error;
    }
  }

  private failRun(runId: string, error: unknown) {
    const known = error instanceof PosbridgeError ? error : undefined;
    return this.store.finishRun(runId, {
      outcome: 'failed',
      error: {
        code: known?.code ?? 'INTERNAL',
        message: known?.message ?? 'internal error',
        ...(known?.hint && { hint: known.hint }),
      },
    });
  }
}
