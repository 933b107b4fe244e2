/**
 * A chain record as the outside world sees it (ChainRecord: a forwarder's message, a depot's
 * row) and as SQLite rows hold it (EventRow), and the hash each must carry (store.ts, "Tamper
 * evidence"). One conversion each way, so a record that crossed a broker is checked exactly as
 * a row of the trail is.
 */
import { chainHash } from './store.js';
import type { ChainRecord } from './types.js';
import type { EventRow, RowHasher } from './verify.js';

export function recordOfRow(row: EventRow): ChainRecord {
  return {
    seq: row.seq,
    at: row.at,
    run: row.run_id,
    type: row.type,
    payload: row.payload,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function rowOfRecord(record: ChainRecord): EventRow {
  return {
    seq: record.seq,
    at: record.at,
    run_id: record.run,
    type: record.type,
    payload: record.payload,
    prev_hash: record.prevHash,
    hash: record.hash,
  };
}

/** The hash a row must have, given the previous row's (what verify() recomputes). */
export const rowHash: RowHasher = (prevHash, row) => chainHash(prevHash, { ...row, runId: row.run_id });
