/**
 * Opening a depot file (depot.ts): created owner-only, WAL journal, `synchronous=FULL` as the
 * audit trail is; a file that is not a depot (a station's own trail, anything else) is refused
 * with its name, and `isDepotFile` tells `posbridge report` which kind of file it was given.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { DEPOT_FORMAT, DEPOT_SCHEMA_SQL, DEPOT_SCHEMA_VERSION } from './depot-schema.js';
import { AuditError } from './errors.js';

/** True when `path` is a depot (not a station's own audit trail). */
export function isDepotFile(path: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(resolve(path), { readonly: true, fileMustExist: true });
    const row = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as
      | { value: string }
      | undefined;
    return row?.value === DEPOT_FORMAT;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

export function createFile(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new AuditError(
      'AUDIT_OPEN_FAILED',
      `cannot create the depot ${file}: ${(error as Error).message}`,
      {
        details: { file },
        cause: error,
      },
    );
  }
}

export function initialise(db: Database.Database, file: string, readonly: boolean): void {
  if (!readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const check = db.transaction(() => {
    const tables = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]
    ).map((t) => t.name);
    if (tables.length === 0 && !readonly) {
      db.exec(DEPOT_SCHEMA_SQL);
      const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      put.run('format', DEPOT_FORMAT);
      put.run('schema_version', String(DEPOT_SCHEMA_VERSION));
      return;
    }
    const format = tables.includes('meta')
      ? (db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: string } | undefined)
          ?.value
      : undefined;
    if (format !== DEPOT_FORMAT) {
      throw new AuditError('AUDIT_OPEN_FAILED', `${file} is not a posbridge depot`, {
        hint:
          format === 'posbridge-audit'
            ? "it is a station's own audit trail: give the collector a depot file of its own"
            : 'name a new file (it is created) or a depot that `posbridge fleet collect` made',
        details: { file },
      });
    }
    const version = Number(
      (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value,
    );
    if (version > DEPOT_SCHEMA_VERSION) {
      throw new AuditError(
        'AUDIT_SCHEMA_UNSUPPORTED',
        `depot ${file} has schema version ${version}; this posbridge reads up to ${DEPOT_SCHEMA_VERSION}`,
        { hint: 'use the newer posbridge that wrote it', details: { file, version } },
      );
    }
  });
  if (readonly) check.deferred();
  else check.immediate();
}
