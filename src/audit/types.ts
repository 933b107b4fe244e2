/** The shapes the audit trail takes in and gives back. */
import type { RunOutcome, StepRecord, TerminalIdentity } from '../host/workflow/report.js';
import type { DiagCheckResult } from '../host/workflow/terminal-ops.js';
import type { JsonObject } from './canonical.js';

/** The operations that are recorded: one run each. */
export type AuditRunKind = 'provision' | 'diag' | 'passwd' | 'operator';
export const AUDIT_RUN_KINDS: readonly AuditRunKind[] = ['provision', 'diag', 'passwd', 'operator'];

/** A provisioning run ends with a RunOutcome; a diag, passwd or operator run with `ok` or `failed`. */
export type AuditOutcome = RunOutcome | 'ok';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = [
  'provisioned',
  'already-provisioned',
  'planned',
  'quarantined',
  'failed',
  'ok',
];

export interface StartRunInput {
  kind: AuditRunKind;
  port: string;
  technician: string;
  station: string;
  /** Known at start for diag/passwd/operator; for provision, record it later with recordTerminal. */
  terminal?: TerminalIdentity;
  merchant?: string;
  terminalNumber?: string;
  /** What the run is about, e.g. `{ user: '02' }` for passwd, `{ action: 'add', id: '03' }`. No secret. */
  details?: JsonObject;
}

export interface FinishRunInput {
  outcome: AuditOutcome;
  /** Why it failed: the PosbridgeError's code, message and hint (messages never hold a secret). */
  error?: { code: string; message: string; hint?: string };
  /** Anything else worth keeping (e.g. `{ credentialsFile: '/path' }`). No secret. */
  details?: JsonObject;
}

export interface AuditDiagnostics {
  pass: number;
  warn: number;
  fail: number;
  results: DiagCheckResult[];
}

/** A step as recorded: the workflow's StepRecord plus where and when it went into the chain. */
export interface AuditStep extends StepRecord {
  seq: number;
  recordedAt: string;
}

/** One run, derived from its events. */
export interface AuditRun {
  runId: string;
  kind: AuditRunKind;
  port: string;
  technician: string;
  station: string;
  terminal?: TerminalIdentity;
  merchant?: string;
  terminalNumber?: string;
  details?: JsonObject;
  /** When the run-start event was written (ISO 8601, UTC). */
  startedAt: string;
  /** When the run-finish event was written; absent while running or after a crash. */
  finishedAt?: string;
  /** `unfinished`: no finish event (still running, or the process died). */
  outcome: AuditOutcome | 'unfinished';
  error?: FinishRunInput['error'];
  finishDetails?: JsonObject;
  steps: AuditStep[];
  /** The last diagnostics recorded for the run. */
  diagnostics?: AuditDiagnostics;
  /** SEQ:HASH of the run's last row: the head of the trail right after it (an anchor, anchor.ts). */
  auditHead: string;
}

/** Which runs the acquirer's report holds (docs/cli.md, `posbridge report`). */
export interface ReportQuery {
  /** Runs started at or after this instant. */
  since?: Date;
  /** Dry runs too (`provision --dry-run`: nothing was changed). */
  includeDryRuns?: boolean;
  /** Runs on mock terminals too (mock:// ports, or a terminal that says it is the mock). */
  includeMocks?: boolean;
}

export interface HistoryQuery {
  /** Runs that concern this terminal serial number. */
  sn?: string;
  /** Runs started at or after this instant. */
  since?: Date;
  /** At most this many runs (the newest). */
  limit?: number;
  kind?: AuditRunKind;
}

/** One provisioning run, as the acquirer gets it. */
export interface AuditReportRow {
  runId: string;
  sn: string | null;
  model: string | null;
  /** The port the run went through, as the station and `--port` name it. */
  port: string;
  merchant: string | null;
  terminal: string | null;
  technician: string;
  station: string;
  started: string;
  finished: string | null;
  outcome: AuditOutcome | 'unfinished';
  diagPass: number | null;
  diagWarn: number | null;
  diagFail: number | null;
  /** SEQ:HASH of the run's last row: keep it to check later that the trail still holds the run. */
  auditHead: string;
}

export const REPORT_COLUMNS: readonly (keyof AuditReportRow)[] = [
  'runId',
  'sn',
  'model',
  'port',
  'merchant',
  'terminal',
  'technician',
  'station',
  'started',
  'finished',
  'outcome',
  'diagPass',
  'diagWarn',
  'diagFail',
  'auditHead',
];

/** A point of the chain kept elsewhere (printed on a report, sent to the acquirer). */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

export type VerifyProblemKind =
  /** A row's hash is not the hash of its content: the row was edited. */
  | 'hash-mismatch'
  /** A row's prev_hash is not the previous row's hash: a row was edited or replaced. */
  | 'link-broken'
  /** One or more rows are missing before this seq (deleted). */
  | 'missing-rows'
  /** The rows stop before the chain head recorded in `meta` (the last rows were deleted). */
  | 'tail-truncated'
  /** The chain head in `meta` does not match the last row. */
  | 'head-mismatch'
  /** The chain head record itself is missing. */
  | 'head-missing'
  /** A row's payload is not JSON or its type is unknown. */
  | 'bad-row'
  /**
   * A row does not have the hash an anchor kept elsewhere says it had, or the trail stops before
   * the anchor's row (the last rows deleted and the head record rewritten to match).
   */
  | 'anchor-mismatch';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** The first seq concerned (the edited row, or the first missing one). */
  seq: number;
  message: string;
  /** For `anchor-mismatch`: the anchor the trail contradicts or no longer holds (as it was given). */
  anchor?: ChainAnchor;
}

export interface VerifyResult {
  ok: boolean;
  file: string;
  /** Rows read. */
  rows: number;
  /** The last row's seq and hash (seq 0 and the genesis hash for an empty trail). */
  head: ChainAnchor;
  /** The first problem found, walking from seq 1. */
  problem?: VerifyProblem;
}

/**
 * One record of the chain exactly as stored and hashed: what a forwarder sends to a broker and a
 * depot keeps (docs/fleet.md). `payload` is the canonical JSON text that was hashed, as is.
 */
export interface ChainRecord {
  seq: number;
  /** When it was written, ISO 8601 UTC with milliseconds. */
  at: string;
  run: string;
  type: string;
  payload: string;
  prevHash: string;
  hash: string;
}
