/**
 * The witness file: every new head of the trail, appended as one `SEQ:HASH` line and fsynced, to
 * a file that should live on other storage (another disk, a network share, a file only another
 * account may change). Someone who cuts the trail and rewrites its head record must then also
 * rewrite the witness; `posbridge history --verify` reads it back as anchors (anchor.ts).
 *
 * Rules:
 * - Written after the row is committed, never before: each line names a row the trail held.
 * - Append-only (O_APPEND: each line is one write, whole, even with two writers), created 0600,
 *   never through a symbolic link, never in a directory that does not exist (a share that is not
 *   mounted must not quietly become a file on the local disk).
 * - A failed write does not stop the run that appended the row (the trail itself is intact):
 *   `onError` says so, and the next head written covers every row before it.
 */
import { closeSync, constants, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type AnchorLines, formatAnchor, parseAnchorLines } from './anchor.js';
import { AuditError } from './errors.js';
import type { HeadWitness } from './store.js';
import type { ChainAnchor } from './types.js';

export interface AuditWitnessOptions {
  /** A head could not be written (full disk, share gone): say so; the run goes on. */
  onError?: (error: AuditError) => void;
}

export class AuditWitness implements HeadWitness {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    fd: number,
    private readonly onError: (error: AuditError) => void,
  ) {
    this.fd = fd;
  }

  /**
   * Opens `path` for appending, creating it (0600) if absent. Throws AUDIT_WITNESS_FAILED naming
   * the file when its directory is missing, it is a symbolic link, or it cannot be written.
   */
  static open(path: string, options: AuditWitnessOptions = {}): AuditWitness {
    const file = resolve(path);
    let fd: number;
    try {
      fd = openSync(
        file,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
        0o600,
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AuditError(
        'AUDIT_WITNESS_FAILED',
        `cannot open the audit witness ${file}: ${reason(code, error)}`,
        {
          hint:
            code === 'ENOENT'
              ? `create the directory ${dirname(file)} (on other storage than the audit trail), or mount it`
              : code === 'ELOOP'
                ? 'name the file itself, not a symbolic link to it'
                : 'check that the file and its directory are writable by you',
          details: { file },
          cause: error,
        },
      );
    }
    try {
      // A new file's name must survive a crash too: fsync the directory that holds it.
      const dir = openSync(dirname(file), constants.O_RDONLY);
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch {
      // Some file systems refuse fsync on a directory; the line's own fsync still holds.
    }
    return new AuditWitness(file, fd, options.onError ?? (() => undefined));
  }

  /** Appends `SEQ:HASH` and fsyncs; never throws (see onError). */
  record(anchor: ChainAnchor): void {
    if (this.fd === undefined) return;
    const line = Buffer.from(`${formatAnchor(anchor)}\n`);
    try {
      let written = 0;
      while (written < line.length) written += writeSync(this.fd, line, written);
      fsyncSync(this.fd);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.onError(
        new AuditError(
          'AUDIT_WITNESS_FAILED',
          `cannot append head ${formatAnchor(anchor)} to the audit witness ${this.file}: ${reason(code, error)}`,
          {
            hint: 'the audit trail itself is intact; the next head written covers this one once the witness can be written again',
            details: { file: this.file, seq: anchor.seq },
            cause: error,
          },
        ),
      );
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The heads of a witness file (or a file of heads collected by hand), each from `NAME line N`
 * (NAME: the absolute path unless given); undefined when the file does not exist. Throws
 * AUDIT_WITNESS_FAILED when it cannot be read.
 */
export function readAnchorFile(path: string, name?: string): AnchorLines | undefined {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new AuditError('AUDIT_WITNESS_FAILED', `cannot read the heads in ${file}: ${reason(code, error)}`, {
      details: { file },
      cause: error,
    });
  }
  return parseAnchorLines(text, name ?? file);
}

function reason(code: string | undefined, error: unknown): string {
  if (code === 'ENOENT') return 'its directory does not exist';
  if (code === 'ELOOP') return 'it is a symbolic link';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? (error as Error).message;
}
