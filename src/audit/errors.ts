/**
 * Errors of the audit trail: stable codes on the coded-error base every posbridge error shares
 * (src/protocol/coded-error.ts), a message that names the file, a hint for the person who has to
 * act. Like every error in posbridge, a message never holds a secret: the secret scrub names the
 * offending key path, never its value.
 */
import { CodedError, type CodedErrorOptions } from '../protocol/coded-error.js';

export type AuditErrorCode =
  /**
   * The SQLite module cannot load in this Node.js (built for another version, or never built):
   * nothing about the file is known (sqlite.ts).
   */
  | 'AUDIT_UNAVAILABLE'
  /** The file could not be opened or is not a posbridge audit trail (permissions, not SQLite...). */
  | 'AUDIT_OPEN_FAILED'
  /** The file was written by a newer posbridge (schema version we do not know). */
  | 'AUDIT_SCHEMA_UNSUPPORTED'
  /** The chain is broken (edited or deleted records) or SQLite reports a damaged file. */
  | 'AUDIT_CORRUPT'
  /** Another process held the write lock longer than the busy timeout. */
  | 'AUDIT_BUSY'
  /** SQLite could not write (disk full, I/O error, read-only file system). */
  | 'AUDIT_WRITE_FAILED'
  /** SQLite could not read. */
  | 'AUDIT_READ_FAILED'
  /** The record carries something that looks like a secret: refused, nothing was written. */
  | 'AUDIT_SECRET_REFUSED'
  /** The record is not plain JSON data, or a field has the wrong shape. */
  | 'AUDIT_INVALID'
  /** A step or finish names a run this file never started. */
  | 'AUDIT_UNKNOWN_RUN'
  /** A step or finish names a run that is already finished. */
  | 'AUDIT_RUN_FINISHED'
  /** The store was closed. */
  | 'AUDIT_CLOSED'
  /** The witness file (heads kept on other storage) cannot be opened, written or read. */
  | 'AUDIT_WITNESS_FAILED';

/** Details are machine-readable context (file, seq, key path...), never a secret. */
export type AuditErrorOptions = CodedErrorOptions;

/** On the one coded-error base, so its JSON is PosbridgeError's; not a PosbridgeError itself. */
export class AuditError extends CodedError<AuditErrorCode> {
  override name = 'AuditError';
}

export function isAuditError(value: unknown, code?: AuditErrorCode): value is AuditError {
  return value instanceof AuditError && (code === undefined || value.code === code);
}

/** The SQLite result code of a better-sqlite3 error (`SQLITE_BUSY`, `SQLITE_FULL`...), if any. */
function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * Turns an error thrown by better-sqlite3 while reading or writing `file` into an AuditError with
 * a code a caller can act on. AuditErrors pass through unchanged.
 */
export function fromSqliteError(error: unknown, file: string, doing: 'read' | 'write'): AuditError {
  if (error instanceof AuditError) return error;
  const code = sqliteCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  const details = { file, sqlite: code };
  if (code === 'SQLITE_BUSY' || code?.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED') {
    return new AuditError('AUDIT_BUSY', `audit trail ${file} is locked by another process (${reason})`, {
      hint: 'another posbridge process is writing the same audit trail; try again',
      details,
      cause: error,
    });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || /malformed JSON/i.test(reason)) {
    return new AuditError('AUDIT_CORRUPT', `audit trail ${file} is damaged: ${reason}`, {
      hint: 'run `posbridge history --verify`; keep the file as evidence and move it aside to start a new trail',
      details,
      cause: error,
    });
  }
  if (doing === 'write') {
    return new AuditError('AUDIT_WRITE_FAILED', `cannot write the audit trail ${file}: ${reason}`, {
      hint: 'check free disk space and that the file and its directory are writable by you',
      details,
      cause: error,
    });
  }
  return new AuditError('AUDIT_READ_FAILED', `cannot read the audit trail ${file}: ${reason}`, {
    details,
    cause: error,
  });
}
