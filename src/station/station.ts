/**
 * Station mode: a technician plugs terminals in, one after another or a hub at a time; each one
 * the hub identifies is matched to its manifest row by serial number and provisioned with that
 * row, several at once, through `engine.provision` (the same workflow as `posbridge provision`).
 *
 * Rules (docs/station.md, "Station mode"):
 * - A terminal is taken when the hub lists it `present` with a HELLO `sn`. A serial number the
 *   manifest does not list is reported and left alone: no byte beyond the hub's own HELLO/STATUS.
 * - Each row runs once per station run. A replug of a terminal that finished (provisioned or
 *   already provisioned) is reported and not run again: the row's result stands and the wire
 *   stays quiet. A replug after a failure that a retry can cure (cable pulled, no answer,
 *   diagnostics or read-back failed) runs the row again; the workflow resumes from what the
 *   terminal says. A refused password, a lock, a tampered or foreign terminal is never retried in
 *   the same run: trying again cannot help and may cost a login attempt.
 * - The run ends when every row has a result; or, with `untilIdle`, as soon as nothing is running
 *   or waiting and no terminal is being identified; or at stop() (timeout, signal): no new
 *   terminal is taken, runs under way finish, rows waiting for a slot are not started.
 *
 * Station knows only the TerminalHub and Engine interfaces: the daemon's port manager or a fixed
 * list of ports serve it alike.
 */

import type { Engine, ProvisionCall } from '../host/engine.js';
import type { PosbridgeErrorCode } from '../host/errors.js';
import type { HubEvent, TerminalHub, TerminalInfo } from '../host/hub.js';
import type { Secret } from '../host/secret.js';
import { WorkflowStopped } from '../host/workflow/provision.js';
import type { ProvisionReport, StepRecord } from '../host/workflow/report.js';
import type { ManifestRow } from './manifest.js';
import { auditHeadOf, errorInfo, latestAuditHead, passwordSettled, repeatNote } from './results.js';

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
  readOperatorSecret?: ProvisionCall['readOperatorSecret'];
}

/**
 * Failures a replug may cure: the link (cable, no answer, port busy) and checks that a technician
 * fixes by hand (paper, SIM) before plugging in again. Anything else is final for the run.
 */
const RETRY_ON_REPLUG: ReadonlySet<string> = new Set<PosbridgeErrorCode>([
  'DISCONNECTED',
  'CLOSED',
  'TIMEOUT',
  'REBOOTED',
  'BAD_REPLY',
  'PORT_BUSY',
  'PORT_OPEN_FAILED',
  'PORT_NOT_FOUND',
  'CHECK_FAILED',
  'VERIFY_FAILED',
]);

interface RowState {
  row: ManifestRow;
  phase: 'pending' | 'queued' | 'running' | 'final';
  port?: string;
  /** Seen on this port (queued) at least once. */
  seenOn?: string;
  attempts: number;
  /** The admin password of the run was accepted or set by an earlier attempt on this terminal. */
  adminPasswordKnown: boolean;
  result?: StationRowResult;
}

interface Attachment {
  sn: string;
  /** Seen while its row was running elsewhere (or here, before a failure was reported). */
  deferred: boolean;
}

export class Station {
  private readonly rows = new Map<string, RowState>();
  private readonly attachments = new Map<string, Attachment>();
  private readonly queue: RowState[] = [];
  private readonly listeners = new Set<(event: StationEvent) => void>();
  private readonly unknown = new Map<string, { port: string; sn: string; model?: string }>();
  private readonly unidentified = new Map<string, { port: string; error?: ErrorInfo }>();
  private readonly concurrency: number;
  private running = 0;
  private stopReason: 'timeout' | 'signal' | undefined;
  private startedAt = '';
  private finished: StationSummary | undefined;
  private resolveEnd: ((summary: StationSummary) => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private started = false;

  constructor(private readonly options: StationOptions) {
    for (const row of options.rows)
      this.rows.set(row.sn, { row, phase: 'pending', attempts: 0, adminPasswordKnown: false });
    const limit = options.concurrency ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 1)) throw new RangeError(`concurrency must be 1 or more, not ${limit}`);
    this.concurrency = limit;
  }

  /** Station events, as they happen (live view, logs, tests); returns the unsubscribe function. */
  subscribe(listener: (event: StationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Run until the end condition; resolves to the summary. Call once. */
  run(): Promise<StationSummary> {
    if (this.started) throw new Error('a Station runs once');
    this.started = true;
    this.startedAt = this.options.now().toISOString();
    const ended = new Promise<StationSummary>((resolve) => {
      this.resolveEnd = resolve;
    });
    // Subscribe first, then read the list: a terminal identified in between is seen twice, and
    // the attachment table makes the second sighting a no-op.
    this.unsubscribe = this.options.hub.subscribe((event) => this.onHubEvent(event));
    for (const terminal of this.options.hub.list()) this.consider(terminal);
    this.maybeEnd();
    return ended;
  }

  /** Take no new terminal, start nothing that waits; runs under way finish. */
  stop(reason: 'timeout' | 'signal'): void {
    if (this.finished || this.stopReason) return;
    this.stopReason = reason;
    this.maybeEnd();
  }

  private emit(event: StationEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private onHubEvent(event: HubEvent): void {
    if (this.finished) return;
    if (event.type === 'terminal-removed') this.detach(event.terminal.port, 'gone');
    else if (event.type === 'terminal-added' || event.type === 'terminal-updated')
      this.consider(event.terminal);
    this.maybeEnd();
  }

  private consider(terminal: TerminalInfo): void {
    const { port } = terminal;
    switch (terminal.state) {
      case 'identifying':
        if (!this.attachments.has(port)) this.emit({ type: 'port', port, state: 'identifying' });
        return;
      case 'gone':
        this.detach(port, 'gone');
        return;
      case 'error': {
        const error = terminal.error && { code: terminal.error.code, message: terminal.error.message };
        this.unidentified.set(port, { port, ...(error && { error }) });
        this.detach(port, undefined);
        this.emit({ type: 'port', port, state: 'error', ...(error && { error }) });
        return;
      }
      case 'busy':
        // Someone holds the port (this station, or another client of the daemon): wait for present.
        return;
      case 'present':
        break;
    }
    const sn = terminal.hello?.sn;
    if (sn === undefined) return;
    const known = this.attachments.get(port);
    if (known && known.sn === sn) return; // the same plug-in, seen again (state changes, our own lease)
    this.attachments.set(port, { sn, deferred: false });
    this.unidentified.delete(port);
    if (this.stopReason) return;
    const state = this.rows.get(sn);
    if (!state) {
      this.unknown.set(`${port}\n${sn}`, {
        port,
        sn,
        ...(terminal.hello?.model && { model: terminal.hello.model }),
      });
      this.emit({ type: 'unknown', port, sn });
      return;
    }
    switch (state.phase) {
      case 'queued':
      case 'running':
        // Run again when the current run ends with a failure a retry may cure (retryDeferred).
        this.attachments.get(port)!.deferred = true;
        if (state.port !== port) this.emit({ type: 'duplicate', port, sn, otherPort: state.port! });
        return;
      case 'final': {
        const result = state.result!;
        if (this.retryable(result)) break;
        this.emit({ type: 'repeat', port, sn, outcome: result.outcome, note: repeatNote(result) });
        return;
      }
      case 'pending':
        break;
    }
    this.enqueue(state, port);
  }

  private retryable(result: StationRowResult): boolean {
    return (
      result.outcome === 'failed' && result.error !== undefined && RETRY_ON_REPLUG.has(result.error.code)
    );
  }

  /** The port lost its terminal (unplugged) or could not identify one. */
  private detach(port: string, event: 'gone' | undefined): void {
    this.attachments.delete(port);
    const waiting = this.queue.findIndex((s) => s.port === port);
    if (waiting >= 0) {
      // Unplugged before its turn: back to pending; a replug queues it again.
      const [state] = this.queue.splice(waiting, 1);
      state!.phase = state!.result ? 'final' : 'pending';
    }
    if (event) this.emit({ type: 'port', port, state: event });
  }

  private enqueue(state: RowState, port: string): void {
    state.phase = 'queued';
    state.port = port;
    state.seenOn = port;
    this.queue.push(state);
    this.pump();
    // Said only when it has to wait for a slot: a run that starts at once is just `started`.
    if (state.phase === 'queued') this.emit({ type: 'queued', port, sn: state.row.sn });
  }

  private pump(): void {
    while (!this.stopReason && this.running < this.concurrency && this.queue.length > 0) {
      const state = this.queue.shift()!;
      void this.execute(state);
    }
  }

  private async execute(state: RowState): Promise<void> {
    const { row } = state;
    const port = state.port!;
    state.phase = 'running';
    state.attempts++;
    this.running++;
    const startedAt = this.options.now().toISOString();
    this.emit({ type: 'started', port, sn: row.sn, attempt: state.attempts });
    let report: ProvisionReport | undefined;
    let error: ErrorInfo | undefined;
    let auditHead: string | undefined;
    try {
      report = await this.options.engine.provision({
        request: {
          port,
          merchant: row.merchant,
          terminal: row.terminal,
          ...(row.name !== undefined && { name: row.name }),
          adminPassword: this.options.adminPassword,
          adminPasswordKnown: state.adminPasswordKnown,
          profile: row.profile,
          technician: this.options.technician,
          station: this.options.station,
        },
        onStep: (step) => this.emit({ type: 'step', port, sn: row.sn, step }),
        ...(this.options.recordGenerated && {
          recordGenerated: (id: string, password: Secret) =>
            this.options.recordGenerated!(row.sn, id, password),
        }),
        ...(this.options.readOperatorSecret && { readOperatorSecret: this.options.readOperatorSecret }),
      });
    } catch (caught) {
      if (caught instanceof WorkflowStopped) report = caught.report;
      error = errorInfo(caught);
      auditHead = auditHeadOf(caught);
    }
    if (report && passwordSettled(report)) state.adminPasswordKnown = true;
    const result = this.resultOf(state, port, startedAt, report, error);
    auditHead = report?.auditHead ?? auditHead;
    if (auditHead !== undefined) result.auditHead = auditHead;
    state.result = result;
    state.phase = 'final';
    this.running--;
    this.emit({ type: 'finished', port, sn: row.sn, result });
    this.retryDeferred(state);
    this.pump();
    this.maybeEnd();
  }

  private resultOf(
    state: RowState,
    port: string,
    startedAt: string,
    report: ProvisionReport | undefined,
    error: ErrorInfo | undefined,
  ): StationRowResult {
    const { row } = state;
    const base: StationRowResult = {
      ...rowFields(row),
      port,
      outcome: 'failed',
      attempts: state.attempts,
      startedAt,
      finishedAt: this.options.now().toISOString(),
      ...(report && { report }),
    };
    const d = report?.diagnostics;
    if (d) base.diagnostics = { pass: d.pass, warn: d.warn, fail: d.fail };
    const answeredAs = report?.terminal?.sn;
    if (answeredAs !== undefined && answeredAs !== row.sn) {
      // The hub saw row.sn on this port, the workflow another terminal: swapped in between.
      return {
        ...base,
        error: {
          code: 'WRONG_TERMINAL',
          message: `the terminal on ${port} answered as sn ${answeredAs} during the run, not ${row.sn}`,
          hint: 'a terminal was swapped while it was being provisioned: check both terminals with posbridge info',
        },
      };
    }
    if (!report || error) {
      const outcome = report?.outcome === 'quarantined' ? 'quarantined' : 'failed';
      return { ...base, outcome, error: error ?? { code: 'INTERNAL', message: 'the run gave no report' } };
    }
    if (d && d.fail > 0) {
      const failing = d.results
        .filter((r) => r.status === 'fail')
        .map((r) => `${r.check}${r.code ? ` ${r.code}` : ''}${r.hint ? ` (${r.hint})` : ''}`);
      return {
        ...base,
        error: {
          code: 'CHECK_FAILED',
          message: `${report.outcome === 'already-provisioned' ? 'already provisioned' : 'provisioned'}, but diagnostics failed: ${failing.join('; ')}`,
          hint: 'fix what the diagnostics name, then plug the terminal in again to re-run them',
        },
      };
    }
    const outcome: RowOutcome =
      report.outcome === 'already-provisioned'
        ? 'already-provisioned'
        : report.outcome === 'quarantined'
          ? 'quarantined'
          : report.outcome === 'provisioned'
            ? 'provisioned'
            : 'failed';
    return { ...base, outcome };
  }

  /** The row's terminal was plugged in again while it ran: run it again if the failure allows. */
  private retryDeferred(state: RowState): void {
    if (this.stopReason || !this.retryable(state.result!)) return;
    for (const [port, attachment] of this.attachments) {
      if (attachment.sn !== state.row.sn || !attachment.deferred) continue;
      const present = this.options.hub.list().find((t) => t.port === port && t.state === 'present');
      if (!present) continue;
      attachment.deferred = false;
      this.enqueue(state, port);
      return;
    }
  }

  private maybeEnd(): void {
    if (this.finished || !this.resolveEnd) return;
    if (this.running > 0) return;
    if (this.stopReason) this.end(this.stopReason);
    else if ([...this.rows.values()].every((s) => s.phase === 'final')) this.end('complete');
    else if (
      this.options.untilIdle &&
      this.queue.length === 0 &&
      !this.options.hub.list().some((t) => t.state === 'identifying')
    )
      this.end('idle');
  }

  private end(endedBy: StationEnd): void {
    this.unsubscribe?.();
    const rows = [...this.rows.values()].map((state) => this.finalResult(state));
    const counts = Object.fromEntries(ROW_OUTCOMES.map((o) => [o, 0])) as Record<RowOutcome, number>;
    for (const row of rows) counts[row.outcome]++;
    const summary: StationSummary = {
      kind: 'station',
      manifest: this.options.manifest,
      technician: this.options.technician,
      station: this.options.station,
      startedAt: this.startedAt,
      finishedAt: this.options.now().toISOString(),
      endedBy,
      counts,
      rows,
      unknown: [...this.unknown.values()],
      unidentified: [...this.unidentified.values()],
    };
    const auditHead = latestAuditHead(rows);
    if (auditHead !== undefined) summary.auditHead = auditHead;
    this.finished = summary;
    for (const state of this.queue.splice(0)) {
      const result = rows.find((r) => r.sn === state.row.sn)!;
      this.emit({ type: 'finished', port: state.port!, sn: state.row.sn, result });
    }
    this.emit({ type: 'ended', summary });
    this.resolveEnd!(summary);
  }

  private finalResult(state: RowState): StationRowResult {
    if (state.result) return state.result; // final, or queued again for a retry when it ended
    if (state.seenOn !== undefined) {
      const why =
        state.phase === 'queued'
          ? `the station stopped (${endText(this.stopReason)}) before its turn`
          : 'it was unplugged before its turn';
      return {
        ...rowFields(state.row),
        port: state.seenOn,
        outcome: 'not-run',
        attempts: 0,
        error: {
          code: 'NOT_RUN',
          message: `terminal ${state.row.sn} was seen on ${state.seenOn}, but ${why}`,
          hint: 'plug it in and run the station again (a higher --concurrency starts more at once)',
        },
      };
    }
    return {
      ...rowFields(state.row),
      outcome: 'not-seen',
      attempts: 0,
      error: {
        code: 'NOT_SEEN',
        message: `terminal ${state.row.sn} was not seen before the station ended (${endText(this.stopReason)})`,
        hint: 'plug it in and run the station again; check the serial number on its label against the manifest',
      },
    };
  }
}

function endText(reason: 'timeout' | 'signal' | undefined): string {
  if (reason === 'timeout') return '--timeout-total reached';
  if (reason === 'signal') return 'interrupted';
  return 'no more terminals';
}

function rowFields(
  row: ManifestRow,
): Pick<StationRowResult, 'sn' | 'where' | 'merchant' | 'terminal' | 'name'> {
  return {
    sn: row.sn,
    where: row.where,
    merchant: row.merchant,
    terminal: row.terminal,
    ...(row.name !== undefined && { name: row.name }),
  };
}

/**
 * The station's exit code: 0 every row provisioned or already provisioned; 1 a row failed, was
 * quarantined or failed its diagnostics; else 3 a row was not seen (or not run) before the end.
 */
export function stationExitCode(summary: StationSummary): 0 | 1 | 3 {
  const { counts } = summary;
  if (counts.failed > 0 || counts.quarantined > 0) return 1;
  if (counts['not-seen'] > 0 || counts['not-run'] > 0) return 3;
  return 0;
}
