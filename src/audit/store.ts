/**
 * The audit trail (docs/daemon.md, "The audit trail and its witness"): every provision, diag,
 * passwd and operator run and each of its steps, with technician, station, terminal identity,
 * times, outcome and diagnostics; never a secret.
 *
 * Storage: one SQLite file (better-sqlite3), WAL journal, `synchronous=FULL`. Every call that
 * records something is one `BEGIN IMMEDIATE` transaction, committed (and fsynced) before the call
 * returns: a process killed with SIGKILL, or a machine losing power, keeps every completed call.
 * Two processes (the CLI in-process and the daemon) may write the same file: the write lock is
 * taken before the chain head is read, so appends are serialised and the chain never forks; a
 * writer waits up to the busy timeout for the other, then fails with AUDIT_BUSY.
 *
 * Tamper evidence: every row holds `hash = sha256(prev_hash || canonical JSON of {at, payload,
 * run, seq, type})`, `prev_hash` being the previous row's hash (64 zeros for seq 1), and seq runs
 * 1, 2, 3... without gaps. `meta.head` holds the seq and hash of the last row, written in the same
 * transaction. `verify()` recomputes every hash and reports the first edited row, the first
 * missing seq, or a tail that stops before the recorded head (the last rows deleted).
 *
 * Limits, honestly: the chain proves integrity only against someone who cannot rewrite the whole
 * file. Whoever can write the file can delete rows and rewrite `meta.head`, or recompute every
 * hash from the point of an edit onwards: nothing inside the file can tell. Deleting the whole
 * file (or every row and the head) is not detected by the file itself either. What does detect
 * it is a copy of the head kept elsewhere: `head()` gives `{seq, hash}`, `finishRun()` the head
 * right after a run (its report carries it), a `witness` gets every new head (witness.ts), and
 * `verify({ anchors })` later checks that the trail still holds each such row with that hash
 * (anchor.ts, verify.ts). The UPDATE/DELETE triggers only stop accidents.
 *
 * Beside it: store-open.ts opens and checks the file, chain.ts appends a row to the chain,
 * record-input.ts checks what a caller records, queries.ts reads the history back, verify.ts
 * walks the chain.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { StepRecord, TerminalIdentity } from '../host/workflow/report.js';
import type { DiagCheckResult } from '../host/workflow/terminal-ops.js';
import { canonicalJson } from './canonical.js';
import { type AppendInput, appendInTransaction, chainHash } from './chain.js';
import { AuditError, fromSqliteError } from './errors.js';
import { history } from './queries.js';
import {
  diagnosticsPayload,
  finishPayload,
  isoTime,
  requireText,
  runStartPayload,
  stepPayload,
  terminalOf,
} from './record-input.js';
import { reportRows } from './run-select.js';
import type { EventType } from './schema.js';
import { assertNoSecrets } from './scrub.js';
import { DEFAULT_BUSY_TIMEOUT_MS, openDatabase, prepareStatements, type Statements } from './store-open.js';
import type {
  AuditReportRow,
  AuditRun,
  ChainAnchor,
  ChainRecord,
  FinishRunInput,
  HistoryQuery,
  ReportQuery,
  StartRunInput,
  VerifyResult,
} from './types.js';
import { type EventRow, walkChain } from './verify.js';

export { chainHash } from './chain.js';
export { DEFAULT_BUSY_TIMEOUT_MS } from './store-open.js';

export interface AuditStoreOptions {
  /** The clock for the `at` of each row. */
  now?: () => Date;
  /** How long a writer waits for another process's transaction (default 10 s). */
  busyTimeoutMs?: number;
  /** Open for reading only (history, report, verify); the file must exist. */
  readonly?: boolean;
  /** Makes run IDs (default: random UUIDs). */
  newRunId?: () => string;
  /** Told how long each record took to commit, in seconds (the daemon's /metrics). */
  onAppend?: (seconds: number) => void;
  /**
   * Told each new head once its row is committed (an AuditWitness appends it to a file on other
   * storage, witness.ts). Called after the commit, never before: a witness never names a row the
   * trail may not hold. It must not throw.
   */
  witness?: HeadWitness;
}

/** Where each new head goes, once committed. */
export interface HeadWitness {
  record(anchor: ChainAnchor): void;
}

export class AuditStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly newRunId: () => string;
  private readonly witness: HeadWitness | undefined;
  private readonly statements: Statements;
  private readonly appendTx: Database.Transaction<(input: AppendInput) => ChainAnchor>;

  /**
   * Opens (creating it, its directory 0700 and the file 0600, unless `readonly`) the audit trail
   * at `path`. Throws AUDIT_OPEN_FAILED naming the file when it cannot be opened or is not a
   * posbridge audit trail, AUDIT_SCHEMA_UNSUPPORTED when a newer posbridge wrote it (store-open.ts).
   */
  static open(path: string, options: AuditStoreOptions = {}): AuditStore {
    const file = resolve(path);
    const db = openDatabase(
      file,
      options.readonly ?? false,
      options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    );
    return new AuditStore(db, file, options);
  }

  private readonly onAppend: ((seconds: number) => void) | undefined;

  private constructor(db: Database.Database, file: string, options: AuditStoreOptions) {
    this.db = db;
    this.file = file;
    this.now = options.now ?? (() => new Date());
    this.newRunId = options.newRunId ?? randomUUID;
    this.witness = options.witness;
    this.onAppend = options.onAppend;
    this.statements = prepareStatements(db);
    this.appendTx = db.transaction((input: AppendInput) =>
      appendInTransaction(this.statements, this.file, input),
    );
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Records the start of a run; returns its ID. */
  startRun(input: StartRunInput): string {
    assertNoSecrets(input, 'run');
    const payload = runStartPayload(input);
    const runId = this.newRunId();
    this.append(runId, 'run-start', payload);
    return runId;
  }

  /** Records the identity of the terminal a run works on, once it is known (after HELLO). */
  recordTerminal(runId: string, terminal: TerminalIdentity): void {
    assertNoSecrets(terminal, 'terminal');
    this.append(runId, 'terminal', { terminal: terminalOf(terminal, 'terminal') });
  }

  /** Records one step as it finishes. */
  recordStep(runId: string, step: StepRecord): void {
    assertNoSecrets(step, 'step');
    this.append(runId, 'step', stepPayload(step));
  }

  /** Records the results of the terminal's self-diagnostics (counts derived from the results). */
  recordDiagnostics(runId: string, results: readonly DiagCheckResult[]): void {
    assertNoSecrets(results, 'diagnostics');
    this.append(runId, 'diagnostics', diagnosticsPayload(results));
  }

  /**
   * Records the end of a run. A run finishes once. Returns the run's last row, the head of the
   * trail right after it: the anchor its report carries.
   */
  finishRun(runId: string, input: FinishRunInput): ChainAnchor {
    assertNoSecrets(input, 'finish');
    return this.append(runId, 'run-finish', finishPayload(input));
  }

  /** The last row of the chain: keep it elsewhere to detect a rewrite of the whole file later. */
  head(): ChainAnchor {
    this.ensureOpen();
    try {
      const head = this.statements.head.get() as { value: string } | undefined;
      if (head === undefined) {
        throw new AuditError('AUDIT_CORRUPT', `audit trail ${this.file} has lost its chain head record`, {
          details: { file: this.file },
        });
      }
      return JSON.parse(head.value) as ChainAnchor;
    } catch (error) {
      throw fromSqliteError(error, this.file, 'read');
    }
  }

  /**
   * Walks the whole chain in one read snapshot and reports the first problem: an edited row
   * (hash mismatch, broken link), a deleted row (gap in seq), deleted last rows (tail shorter than
   * the head recorded in meta), or a row that differs from an anchor kept elsewhere.
   */
  verify(options: { anchors?: readonly ChainAnchor[] } = {}): VerifyResult {
    this.ensureOpen();
    const s = this.statements;
    const read = this.db.transaction(() =>
      walkChain(
        this.file,
        () => s.all.iterate() as IterableIterator<EventRow>,
        () => {
          const head = s.head.get() as { value: string } | undefined;
          return head === undefined ? undefined : (JSON.parse(head.value) as ChainAnchor);
        },
        options.anchors ?? [],
        (prevHash, row) => chainHash(prevHash, { ...row, runId: row.run_id }),
      ),
    );
    try {
      return read.deferred();
    } catch (error) {
      throw fromSqliteError(error, this.file, 'read');
    }
  }

  /** Like verify(), but throws AUDIT_CORRUPT naming the file and the seq when the chain is broken. */
  assertIntact(options: { anchors?: readonly ChainAnchor[] } = {}): VerifyResult {
    const result = this.verify(options);
    if (!result.ok && result.problem) {
      throw new AuditError(
        'AUDIT_CORRUPT',
        `audit trail ${this.file} fails verification: ${result.problem.message}`,
        {
          hint: 'the trail was edited outside posbridge; keep the file as evidence',
          details: { file: this.file, ...result.problem },
        },
      );
    }
    return result;
  }

  /**
   * At most `limit` records after record `seq`, in order, exactly as chained: what a forwarder
   * sends on (src/daemon/mqtt), from wherever its reader last stopped.
   */
  recordsAfter(seq: number, limit: number): ChainRecord[] {
    this.ensureOpen();
    if (!Number.isInteger(seq) || seq < 0 || !Number.isInteger(limit) || limit < 1)
      throw new AuditError('AUDIT_INVALID', 'recordsAfter takes a record number and a positive limit');
    try {
      return this.statements.after.all(seq, limit) as ChainRecord[];
    } catch (error) {
      throw fromSqliteError(error, this.file, 'read');
    }
  }

  /** Runs with their steps, newest first. */
  history(query: HistoryQuery = {}): AuditRun[] {
    this.ensureOpen();
    return history(this.db, this.statements, this.file, query);
  }

  /** One row per provisioning run, oldest first: what the acquirer gets (runs.ts `inReport`). */
  report(query: ReportQuery = {}): AuditReportRow[] {
    return reportRows((q) => this.history(q), query);
  }

  /** Closes the file (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private ensureOpen(): void {
    if (!this.db.open) {
      throw new AuditError('AUDIT_CLOSED', `the audit trail ${this.file} is closed`, {
        details: { file: this.file },
      });
    }
  }

  private append(runId: string, type: EventType, payload: Record<string, unknown>): ChainAnchor {
    this.ensureOpen();
    requireText(runId, 'runId');
    const text = canonicalJson(payload, type);
    const at = isoTime(this.now(), 'the clock');
    let head: ChainAnchor;
    const started = performance.now();
    try {
      head = this.appendTx.immediate({ runId, type, payload: text, at });
    } catch (error) {
      throw fromSqliteError(error, this.file, 'write');
    }
    this.onAppend?.((performance.now() - started) / 1000);
    this.witness?.record(head);
    return head;
  }
}
