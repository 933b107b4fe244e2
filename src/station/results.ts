/**
 * What a station row's result says, in small pure pieces: the error of a failed attempt, the
 * audit head it left, whether the run's admin password is now the terminal's, and the note for a
 * terminal plugged in again.
 */
import { isPosbridgeError } from '../host/errors.js';
import type { ProvisionReport } from '../host/workflow/report.js';
import type { ErrorInfo, StationRowResult } from './station.js';

export function errorInfo(error: unknown): ErrorInfo {
  if (isPosbridgeError(error))
    return { code: error.code, message: error.message, ...(error.hint && { hint: error.hint }) };
  return { code: 'INTERNAL', message: `unexpected failure: ${(error as Error)?.message ?? String(error)}` };
}

/**
 * The run's admin password is now the terminal's: this run set it (admin-password done) or logged
 * in with it (admin-password already, which only follows a login with the given password).
 */
export function passwordSettled(report: ProvisionReport): boolean {
  return report.steps.some(
    (s) => s.step === 'admin-password' && (s.outcome === 'done' || s.outcome === 'already'),
  );
}

export function repeatNote(result: StationRowResult): string {
  switch (result.outcome) {
    case 'provisioned':
    case 'already-provisioned':
      return 'already done in this station run: not run again';
    case 'quarantined':
      return 'quarantined in this run: left alone';
    default:
      return `failed in this run (${result.error?.code ?? 'failed'}): not retried, a retry cannot help`;
  }
}

/**
 * SEQ:HASH of the audit record of an attempt that failed without a report (the audited engine
 * puts it in the error's details), if any.
 */
export function auditHeadOf(error: unknown): string | undefined {
  const head = isPosbridgeError(error) ? error.details.auditHead : undefined;
  return typeof head === 'string' ? head : undefined;
}

/**
 * The latest (highest record number) of the rows' audit heads: the chain links every record to
 * the one before, so a trail that still holds this head holds every row's record.
 */
export function latestAuditHead(rows: readonly Pick<StationRowResult, 'auditHead'>[]): string | undefined {
  let latest: string | undefined;
  for (const { auditHead } of rows) {
    if (auditHead === undefined) continue;
    if (latest === undefined || seqOf(auditHead) > seqOf(latest)) latest = auditHead;
  }
  return latest;
}

function seqOf(head: string): number {
  return Number(head.slice(0, head.indexOf(':')));
}
