/**
 * The audit trail (DESIGN.md, "Provisioning workflow"; issue 5 item 3): every provision, diag,
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
 */
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { StepRecord, TerminalIdentity } from '../host/workflow/report.js';
import type { DiagCheckResult } from '../host/workflow/terminal-ops.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { AuditError, fromSqliteError } from './errors.js';
import { foldRuns, reportRow } from './runs.js';
import { type EventType, FORMAT, GENESIS_HASH, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { assertNoSecrets } from './scrub.js';
import {
  AUDIT_OUTCOMES,
  AUDIT_RUN_KINDS,
  type AuditReportRow,
  type AuditRun,
  type ChainAnchor,
  type FinishRunInput,
  type HistoryQuery,
  type StartRunInput,
  type VerifyResult,
} from './types.js';
import { type EventRow, walkChain } from './verify.js';

export interface AuditStoreOptions {
  /** The clock for the `at` of each row. */
  now?: () => Date;
  /** How long a writer waits for another process's transaction (default 10 s). */
  busyTimeoutMs?: number;
  /** Open for reading only (history, report, verify); the file must exist. */
  readonly?: boolean;
  /** Makes run IDs (default: random UUIDs). */
  newRunId?: () => string;
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

export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

interface AppendInput {
  runId: string;
  type: EventType;
  payload: string;
  at: string;
}

/**
 * The hash of a row: sha256 over the previous row's hash (64 hex digits) followed by the
 * canonical JSON of the row's content. `payload` is the stored canonical JSON text, inserted as is.
 */
export function chainHash(
  prevHash: string,
  row: { seq: number; at: string; runId: string; type: string; payload: string },
): string {
  // Keys in sorted order: at, payload, run, seq, type (what canonicalJson would produce).
  const content = `{"at":${JSON.stringify(row.at)},"payload":${row.payload},"run":${JSON.stringify(row.runId)},"seq":${row.seq},"type":${JSON.stringify(row.type)}}`;
  return sha256Hex(prevHash + content);
}

const STEP_OUTCOMES = new Set(['done', 'already', 'failed', 'skipped', 'planned']);
const DIAG_STATUSES = new Set(['pass', 'warn', 'fail']);

function invalid(message: string): AuditError {
  return new AuditError('AUDIT_INVALID', message);
}

function requireText(value: unknown, what: string, { empty = false } = {}): string {
  if (typeof value !== 'string' || (!empty && value.length === 0)) {
    throw invalid(`${what} must be a ${empty ? '' : 'non-empty '}string`);
  }
  return value;
}

function terminalOf(value: unknown, what: string): TerminalIdentity {
  const t = value as Partial<TerminalIdentity> | null;
  if (t === null || typeof t !== 'object') throw invalid(`${what} must be { model, sn, fw }`);
  return {
    model: requireText(t.model, `${what}.model`, { empty: true }),
    sn: requireText(t.sn, `${what}.sn`),
    fw: requireText(t.fw, `${what}.fw`, { empty: true }),
  };
}

function isoTime(date: Date, what: string): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw invalid(`${what} is not a valid date`);
  return date.toISOString();
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

export class AuditStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly newRunId: () => string;
  private readonly witness: HeadWitness | undefined;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly appendTx: Database.Transaction<(input: AppendInput) => ChainAnchor>;

  /**
   * Opens (creating it, its directory 0700 and the file 0600, unless `readonly`) the audit trail
   * at `path`. Throws AUDIT_OPEN_FAILED naming the file when it cannot be opened or is not a
   * posbridge audit trail, AUDIT_SCHEMA_UNSUPPORTED when a newer posbridge wrote it.
   */
  static open(path: string, options: AuditStoreOptions = {}): AuditStore {
    const file = resolve(path);
    const readonly = options.readonly ?? false;
    if (!readonly) prepareFile(file);
    let db: Database.Database;
    try {
      db = new Database(file, {
        readonly,
        fileMustExist: readonly,
        timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
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
      return new AuditStore(db, file, options);
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

  private constructor(db: Database.Database, file: string, options: AuditStoreOptions) {
    this.db = db;
    this.file = file;
    this.now = options.now ?? (() => new Date());
    this.newRunId = options.newRunId ?? randomUUID;
    this.witness = options.witness;
    this.statements = prepareStatements(db);
    this.appendTx = db.transaction((input: AppendInput) => this.appendInTransaction(input));
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Records the start of a run; returns its ID. */
  startRun(input: StartRunInput): string {
    assertNoSecrets(input, 'run');
    if (!AUDIT_RUN_KINDS.includes(input.kind)) {
      throw invalid(`run kind must be one of ${AUDIT_RUN_KINDS.join(', ')}`);
    }
    const payload: Record<string, unknown> = {
      kind: input.kind,
      port: requireText(input.port, 'run.port'),
      technician: requireText(input.technician, 'run.technician'),
      station: requireText(input.station, 'run.station'),
    };
    if (input.terminal !== undefined) payload.terminal = terminalOf(input.terminal, 'run.terminal');
    if (input.merchant !== undefined) payload.merchant = requireText(input.merchant, 'run.merchant');
    if (input.terminalNumber !== undefined) {
      payload.terminalNumber = requireText(input.terminalNumber, 'run.terminalNumber');
    }
    if (input.details !== undefined) payload.details = input.details;
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
    if (!STEP_OUTCOMES.has(step.outcome))
      throw invalid(`step.outcome "${String(step.outcome)}" is not a step outcome`);
    this.append(runId, 'step', {
      step: requireText(step.step, 'step.step'),
      outcome: step.outcome,
      detail: requireText(step.detail, 'step.detail', { empty: true }),
      startedAt: requireText(step.startedAt, 'step.startedAt'),
      finishedAt: requireText(step.finishedAt, 'step.finishedAt'),
    });
  }

  /** Records the results of the terminal's self-diagnostics (counts derived from the results). */
  recordDiagnostics(runId: string, results: readonly DiagCheckResult[]): void {
    assertNoSecrets(results, 'diagnostics');
    if (!Array.isArray(results as unknown)) throw invalid('diagnostics must be an array of check results');
    const counts = { pass: 0, warn: 0, fail: 0 };
    const kept = results.map((r: DiagCheckResult, i) => {
      if (!DIAG_STATUSES.has(r?.status)) throw invalid(`diagnostics[${i}].status must be pass, warn or fail`);
      counts[r.status] += 1;
      const result: Record<string, unknown> = {
        check: requireText(r.check, `diagnostics[${i}].check`),
        status: r.status,
      };
      if (r.code !== undefined) result.code = r.code;
      if (r.hint !== undefined) result.hint = r.hint;
      if (r.ms !== undefined) result.ms = r.ms;
      return result;
    });
    this.append(runId, 'diagnostics', { ...counts, results: kept });
  }

  /**
   * Records the end of a run. A run finishes once. Returns the run's last row, the head of the
   * trail right after it: the anchor its report carries.
   */
  finishRun(runId: string, input: FinishRunInput): ChainAnchor {
    assertNoSecrets(input, 'finish');
    if (!AUDIT_OUTCOMES.includes(input.outcome)) {
      throw invalid(`finish.outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
    }
    const payload: Record<string, unknown> = { outcome: input.outcome };
    if (input.error !== undefined) {
      const error: Record<string, unknown> = {
        code: requireText(input.error.code, 'finish.error.code'),
        message: requireText(input.error.message, 'finish.error.message', { empty: true }),
      };
      if (input.error.hint !== undefined)
        error.hint = requireText(input.error.hint, 'finish.error.hint', { empty: true });
      payload.error = error;
    }
    if (input.details !== undefined) payload.details = input.details;
    return this.append(runId, 'run-finish', payload);
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

  /** Runs with their steps, newest first. */
  history(query: HistoryQuery = {}): AuditRun[] {
    this.ensureOpen();
    const since = query.since === undefined ? '' : isoTime(query.since, 'since');
    const limit = query.limit ?? -1;
    if (!Number.isInteger(limit) || limit < -1) throw invalid('limit must be a whole number');
    if (query.kind !== undefined && !AUDIT_RUN_KINDS.includes(query.kind)) {
      throw invalid(`kind must be one of ${AUDIT_RUN_KINDS.join(', ')}`);
    }
    const read = this.db.transaction(() => {
      const ids = (
        this.statements.runIds.all({ since, sn: query.sn ?? null, kind: query.kind ?? null, limit }) as {
          run_id: string;
        }[]
      ).map((r) => r.run_id);
      if (ids.length === 0) return [];
      const rows = this.statements.eventsOfRuns.all(JSON.stringify(ids)) as EventRow[];
      const runs = foldRuns(rows, this.file);
      return ids.map((id) => runs.get(id)).filter((run): run is AuditRun => run !== undefined);
    });
    try {
      return read.deferred();
    } catch (error) {
      throw fromSqliteError(error, this.file, 'read');
    }
  }

  /** One row per provisioning run, oldest first: what the acquirer gets. */
  report(query: { since?: Date } = {}): AuditReportRow[] {
    const runs = this.history({ kind: 'provision', ...(query.since ? { since: query.since } : {}) });
    return runs.reverse().map(reportRow);
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
    try {
      head = this.appendTx.immediate({ runId, type, payload: text, at });
    } catch (error) {
      throw fromSqliteError(error, this.file, 'write');
    }
    this.witness?.record(head);
    return head;
  }

  /** Runs inside BEGIN IMMEDIATE: the write lock is held, no other writer can move the head. */
  private appendInTransaction(input: AppendInput): ChainAnchor {
    const s = this.statements;
    const headRow = s.head.get() as { value: string } | undefined;
    const last = s.last.get() as { seq: number; hash: string } | undefined;
    const head = headRow === undefined ? undefined : (JSON.parse(headRow.value) as ChainAnchor);
    const lastSeq = last?.seq ?? 0;
    const lastHash = last?.hash ?? GENESIS_HASH;
    if (head === undefined || head.seq !== lastSeq || head.hash !== lastHash) {
      throw new AuditError(
        'AUDIT_CORRUPT',
        head === undefined
          ? `audit trail ${this.file} has lost its chain head record; refusing to append`
          : `audit trail ${this.file}: the chain head (seq ${head.seq}) does not match the last row (seq ${lastSeq}); rows were deleted or edited, refusing to append`,
        {
          hint: 'run `posbridge history --verify`; keep the file as evidence and move it aside to start a new trail',
          details: { file: this.file, headSeq: head?.seq, lastSeq },
        },
      );
    }
    if (input.type !== 'run-start') {
      const types = new Set((s.runState.all(input.runId) as { type: string }[]).map((r) => r.type));
      if (!types.has('run-start')) {
        throw new AuditError('AUDIT_UNKNOWN_RUN', `audit trail ${this.file} has no run ${input.runId}`, {
          details: { file: this.file, runId: input.runId },
        });
      }
      if (types.has('run-finish')) {
        throw new AuditError('AUDIT_RUN_FINISHED', `run ${input.runId} in ${this.file} is already finished`, {
          details: { file: this.file, runId: input.runId },
        });
      }
    }
    const seq = lastSeq + 1;
    const hash = chainHash(lastHash, {
      seq,
      at: input.at,
      runId: input.runId,
      type: input.type,
      payload: input.payload,
    });
    s.insert.run({
      seq,
      at: input.at,
      run_id: input.runId,
      type: input.type,
      payload: input.payload,
      prev_hash: lastHash,
      hash,
    });
    s.setHead.run(JSON.stringify({ seq, hash }));
    return { seq, hash };
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

function prepareStatements(db: Database.Database) {
  return {
    head: db.prepare("SELECT value FROM meta WHERE key = 'head'"),
    setHead: db.prepare("UPDATE meta SET value = ? WHERE key = 'head'"),
    last: db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1'),
    runState: db.prepare("SELECT type FROM events WHERE run_id = ? AND type IN ('run-start', 'run-finish')"),
    insert: db.prepare(
      'INSERT INTO events (seq, at, run_id, type, payload, prev_hash, hash) VALUES (@seq, @at, @run_id, @type, @payload, @prev_hash, @hash)',
    ),
    all: db.prepare('SELECT seq, at, run_id, type, payload, prev_hash, hash FROM events ORDER BY seq'),
    runIds: db.prepare(`
      SELECT s.run_id FROM events s
      WHERE s.type = 'run-start'
        AND s.at >= @since
        AND (@kind IS NULL OR json_extract(s.payload, '$.kind') = @kind)
        AND (@sn IS NULL OR s.run_id IN (
          SELECT run_id FROM events
          WHERE type IN ('run-start', 'terminal') AND json_extract(payload, '$.terminal.sn') = @sn))
      ORDER BY s.seq DESC
      LIMIT @limit`),
    eventsOfRuns: db.prepare(
      'SELECT seq, at, run_id, type, payload, prev_hash, hash FROM events WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY seq',
    ),
  };
}
