/**
 * What a caller asks the store to record, checked and reduced to the payload stored: known kinds
 * and outcomes, non-empty texts where a text is required, a terminal as { model, sn, fw }, the
 * diagnostics' counts derived from their results. A bad value is AUDIT_INVALID naming the field;
 * nothing is written then. (The store checks for secrets before any of this: scrub.ts.)
 */
import type { StepRecord, TerminalIdentity } from '../host/workflow/report.js';
import type { DiagCheckResult } from '../host/workflow/terminal-ops.js';
import { AuditError } from './errors.js';
import { AUDIT_OUTCOMES, AUDIT_RUN_KINDS, type FinishRunInput, type StartRunInput } from './types.js';

const STEP_OUTCOMES = new Set(['done', 'already', 'failed', 'skipped', 'planned']);
const DIAG_STATUSES = new Set(['pass', 'warn', 'fail']);

export function invalid(message: string): AuditError {
  return new AuditError('AUDIT_INVALID', message);
}

export function requireText(value: unknown, what: string, { empty = false } = {}): string {
  if (typeof value !== 'string' || (!empty && value.length === 0)) {
    throw invalid(`${what} must be a ${empty ? '' : 'non-empty '}string`);
  }
  return value;
}

export function terminalOf(value: unknown, what: string): TerminalIdentity {
  const t = value as Partial<TerminalIdentity> | null;
  if (t === null || typeof t !== 'object') throw invalid(`${what} must be { model, sn, fw }`);
  return {
    model: requireText(t.model, `${what}.model`, { empty: true }),
    sn: requireText(t.sn, `${what}.sn`),
    fw: requireText(t.fw, `${what}.fw`, { empty: true }),
  };
}

export function isoTime(date: Date, what: string): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw invalid(`${what} is not a valid date`);
  return date.toISOString();
}

export function runStartPayload(input: StartRunInput): Record<string, unknown> {
  if (!AUDIT_RUN_KINDS.includes(input.kind)) {
    throw invalid(`run kind must be one of ${AUDIT_RUN_KINDS.join(', ')}`);
  }
  const payload: Record<string, unknown> = {
    kind: input.kind,
    port: requireText(input.port, 'run.port'),
    technician: requireText(input.technician, 'run.technician'),
    station: requireText(input.station, 'run.station'),
  };
  if (input.terminal !== undefined) payload.terminal = terminalOf(input.terminal, 'run.terminal');
  if (input.merchant !== undefined) payload.merchant = requireText(input.merchant, 'run.merchant');
  if (input.terminalNumber !== undefined) {
    payload.terminalNumber = requireText(input.terminalNumber, 'run.terminalNumber');
  }
  if (input.details !== undefined) payload.details = input.details;
  return payload;
}

export function stepPayload(step: StepRecord): Record<string, unknown> {
  if (!STEP_OUTCOMES.has(step.outcome))
    throw invalid(`step.outcome "${String(step.outcome)}" is not a step outcome`);
  return {
    step: requireText(step.step, 'step.step'),
    outcome: step.outcome,
    detail: requireText(step.detail, 'step.detail', { empty: true }),
    startedAt: requireText(step.startedAt, 'step.startedAt'),
    finishedAt: requireText(step.finishedAt, 'step.finishedAt'),
  };
}

export function diagnosticsPayload(results: readonly DiagCheckResult[]): Record<string, unknown> {
  if (!Array.isArray(results as unknown)) throw invalid('diagnostics must be an array of check results');
  const counts = { pass: 0, warn: 0, fail: 0 };
  const kept = results.map((r: DiagCheckResult, i) => {
    if (!DIAG_STATUSES.has(r?.status)) throw invalid(`diagnostics[${i}].status must be pass, warn or fail`);
    counts[r.status] += 1;
    const result: Record<string, unknown> = {
      check: requireText(r.check, `diagnostics[${i}].check`),
      status: r.status,
    };
    if (r.code !== undefined) result.code = r.code;
    if (r.hint !== undefined) result.hint = r.hint;
    if (r.ms !== undefined) result.ms = r.ms;
    return result;
  });
  return { ...counts, results: kept };
}

export function finishPayload(input: FinishRunInput): Record<string, unknown> {
  if (!AUDIT_OUTCOMES.includes(input.outcome)) {
    throw invalid(`finish.outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  }
  const payload: Record<string, unknown> = { outcome: input.outcome };
  if (input.error !== undefined) {
    const error: Record<string, unknown> = {
      code: requireText(input.error.code, 'finish.error.code'),
      message: requireText(input.error.message, 'finish.error.message', { empty: true }),
    };
    if (input.error.hint !== undefined)
      error.hint = requireText(input.error.hint, 'finish.error.hint', { empty: true });
    payload.error = error;
  }
  if (input.details !== undefined) payload.details = input.details;
  return payload;
}
