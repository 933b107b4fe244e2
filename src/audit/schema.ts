/**
 * The SQLite schema of the audit trail.
 *
 * One append-only table, `events`: every run start, terminal identity, step, diagnostics and run
 * finish is a row, chained by hash. `runs` and `steps` are views over it, for people reading the
 * file with the sqlite3 shell; the store derives runs in code. `meta` holds the format marker,
 * the schema version and the chain head (seq and hash of the last row), updated in the same
 * transaction as each append, so deleting the last rows is detected too.
 *
 * Triggers refuse UPDATE and DELETE on `events`: they stop accidents, not an attacker (who can
 * drop them); the hash chain is what detects deliberate edits.
 */

export const FORMAT = 'posbridge-audit';
export const SCHEMA_VERSION = 1;
/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

export type EventType = 'run-start' | 'terminal' | 'step' | 'diagnostics' | 'run-finish';
export const EVENT_TYPES: readonly EventType[] = [
  'run-start',
  'terminal',
  'step',
  'diagnostics',
  'run-finish',
];

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS events (
  seq       INTEGER PRIMARY KEY,   -- 1, 2, 3... without gaps
  at        TEXT NOT NULL,         -- when it was written, ISO 8601 UTC with milliseconds
  run_id    TEXT NOT NULL,
  type      TEXT NOT NULL,         -- run-start | terminal | step | diagnostics | run-finish
  payload   TEXT NOT NULL,         -- canonical JSON
  prev_hash TEXT NOT NULL,         -- hash of row seq-1 (64 zeros for seq 1)
  hash      TEXT NOT NULL          -- sha256(prev_hash || canonical JSON {at,payload,run,seq,type})
) STRICT;

CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, type);
CREATE INDEX IF NOT EXISTS events_run_starts ON events (seq) WHERE type = 'run-start';
CREATE INDEX IF NOT EXISTS events_by_sn ON events (json_extract(payload, '$.terminal.sn'))
  WHERE type IN ('run-start', 'terminal');

CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE VIEW IF NOT EXISTS runs AS
SELECT
  s.run_id AS run_id,
  s.seq AS seq,
  s.at AS started_at,
  json_extract(s.payload, '$.kind') AS kind,
  json_extract(s.payload, '$.port') AS port,
  json_extract(s.payload, '$.technician') AS technician,
  json_extract(s.payload, '$.station') AS station,
  coalesce(json_extract(s.payload, '$.terminal.sn'),
    (SELECT json_extract(t.payload, '$.terminal.sn') FROM events t
      WHERE t.run_id = s.run_id AND t.type = 'terminal' ORDER BY t.seq DESC LIMIT 1)) AS sn,
  coalesce(json_extract(s.payload, '$.terminal.model'),
    (SELECT json_extract(t.payload, '$.terminal.model') FROM events t
      WHERE t.run_id = s.run_id AND t.type = 'terminal' ORDER BY t.seq DESC LIMIT 1)) AS model,
  json_extract(s.payload, '$.merchant') AS merchant,
  json_extract(s.payload, '$.terminalNumber') AS terminal_number,
  f.at AS finished_at,
  coalesce(json_extract(f.payload, '$.outcome'), 'unfinished') AS outcome
FROM events s
LEFT JOIN events f ON f.run_id = s.run_id AND f.type = 'run-finish'
WHERE s.type = 'run-start';

CREATE VIEW IF NOT EXISTS steps AS
SELECT
  seq,
  run_id,
  at AS recorded_at,
  json_extract(payload, '$.step') AS step,
  json_extract(payload, '$.outcome') AS outcome,
  json_extract(payload, '$.detail') AS detail,
  json_extract(payload, '$.startedAt') AS started_at,
  json_extract(payload, '$.finishedAt') AS finished_at
FROM events
WHERE type = 'step';
`;
