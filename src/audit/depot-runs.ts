/**
 * Runs and the acquirer's report from a depot: the same folding as a station's own trail
 * (runs.ts), over the records of every station. A run's records all come from one station's
 * chain, so each run carries that station's own seq and hash (`auditHead`): a row of the depot's
 * report is the very row the station's own `posbridge report` gives.
 *
 * Order: by the time the run started, then station, then the run's place in its chain.
 */
import type Database from 'better-sqlite3';
import { AuditError, fromSqliteError } from './errors.js';
import { recordsOfRunsSql, reportRows, runStartsSql } from './run-select.js';
import { foldRuns } from './runs.js';
import {
  AUDIT_RUN_KINDS,
  type AuditReportRow,
  type AuditRun,
  type HistoryQuery,
  type ReportQuery,
} from './types.js';
import type { EventRow } from './verify.js';

const RUN_STARTS = runStartsSql('records');
const RECORDS_OF_RUNS = recordsOfRunsSql('records');

export function depotQueries(db: Database.Database, file: string) {
  const history = (query: HistoryQuery = {}): AuditRun[] => {
    const limit = query.limit ?? -1;
    if (!Number.isInteger(limit) || limit < -1)
      throw new AuditError('AUDIT_INVALID', 'limit must be a whole number');
    if (query.kind !== undefined && !AUDIT_RUN_KINDS.includes(query.kind))
      throw new AuditError('AUDIT_INVALID', `kind must be one of ${AUDIT_RUN_KINDS.join(', ')}`);
    const read = db.transaction(() => {
      const ids = (
        db.prepare(RUN_STARTS).all({
          since: query.since?.toISOString() ?? '',
          kind: query.kind ?? null,
          sn: query.sn ?? null,
          limit,
        }) as { run_id: string }[]
      ).map((r) => r.run_id);
      if (ids.length === 0) return [];
      const runs = foldRuns(db.prepare(RECORDS_OF_RUNS).all(JSON.stringify(ids)) as EventRow[], file);
      return ids.map((id) => runs.get(id)).filter((run): run is AuditRun => run !== undefined);
    });
    try {
      return read.deferred();
    } catch (error) {
      throw fromSqliteError(error, file, 'read');
    }
  };
  return { history, report: (query: ReportQuery = {}): AuditReportRow[] => reportRows(history, query) };
}
