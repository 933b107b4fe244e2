/**
 * A depot: one SQLite file holding the audit chains of many stations (docs/fleet.md), filled by
 * `posbridge fleet collect` from what the stations publish. Each record arrives on its own, maybe
 * twice (MQTT QoS 1), maybe out of order (a shared subscription, a replay), maybe forged (anyone
 * who may publish on the broker). `accept()` decides, in one transaction:
 *
 * - the record that follows the station's head and chains to it (verify.ts `checkLink`, the very
 *   check `posbridge history --verify` makes) is appended, then every held record that now
 *   follows;
 * - a record the depot already holds, byte for byte, is a duplicate and changes nothing;
 * - a record past a gap is held until the gap is filled (never part of a chain or report before);
 * - a record that does not chain (forged hash, wrong link, bad payload) or contradicts one the
 *   depot holds is refused: kept in `refused` as evidence, reported, never silently accepted.
 *
 * Several collectors may write one depot file (a shared subscription): the write lock is taken
 * before the head is read, as in the audit store, so two processes never fork a chain.
 */
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createFile, initialise } from './depot-file.js';
import { depotQueries } from './depot-runs.js';
import { AuditError, fromSqliteError } from './errors.js';
import { recordOfRow, rowHash, rowOfRecord } from './record.js';
import { GENESIS_HASH } from './schema.js';
import type {
  AuditReportRow,
  AuditRun,
  ChainAnchor,
  ChainRecord,
  HistoryQuery,
  ReportQuery,
  VerifyProblemKind,
} from './types.js';
import { checkLink, type EventRow, walkChain } from './verify.js';

export type DepotAccept =
  /**
   * Appended: this record and the held ones it let through, in order; `refused`: a held record
   * that turned out not to chain (it stays out, as evidence, and is reported with this result).
   */
  | {
      kind: 'appended';
      station: string;
      records: ChainRecord[];
      refused?: { seq: number; problem: DepotProblemKind; message: string };
    }
  | { kind: 'duplicate'; station: string; seq: number }
  /** Past a gap: records `missingFrom`..seq-1 of the station have not arrived. */
  | { kind: 'held'; station: string; seq: number; missingFrom: number }
  | { kind: 'refused'; station: string; seq: number; problem: DepotProblemKind; message: string };

/** Why a record was refused: a chain problem, or a second, different record for a seq. */
export type DepotProblemKind = VerifyProblemKind | 'conflict';

export interface DepotStation {
  station: string;
  head: ChainAnchor;
  /** Records waiting for a gap to be filled. */
  held: number;
  /** The first seq missing before the held records (head.seq + 1), when some are held. */
  missingFrom?: number;
  refused: number;
  /** Where its records come from (a topic prefix). */
  source?: string;
  lastReceivedAt: string;
}

export interface DepotRefusal {
  station: string;
  seq: number;
  hash: string;
  problem: DepotProblemKind;
  message: string;
  receivedAt: string;
}

export interface DepotOptions {
  readonly?: boolean;
  busyTimeoutMs?: number;
  /** The clock for `received_at`. */
  now?: () => Date;
}

interface Row extends EventRow {
  station: string;
}

export class DepotStore {
  private readonly statements: ReturnType<typeof prepare>;
  private readonly acceptTx: Database.Transaction<
    (station: string, record: ChainRecord, source: string | null) => DepotAccept
  >;
  private readonly now: () => Date;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    options: DepotOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.statements = prepare(db);
    this.acceptTx = db.transaction((station: string, record: ChainRecord, source: string | null) =>
      this.acceptIn(station, record, source),
    );
  }

  /** Opens (creating it 0600, unless `readonly`) the depot at `path`. Errors name the file. */
  static open(path: string, options: DepotOptions = {}): DepotStore {
    const file = resolve(path);
    const readonly = options.readonly ?? false;
    if (!readonly) createFile(file);
    let db: Database.Database;
    try {
      db = new Database(file, {
        readonly,
        fileMustExist: readonly,
        timeout: options.busyTimeoutMs ?? 10_000,
      });
    } catch (error) {
      throw new AuditError(
        'AUDIT_OPEN_FAILED',
        `cannot open the depot ${file}: ${(error as Error).message}`,
        {
          details: { file },
          cause: error,
        },
      );
    }
    try {
      initialise(db, file, readonly);
      return new DepotStore(db, file, options);
    } catch (error) {
      db.close();
      if (error instanceof AuditError) throw error;
      throw fromSqliteError(error, file, readonly ? 'read' : 'write');
    }
  }

  /**
   * Takes one record of `station`'s chain (see the top of this file). `source`: where it came
   * from (the topic prefix); a station's first record fixes it, and a record of the same station
   * from elsewhere is refused (someone else speaking for the station).
   */
  accept(station: string, record: ChainRecord, source?: string): DepotAccept {
    if (typeof station !== 'string' || station.length === 0 || station.length > 128)
      throw new AuditError('AUDIT_INVALID', 'a depot record needs a station name of 1 to 128 characters');
    try {
      return this.acceptTx.immediate(station, record, source ?? null);
    } catch (error) {
      throw fromSqliteError(error, this.file, 'write');
    }
  }

  /** The station's last record in the depot (seq 0 and the genesis hash before its first). */
  head(station: string): ChainAnchor {
    const row = this.statements.station.get(station) as { head_seq: number; head_hash: string } | undefined;
    return row ? { seq: row.head_seq, hash: row.head_hash } : { seq: 0, hash: GENESIS_HASH };
  }

  stations(): DepotStation[] {
    const rows = this.statements.stations.all() as Array<{
      station: string;
      head_seq: number;
      head_hash: string;
      source: string | null;
      last_received_at: string;
      held: number;
      refused: number;
    }>;
    return rows.map((r) => ({
      station: r.station,
      head: { seq: r.head_seq, hash: r.head_hash },
      held: r.held,
      ...(r.held > 0 && { missingFrom: r.head_seq + 1 }),
      refused: r.refused,
      ...(r.source !== null && { source: r.source }),
      lastReceivedAt: r.last_received_at,
    }));
  }

  refusals(): DepotRefusal[] {
    return (this.statements.refusals.all() as Array<Record<string, string | number>>).map((r) => ({
      station: r.station as string,
      seq: r.seq as number,
      hash: r.hash as string,
      problem: r.problem as DepotProblemKind,
      message: r.message as string,
      receivedAt: r.received_at as string,
    }));
  }

  /** Walks each station's chain from its first record, as `history --verify` walks a trail. */
  verify(): Array<{
    station: string;
    ok: boolean;
    rows: number;
    problem?: { kind: string; message: string };
  }> {
    return this.stations().map(({ station, head }) => {
      const result = walkChain(
        `${this.file} (station ${station})`,
        () => this.statements.chain.iterate(station) as IterableIterator<EventRow>,
        () => head,
        [],
        rowHash,
      );
      return {
        station,
        ok: result.ok,
        rows: result.rows,
        ...(result.problem && { problem: { kind: result.problem.kind, message: result.problem.message } }),
      };
    });
  }

  /** Runs of every station, newest first (as AuditStore.history). */
  history(query: HistoryQuery = {}): AuditRun[] {
    return depotQueries(this.db, this.file).history(query);
  }

  /** One row per provisioning run of every station, oldest first: the acquirer's one file. */
  report(query: ReportQuery = {}): AuditReportRow[] {
    return depotQueries(this.db, this.file).report(query);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Inside BEGIN IMMEDIATE: no other writer moves a head meanwhile. */
  private acceptIn(station: string, record: ChainRecord, source: string | null): DepotAccept {
    const s = this.statements;
    const head = this.head(station);
    const known = s.station.get(station) as { source: string | null } | undefined;
    const receivedAt = this.now().toISOString();
    const row = { ...rowOfRecord(record), station, received_at: receivedAt };
    const refuse = (problem: DepotProblemKind, message: string): DepotAccept => {
      s.refuse.run({ ...row, problem, message: `station ${station}: ${message}` });
      this.touch(station, head, receivedAt, known ? known.source : source);
      return {
        kind: 'refused',
        station,
        seq: record.seq,
        problem,
        message: `station ${station}: ${message}`,
      };
    };
    if (known?.source != null && source !== null && known.source !== source)
      return refuse(
        'conflict',
        `record ${record.seq} came from ${source}, but this station's records come from ${known.source}: someone else speaks for the station`,
      );
    if (!Number.isInteger(record.seq) || record.seq < 1)
      return refuse('bad-row', `record ${record.seq} has no valid seq`);
    if (record.seq <= head.seq) {
      const held = s.record.get(station, record.seq) as Row;
      return held.hash === record.hash
        ? { kind: 'duplicate', station, seq: record.seq }
        : refuse('conflict', conflictMessage(record, held.hash, 'holds'));
    }
    if (record.seq > head.seq + 1) {
      const waiting = s.heldAt.get(station, record.seq) as Row | undefined;
      if (waiting) {
        return waiting.hash === record.hash
          ? { kind: 'duplicate', station, seq: record.seq }
          : refuse('conflict', conflictMessage(record, waiting.hash, 'already holds back'));
      }
      s.hold.run(row);
      this.touch(station, head, receivedAt, known?.source ?? source);
      return { kind: 'held', station, seq: record.seq, missingFrom: head.seq + 1 };
    }
    const problem = checkLink(head, row, rowHash);
    if (problem) return refuse(problem.kind, problem.message);
    const appended = [record];
    s.append.run(row);
    let last: ChainAnchor = { seq: record.seq, hash: record.hash };
    let refused: { seq: number; problem: DepotProblemKind; message: string } | undefined;
    for (;;) {
      const next = s.heldAt.get(station, last.seq + 1) as Row | undefined;
      if (!next) break;
      s.unhold.run(station, next.seq);
      const broken = checkLink(last, next, rowHash);
      if (broken) {
        const message = `station ${station}: ${broken.message}`;
        s.refuse.run({ ...next, problem: broken.kind, message });
        refused = { seq: next.seq, problem: broken.kind, message };
        break;
      }
      s.append.run(next);
      appended.push(recordOfRow(next));
      last = { seq: next.seq, hash: next.hash };
    }
    this.touch(station, last, receivedAt, known?.source ?? source);
    return { kind: 'appended', station, records: appended, ...(refused && { refused }) };
  }

  private touch(station: string, head: ChainAnchor, at: string, source: string | null): void {
    this.statements.setHead.run({ station, seq: head.seq, hash: head.hash, at, source });
  }
}

function conflictMessage(record: ChainRecord, kept: string, verb: string): string {
  return `record ${record.seq} (hash ${record.hash.slice(0, 16)}...) differs from the record ${record.seq} the depot ${verb} (hash ${kept.slice(0, 16)}...): two different records claim the same place in the chain`;
}

function prepare(db: Database.Database) {
  const columns = 'station, seq, at, run_id, type, payload, prev_hash, hash, received_at';
  const values = '@station, @seq, @at, @run_id, @type, @payload, @prev_hash, @hash, @received_at';
  return {
    station: db.prepare('SELECT head_seq, head_hash, source FROM stations WHERE station = ?'),
    setHead: db.prepare(
      `INSERT INTO stations (station, head_seq, head_hash, source, last_received_at)
       VALUES (@station, @seq, @hash, @source, @at)
       ON CONFLICT (station) DO UPDATE SET head_seq = @seq, head_hash = @hash, source = @source, last_received_at = @at`,
    ),
    record: db.prepare('SELECT * FROM records WHERE station = ? AND seq = ?'),
    heldAt: db.prepare(`SELECT ${columns} FROM held WHERE station = ? AND seq = ?`),
    append: db.prepare(`INSERT INTO records (${columns}) VALUES (${values})`),
    hold: db.prepare(`INSERT INTO held (${columns}) VALUES (${values})`),
    unhold: db.prepare('DELETE FROM held WHERE station = ? AND seq = ?'),
    refuse: db.prepare(
      `INSERT INTO refused (${columns}, problem, message) VALUES (${values}, @problem, @message)`,
    ),
    stations: db.prepare(`
      SELECT s.station, s.head_seq, s.head_hash, s.source, s.last_received_at,
        (SELECT count(*) FROM held h WHERE h.station = s.station) AS held,
        (SELECT count(*) FROM refused r WHERE r.station = s.station) AS refused
      FROM stations s ORDER BY s.station`),
    refusals: db.prepare('SELECT * FROM refused ORDER BY id'),
    chain: db.prepare(
      'SELECT seq, at, run_id, type, payload, prev_hash, hash FROM records WHERE station = ? ORDER BY seq',
    ),
  };
}
