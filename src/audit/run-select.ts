/**
 * Which runs a history and a report select, said once for a station's own trail (table `events`,
 * one chain: queries.ts, store.ts) and a depot (table `records`, one chain per station:
 * depot-runs.ts), so that a depot's report holds the very rows each station's own would.
 *
 * A history picks runs by their `run-start` record: started at or after `@since` (an ISO time, ''
 * for all), of kind `@kind` (NULL for any), touching serial number `@sn` (NULL for any: the
 * terminal named at the start or identified later), newest first, at most `@limit` (-1: all).
 * A report is the provisioning runs of a history, oldest first, dry runs and mock terminals left
 * out unless asked for (runs.ts `inReport`).
 */
import { inReport, reportRow } from './runs.js';
import type { AuditReportRow, AuditRun, HistoryQuery, ReportQuery } from './types.js';

/** The table the records are read from: a station's trail or a depot. */
export type RunTable = 'events' | 'records';

/**
 * Newest first. In one chain a run-start's seq is the order the runs began; a depot holds many
 * chains, so by the time the run began, then station, then the run's place in its chain.
 */
const NEWEST_FIRST: Record<RunTable, string> = {
  events: 's.seq DESC',
  records: 's.at DESC, s.station DESC, s.seq DESC',
};

/** Each chain's records in chain order (foldRuns reads them so). */
const CHAIN_ORDER: Record<RunTable, string> = { events: 'seq', records: 'station, seq' };

/** The ids of the runs a history selects (parameters @since, @kind, @sn, @limit). */
export function runStartsSql(table: RunTable): string {
  return `
    SELECT s.run_id FROM ${table} s
    WHERE s.type = 'run-start'
      AND s.at >= @since
      AND (@kind IS NULL OR json_extract(s.payload, '$.kind') = @kind)
      AND (@sn IS NULL OR s.run_id IN (
        SELECT run_id FROM ${table}
        WHERE type IN ('run-start', 'terminal') AND json_extract(payload, '$.terminal.sn') = @sn))
    ORDER BY ${NEWEST_FIRST[table]}
    LIMIT @limit`;
}

/** Every record of the runs whose ids are given as one JSON array. */
export function recordsOfRunsSql(table: RunTable): string {
  return `
    SELECT seq, at, run_id, type, payload, prev_hash, hash FROM ${table}
    WHERE run_id IN (SELECT value FROM json_each(?))
    ORDER BY ${CHAIN_ORDER[table]}`;
}

/** The acquirer's report out of `history` (the trail's or the depot's): one row a run, oldest first. */
export function reportRows(
  history: (query: HistoryQuery) => AuditRun[],
  query: ReportQuery,
): AuditReportRow[] {
  return history({ kind: 'provision', ...(query.since && { since: query.since }) })
    .filter((run) => inReport(run, query))
    .reverse()
    .map(reportRow);
}
