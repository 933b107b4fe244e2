/**
 * Opening the audit trail's file: its directory (0700) and the file (0600) created unless read
 * only, the SQLite database in WAL mode with `synchronous=FULL`, the schema created on a new file
 * and checked on an existing one (format, schema version), and the statements the store runs.
 * Every failure names the file (AUDIT_OPEN_FAILED, AUDIT_SCHEMA_UNSUPPORTED, AUDIT_CORRUPT).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { AuditError, fromSqliteError } from './errors.js';
import { recordsOfRunsSql, runStartsSql } from './run-select.js';
import { FORMAT, GENESIS_HASH, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { loadSqlite, openSqlite } from './sqlite.js';

export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

type Statement = Database.Statement;

/** The prepared statements the store runs, by what they do. */
export interface Statements {
  head: Statement;
  setHead: Statement;
  last: Statement;
  runState: Statement;
  insert: Statement;
  all: Statement;
  /** Records after a seq, as chained (recordsAfter). */
  after: Statement;
  runIds: Statement;
  eventsOfRuns: Statement;
}

/**
 * The database at `file` (an absolute path), initialised and checked. `busyTimeoutMs`: how long a
 * writer waits for another process's transaction.
 */
export function openDatabase(file: string, readonly: boolean, busyTimeoutMs: number): Database.Database {
  loadSqlite(); // AUDIT_UNAVAILABLE before any file is made (sqlite.ts)
  if (!readonly) prepareFile(file);
  let db: Database.Database;
  try {
    db = openSqlite(file, {
      readonly,
      fileMustExist: readonly,
      timeout: busyTimeoutMs,
    });
  } catch (error) {
    throw new AuditError(
      'AUDIT_OPEN_FAILED',
      readonly && (error as { code?: string }).code === 'SQLITE_CANTOPEN'
        ? `no audit trail at ${file}`
        : `cannot open the audit trail ${file}: ${(error as Error).message}`,
      { details: { file }, cause: error },
    );
  }
  try {
    initialise(db, file, readonly);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof AuditError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY') throw fromSqliteError(error, file, 'write');
    throw new AuditError(
      'AUDIT_OPEN_FAILED',
      `cannot open the audit trail ${file}: ${(error as Error).message}`,
      {
        hint:
          code === 'SQLITE_NOTADB'
            ? 'the file is not an SQLite database; was another file given?'
            : undefined,
        details: { file, sqlite: code },
        cause: error,
      },
    );
  }
}

function prepareFile(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new AuditError(
      'AUDIT_OPEN_FAILED',
      `cannot create the directory of the audit trail ${file}: ${(error as Error).message}`,
      {
        details: { file },
        cause: error,
      },
    );
  }
  try {
    // Created owner-only; an existing file keeps the mode its owner gave it.
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new AuditError(
      'AUDIT_OPEN_FAILED',
      `cannot create the audit trail ${file}: ${(error as Error).message}`,
      {
        details: { file },
        cause: error,
      },
    );
  }
}

function initialise(db: Database.Database, file: string, readonly: boolean): void {
  if (!readonly) {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      throw new AuditError(
        'AUDIT_OPEN_FAILED',
        `cannot use a WAL journal for the audit trail ${file} (got ${String(mode)})`,
        {
          hint: 'keep the audit trail on a local file system (WAL does not work on network file systems)',
          details: { file },
        },
      );
    }
  }
  db.pragma('synchronous = FULL');
  const check = db.transaction(() => {
    const tables = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]
    ).map((t) => t.name);
    if (!tables.includes('meta')) {
      if (tables.length > 0 || readonly) {
        throw new AuditError('AUDIT_OPEN_FAILED', `${file} is not a posbridge audit trail`, {
          details: { file },
        });
      }
      db.exec(SCHEMA_SQL);
      const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      put.run('format', FORMAT);
      put.run('schema_version', String(SCHEMA_VERSION));
      put.run('head', JSON.stringify({ seq: 0, hash: GENESIS_HASH }));
      return;
    }
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [
        r.key,
        r.value,
      ]),
    );
    if (meta.get('format') !== FORMAT || !tables.includes('events')) {
      throw new AuditError('AUDIT_OPEN_FAILED', `${file} is not a posbridge audit trail`, {
        details: { file },
      });
    }
    const version = Number(meta.get('schema_version'));
    if (!Number.isInteger(version) || version < 1) {
      throw new AuditError('AUDIT_CORRUPT', `audit trail ${file} has no valid schema version`, {
        details: { file },
      });
    }
    if (version > SCHEMA_VERSION) {
      throw new AuditError(
        'AUDIT_SCHEMA_UNSUPPORTED',
        `audit trail ${file} has schema version ${version}; this posbridge reads up to ${SCHEMA_VERSION}`,
        { hint: 'use the newer posbridge that wrote it', details: { file, version } },
      );
    }
  });
  if (readonly) check.deferred();
  else check.immediate();
}

export function prepareStatements(db: Database.Database): Statements {
  return {
    head: db.prepare("SELECT value FROM meta WHERE key = 'head'"),
    setHead: db.prepare("UPDATE meta SET value = ? WHERE key = 'head'"),
    last: db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1'),
    runState: db.prepare("SELECT type FROM events WHERE run_id = ? AND type IN ('run-start', 'run-finish')"),
    insert: db.prepare(
      'INSERT INTO events (seq, at, run_id, type, payload, prev_hash, hash) VALUES (@seq, @at, @run_id, @type, @payload, @prev_hash, @hash)',
    ),
    all: db.prepare('SELECT seq, at, run_id, type, payload, prev_hash, hash FROM events ORDER BY seq'),
    after: db.prepare(
      'SELECT seq, at, run_id AS run, type, payload, prev_hash AS prevHash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    runIds: db.prepare(runStartsSql('events')),
    eventsOfRuns: db.prepare(recordsOfRunsSql('events')),
  };
}
