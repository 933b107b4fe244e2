/**
 * Runs as people and the acquirer read them, folded from the rows of the chain. Each run carries
 * the anchor of its last row (`auditHead`, SEQ:HASH): the head of the trail right after the run,
 * which a report hands on so that a later cut of the trail shows (anchor.ts).
 */
import type { StepRecord, TerminalIdentity } from '../host/workflow/report.js';
import { formatAnchor } from './anchor.js';
import type { JsonObject } from './canonical.js';
import { AuditError } from './errors.js';
import type {
  AuditDiagnostics,
  AuditReportRow,
  AuditRun,
  AuditRunKind,
  AuditStep,
  FinishRunInput,
  ReportQuery,
} from './types.js';
import type { EventRow } from './verify.js';

/** Builds runs from their events (in seq order). */
export function foldRuns(rows: readonly EventRow[], file: string): Map<string, AuditRun> {
  const runs = new Map<string, AuditRun>();
  for (const row of rows) {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(row.payload) as Record<string, unknown>;
    } catch (error) {
      throw new AuditError(
        'AUDIT_CORRUPT',
        `audit trail ${file}: row ${row.seq} holds a payload that is not JSON`,
        {
          hint: 'run `posbridge history --verify`',
          details: { file, seq: row.seq },
          cause: error,
        },
      );
    }
    if (row.type === 'run-start') {
      const run: AuditRun = {
        runId: row.run_id,
        kind: payload.kind as AuditRunKind,
        port: payload.port as string,
        technician: payload.technician as string,
        station: payload.station as string,
        startedAt: row.at,
        outcome: 'unfinished',
        steps: [],
        auditHead: formatAnchor(row),
      };
      if (payload.terminal !== undefined) run.terminal = payload.terminal as TerminalIdentity;
      if (payload.merchant !== undefined) run.merchant = payload.merchant as string;
      if (payload.terminalNumber !== undefined) run.terminalNumber = payload.terminalNumber as string;
      if (payload.details !== undefined) run.details = payload.details as JsonObject;
      runs.set(row.run_id, run);
      continue;
    }
    const run = runs.get(row.run_id);
    if (run === undefined) continue; // no start row: verify() reports how the chain was cut
    run.auditHead = formatAnchor(row);
    switch (row.type) {
      case 'terminal':
        run.terminal = payload.terminal as TerminalIdentity;
        break;
      case 'step':
        run.steps.push({
          ...(payload as unknown as StepRecord),
          seq: row.seq,
          recordedAt: row.at,
        } satisfies AuditStep);
        break;
      case 'diagnostics':
        run.diagnostics = payload as unknown as AuditDiagnostics;
        break;
      case 'run-finish':
        run.finishedAt = row.at;
        run.outcome = payload.outcome as AuditRun['outcome'];
        if (payload.error !== undefined) run.error = payload.error as FinishRunInput['error'];
        if (payload.details !== undefined) run.finishDetails = payload.details as JsonObject;
        break;
    }
  }
  return runs;
}

/** The model the mock terminal says it is unless told otherwise (docs/mock.md, `--model`). */
export const MOCK_MODEL = 'PB-MOCK';

/** A `provision --dry-run`: it read the terminal and changed nothing. */
export function isDryRun(run: AuditRun): boolean {
  return run.details?.dryRun === true || run.outcome === 'planned';
}

/** A run on a mock terminal: an in-process mock:// one, or one that says it is the mock (a pty). */
export function isMockRun(run: AuditRun): boolean {
  return run.port.startsWith('mock://') || run.terminal?.model === MOCK_MODEL;
}

/** Whether the acquirer's report holds this run: real terminals, real changes, unless asked. */
export function inReport(run: AuditRun, query: ReportQuery): boolean {
  return (
    (query.includeDryRuns === true || !isDryRun(run)) && (query.includeMocks === true || !isMockRun(run))
  );
}

export function reportRow(run: AuditRun): AuditReportRow {
  return {
    runId: run.runId,
    sn: run.terminal?.sn ?? null,
    model: run.terminal?.model ?? null,
    port: run.port,
    merchant: run.merchant ?? null,
    terminal: run.terminalNumber ?? null,
    technician: run.technician,
    station: run.station,
    started: run.startedAt,
    finished: run.finishedAt ?? null,
    outcome: run.outcome,
    diagPass: run.diagnostics?.pass ?? null,
    diagWarn: run.diagnostics?.warn ?? null,
    diagFail: run.diagnostics?.fail ?? null,
    auditHead: run.auditHead,
  };
}
