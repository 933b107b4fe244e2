/**
 * Reading runs back: the history, runs with their steps, newest first, chosen by time, serial
 * number and kind, read in one snapshot.
 */
import type Database from 'better-sqlite3';
import { fromSqliteError } from './errors.js';
import { invalid, isoTime } from './record-input.js';
import { foldRuns } from './runs.js';
import type { Statements } from './store-open.js';
import { AUDIT_RUN_KINDS, type AuditRun, type HistoryQuery } from './types.js';
import type { EventRow } from './verify.js';

export function history(
  db: Database.Database,
  statements: Statements,
  file: string,
  query: HistoryQuery,
): AuditRun[] {
  const since = query.since === undefined ? '' : isoTime(query.since, 'since');
  const limit = query.limit ?? -1;
  if (!Number.isInteger(limit) || limit < -1) throw invalid('limit must be a whole number');
  if (query.kind !== undefined && !AUDIT_RUN_KINDS.includes(query.kind)) {
    throw invalid(`kind must be one of ${AUDIT_RUN_KINDS.join(', ')}`);
  }
  const read = db.transaction(() => {
    const ids = (
      statements.runIds.all({ since, sn: query.sn ?? null, kind: query.kind ?? null, limit }) as {
        run_id: string;
      }[]
    ).map((r) => r.run_id);
    if (ids.length === 0) return [];
    const rows = statements.eventsOfRuns.all(JSON.stringify(ids)) as EventRow[];
    const runs = foldRuns(rows, file);
    return ids.map((id) => runs.get(id)).filter((run): run is AuditRun => run !== undefined);
  });
  try {
    return read.deferred();
  } catch (error) {
    throw fromSqliteError(error, file, 'read');
  }
}
