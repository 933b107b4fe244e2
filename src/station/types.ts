/** Station mode's shapes: a row's outcome and result, the summary of a run, its events, its options. */
import type { Engine } from '../host/engine.js';
import type { TerminalHub } from '../host/hub.js';
import type { readOperatorPasswords } from '../host/operations/index.js';
import type { Secret } from '../host/secret.js';
import type { ProvisionReport, StepRecord } from '../host/workflow/report.js';
import type { ManifestRow } from './manifest.js';

export type RowOutcome =
  | 'provisioned'
  | 'already-provisioned'
  | 'failed'
  | 'quarantined'
  /** The terminal never showed up. */
  | 'not-seen'
  /** Seen, but never run: unplugged while waiting for a free slot, or the station stopped first. */
  | 'not-run';

export const ROW_OUTCOMES: readonly RowOutcome[] = [
  'provisioned',
  'already-provisioned',
  'failed',
  'quarantined',
  'not-seen',
  'not-run',
];

export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string;
}

export interface StationRowResult {
  sn: string;
  /** `line 3` / `row 3` in the manifest. */
  where: string;
  merchant: string;
  terminal: string;
  name?: string;
  /** The port of the last attempt (or where it was seen). */
  port?: string;
  outcome: RowOutcome;
  diagnostics?: { pass: number; warn: number; fail: number };
  error?: ErrorInfo;
  /** Runs of the workflow for this row in this station run. */
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  /** The workflow's report of the last attempt (no secret in it). */
  report?: ProvisionReport;
  /** SEQ:HASH of the audit record that closed the last attempt (a report's, or a failure's). */
  auditHead?: string;
}

export type StationEnd = 'complete' | 'idle' | 'timeout' | 'signal';

export interface StationSummary {
  kind: 'station';
  manifest: string;
  technician: string;
  station: string;
  startedAt: string;
  finishedAt: string;
  endedBy: StationEnd;
  counts: Record<RowOutcome, number>;
  rows: StationRowResult[];
  /** Terminals whose serial number the manifest does not list: left untouched. */
  unknown: Array<{ port: string; sn: string; model?: string }>;
  /** Ports the hub could not identify (not a TSP/1 terminal, no answer). */
  unidentified: Array<{ port: string; error?: ErrorInfo }>;
  /** The latest of the rows' audit heads: the trail holds the whole run while it holds this one. */
  auditHead?: string;
}

export type StationEvent =
  | { type: 'port'; port: string; state: 'identifying' | 'gone' | 'error'; error?: ErrorInfo }
  | { type: 'unknown'; port: string; sn: string }
  /** Waiting for a free slot (--concurrency). */
  | { type: 'queued'; port: string; sn: string }
  | { type: 'started'; port: string; sn: string; attempt: number }
  | { type: 'step'; port: string; sn: string; step: StepRecord }
  | { type: 'finished'; port: string; sn: string; result: StationRowResult }
  /** A replug of a row that has its result: not run again. */
  | { type: 'repeat'; port: string; sn: string; outcome: RowOutcome; note: string }
  /** The same serial number on a second port while the row is waiting or running. */
  | { type: 'duplicate'; port: string; sn: string; otherPort: string }
  | { type: 'ended'; summary: StationSummary };

export interface StationOptions {
  rows: readonly ManifestRow[];
  /** The manifest's path, for the summary. */
  manifest: string;
  hub: TerminalHub;
  engine: Pick<Engine, 'provision'>;
  /** The admin password every terminal of the run ends up with. */
  adminPassword: Secret;
  technician: string;
  station: string;
  /** Runs at once; default: no limit. */
  concurrency?: number;
  /** End when nothing is running, waiting or being identified (see the module comment). */
  untilIdle?: boolean;
  now(): Date;
  /** Keep a generated operator password (before it is sent); `sn` is the row's. */
  recordGenerated?(sn: string, operatorId: string, password: Secret): Promise<void>;
  /** Reads the first password of an operator whose source is not `generate` (env or file). */
  readOperatorSecret?: Parameters<typeof readOperatorPasswords>[1];
}
