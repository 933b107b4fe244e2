/**
 * What a station row's result says, in small pure pieces: the result of an attempt and of a row
 * that never ran, whether a replug may retry it, the error of a failed attempt, the audit head it
 * left, whether the run's admin password is now the terminal's, the note for a terminal plugged
 * in again, and the station's exit code.
 */

import type { PosbridgeErrorCode } from '../host/errors.js';
import { isPosbridgeError } from '../host/errors.js';
import type { ProvisionReport } from '../host/workflow/report.js';
import type { ManifestRow } from './manifest.js';
import type { ErrorInfo, RowOutcome, StationRowResult, StationSummary } from './types.js';

/**
 * Failures a replug may cure: the link (cable, no answer, port busy) and checks that a technician
 * fixes by hand (paper, SIM) before plugging in again. Anything else is final for the run.
 */
const RETRY_ON_REPLUG: ReadonlySet<string> = new Set<PosbridgeErrorCode>([
  'DISCONNECTED',
  'CLOSED',
  'TIMEOUT',
  'REBOOTED',
  'BAD_REPLY',
  'PORT_BUSY',
  'PORT_OPEN_FAILED',
  'PORT_NOT_FOUND',
  'CHECK_FAILED',
  'VERIFY_FAILED',
]);
/** The result of one attempt at `row` on `port`: the workflow's report, or the error it ended with. */
export function attemptResult(
  row: ManifestRow,
  attempt: { port: string; attempts: number; startedAt: string; finishedAt: string },
  report: ProvisionReport | undefined,
  error: ErrorInfo | undefined,
): StationRowResult {
  const { port } = attempt;
  const base: StationRowResult = {
    ...rowFields(row),
    port,
    outcome: 'failed',
    attempts: attempt.attempts,
    startedAt: attempt.startedAt,
    finishedAt: attempt.finishedAt,
    ...(report && { report }),
  };
  const d = report?.diagnostics;
  if (d) base.diagnostics = { pass: d.pass, warn: d.warn, fail: d.fail };
  const answeredAs = report?.terminal?.sn;
  if (answeredAs !== undefined && answeredAs !== row.sn) {
    // The hub saw row.sn on this port, the workflow another terminal: swapped in between.
    return {
      ...base,
      error: {
        code: 'WRONG_TERMINAL',
        message: `the terminal on ${port} answered as sn ${answeredAs} during the run, not ${row.sn}`,
        hint: 'a terminal was swapped while it was being provisioned: check both terminals with posbridge info',
      },
    };
  }
  if (!report || error) {
    const outcome = report?.outcome === 'quarantined' ? 'quarantined' : 'failed';
    return { ...base, outcome, error: error ?? { code: 'INTERNAL', message: 'the run gave no report' } };
  }
  if (d && d.fail > 0) {
    const failing = d.results
      .filter((r) => r.status === 'fail')
      .map((r) => `${r.check}${r.code ? ` ${r.code}` : ''}${r.hint ? ` (${r.hint})` : ''}`);
    return {
      ...base,
      error: {
        code: 'CHECK_FAILED',
        message: `${report.outcome === 'already-provisioned' ? 'already provisioned' : 'provisioned'}, but diagnostics failed: ${failing.join('; ')}`,
        hint: 'fix what the diagnostics name, then plug the terminal in again to re-run them',
      },
    };
  }
  const outcome: RowOutcome =
    report.outcome === 'already-provisioned'
      ? 'already-provisioned'
      : report.outcome === 'quarantined'
        ? 'quarantined'
        : report.outcome === 'provisioned'
          ? 'provisioned'
          : 'failed';
  return { ...base, outcome };
}

/** A failure a replug may cure (RETRY_ON_REPLUG). */
export function retryable(result: StationRowResult): boolean {
  return result.outcome === 'failed' && result.error !== undefined && RETRY_ON_REPLUG.has(result.error.code);
}

/**
 * The result of a row that never finished an attempt: `seenOn` its port if it was plugged in
 * (not-run), none if it never was (not-seen). `queued`: it was waiting for a slot at the end;
 * `stopReason`: why the station ended, if it was stopped.
 */
export function unfinishedResult(
  row: ManifestRow,
  seenOn: string | undefined,
  queued: boolean,
  stopReason: 'timeout' | 'signal' | undefined,
): StationRowResult {
  if (seenOn !== undefined) {
    const why = queued
      ? `the station stopped (${endText(stopReason)}) before its turn`
      : 'it was unplugged before its turn';
    return {
      ...rowFields(row),
      port: seenOn,
      outcome: 'not-run',
      attempts: 0,
      error: {
        code: 'NOT_RUN',
        message: `terminal ${row.sn} was seen on ${seenOn}, but ${why}`,
        hint: 'plug it in and run the station again (a higher --concurrency starts more at once)',
      },
    };
  }
  return {
    ...rowFields(row),
    outcome: 'not-seen',
    attempts: 0,
    error: {
      code: 'NOT_SEEN',
      message: `terminal ${row.sn} was not seen before the station ended (${endText(stopReason)})`,
      hint: 'plug it in and run the station again; check the serial number on its label against the manifest',
    },
  };
}

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

function endText(reason: 'timeout' | 'signal' | undefined): string {
  if (reason === 'timeout') return '--timeout-total reached';
  if (reason === 'signal') return 'interrupted';
  return 'no more terminals';
}

function rowFields(
  row: ManifestRow,
): Pick<StationRowResult, 'sn' | 'where' | 'merchant' | 'terminal' | 'name'> {
  return {
    sn: row.sn,
    where: row.where,
    merchant: row.merchant,
    terminal: row.terminal,
    ...(row.name !== undefined && { name: row.name }),
  };
}

/**
 * The station's exit code: 0 every row provisioned or already provisioned; 1 a row failed, was
 * quarantined or failed its diagnostics; else 3 a row was not seen (or not run) before the end.
 */
export function stationExitCode(summary: StationSummary): 0 | 1 | 3 {
  const { counts } = summary;
  if (counts.failed > 0 || counts.quarantined > 0) return 1;
  if (counts['not-seen'] > 0 || counts['not-run'] > 0) return 3;
  return 0;
}
