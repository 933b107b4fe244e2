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

import type { HubEvent, TerminalInfo } from '../host/hub.js';
import { readOperatorPasswords } from '../host/operations/index.js';
import type { ProvisionReport } from '../host/workflow/report.js';
import type { ManifestRow } from './manifest.js';
import {
  attemptResult,
  auditHeadOf,
  errorInfo,
  latestAuditHead,
  passwordSettled,
  repeatNote,
  retryable,
  unfinishedResult,
} from './results.js';
import {
  type ErrorInfo,
  ROW_OUTCOMES,
  type RowOutcome,
  type StationEnd,
  type StationEvent,
  type StationOptions,
  type StationRowResult,
  type StationSummary,
} from './types.js';

export { stationExitCode } from './results.js';
export {
  type ErrorInfo,
  ROW_OUTCOMES,
  type RowOutcome,
  type StationEnd,
  type StationEvent,
  type StationOptions,
  type StationRowResult,
  type StationSummary,
} from './types.js';

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
        if (retryable(result)) break;
        this.emit({ type: 'repeat', port, sn, outcome: result.outcome, note: repeatNote(result) });
        return;
      }
      case 'pending':
        break;
    }
    this.enqueue(state, port);
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
      const { recordGenerated, readOperatorSecret } = this.options;
      report = await this.options.engine.provision(
        {
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
          ...(readOperatorSecret && {
            operatorPasswords: await readOperatorPasswords(row.profile, readOperatorSecret),
          }),
        },
        {
          on: {
            step: (step) => this.emit({ type: 'step', port, sn: row.sn, step }),
            ...(recordGenerated && {
              generated: ({ id, password }) => recordGenerated(row.sn, id, password),
            }),
          },
        },
      );
    } catch (caught) {
      error = errorInfo(caught);
      auditHead = auditHeadOf(caught);
    }
    // A run that stopped early resolves to its report: what stopped it is the row's error.
    if (report?.error) {
      const { code, message, hint } = report.error;
      error = { code, message, ...(hint && { hint }) };
    }
    if (report && passwordSettled(report)) state.adminPasswordKnown = true;
    const finishedAt = this.options.now().toISOString();
    const result = attemptResult(
      row,
      { port, attempts: state.attempts, startedAt, finishedAt },
      report,
      error,
    );
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

  /** The row's terminal was plugged in again while it ran: run it again if the failure allows. */
  private retryDeferred(state: RowState): void {
    if (this.stopReason || !retryable(state.result!)) return;
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
    return unfinishedResult(state.row, state.seenOn, state.phase === 'queued', this.stopReason);
  }
}
