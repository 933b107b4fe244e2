/**
 * The SQLite schema of a depot (docs/fleet.md, "The depot file"): the audit records of many
 * stations, each kept with the seq, prev_hash and hash its own trail gave it, so each station's
 * chain can be checked in the depot exactly as in the station's own file.
 *
 * - `records`: the chains, one per station, append-only (primary key station + seq).
 * - `stations`: each station's head (last seq and hash), moved in the transaction that appends,
 *   and where its records come from (`source`: a broker's access rules protect a topic, not the
 *   station name a message claims, so a station's records must all come from one place).
 * - `held`: records that arrived before the ones they follow (a gap); they join `records` once
 *   the gap is filled and they chain, never before.
 * - `refused`: records that do not chain (a forged or broken hash, a link to the wrong record) or
 *   contradict one the depot holds: kept as evidence, never part of a chain or a report.
 */

export const DEPOT_FORMAT = 'posbridge-depot';
export const DEPOT_SCHEMA_VERSION = 1;

const RECORD_COLUMNS = `
  station   TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  at        TEXT NOT NULL,
  run_id    TEXT NOT NULL,
  type      TEXT NOT NULL,
  payload   TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL,
  received_at TEXT NOT NULL`;

export const DEPOT_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS stations (
  station   TEXT PRIMARY KEY,
  head_seq  INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  source    TEXT,                  -- where its records come from (a topic prefix); one per station
  last_received_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS records (${RECORD_COLUMNS},
  PRIMARY KEY (station, seq)
) STRICT;

CREATE TABLE IF NOT EXISTS held (${RECORD_COLUMNS},
  PRIMARY KEY (station, seq)
) STRICT;

CREATE TABLE IF NOT EXISTS refused (
  id INTEGER PRIMARY KEY,${RECORD_COLUMNS},
  problem   TEXT NOT NULL,
  message   TEXT NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS records_by_run ON records (run_id, type);
CREATE INDEX IF NOT EXISTS records_run_starts ON records (at) WHERE type = 'run-start';

CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'the depot is append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'the depot is append-only'); END;
`;
