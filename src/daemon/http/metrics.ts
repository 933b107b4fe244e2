/**
 * `GET /metrics` (docs/dashboard.md, "Metrics"), in Prometheus text format through prom-client,
 * on a registry of its own (no process-wide default). Folded from the event stream, like the
 * status rows. Labels are closed sets (states, operations, outcomes, step names, error codes, verbs):
 * never a port, a serial number, a merchant number or anything a terminal or a user typed.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HubEvent } from '../../host/hub.js';
import type { ResendReason } from '../../host/session.js';
import type { Verb } from '../../protocol/index.js';
import { type BenchStatus, CONDITIONS } from '../api/bench-status.js';

/** Refusals that kept a terminal from locking (docs/cli.md, exit code 4). */
const LOCKOUT_AVOIDED = new Set(['LOCKOUT_RISK']);

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter<'operation' | 'outcome'>;
  private readonly stepSeconds: Histogram<'step' | 'outcome'>;
  private readonly lockoutsAvoided: Counter;
  private readonly auditAppendSeconds: Histogram;
  private readonly retransmissions: Counter<'verb' | 'reason'>;

  constructor(bench: BenchStatus) {
    const registers = [this.registry];
    new Gauge({
      name: 'posbridge_terminals',
      help: 'Terminals the daemon knows, by state (pulled-out ones as gone)',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(CONDITIONS.map((c) => [c, 0]));
        for (const row of bench.rows()) counts.set(row.condition, (counts.get(row.condition) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    this.runs = new Counter({
      name: 'posbridge_runs_total',
      help: 'Operations finished, by operation and outcome',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.stepSeconds = new Histogram({
      name: 'posbridge_step_duration_seconds',
      help: 'How long each provisioning step took',
      labelNames: ['step', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.lockoutsAvoided = new Counter({
      name: 'posbridge_lockouts_avoided_total',
      help: 'Operations stopped before a login attempt that could have locked a terminal',
      registers,
    });
    this.auditAppendSeconds = new Histogram({
      name: 'posbridge_audit_append_seconds',
      help: 'How long one audit record took to commit',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.retransmissions = new Counter({
      name: 'posbridge_retransmissions_total',
      help: 'Requests sent again with the same ID and bytes, by verb and why (docs/protocol.md §18)',
      labelNames: ['verb', 'reason'],
      registers,
    });
  }

  /** Feed every event of the stream, in order. */
  readonly observe = (event: HubEvent): void => {
    if (event.type === 'step') {
      const ms = Date.parse(event.step.finishedAt) - Date.parse(event.step.startedAt);
      if (ms >= 0)
        this.stepSeconds.observe({ step: event.step.step, outcome: event.step.outcome }, ms / 1000);
    } else if (event.type === 'operation-finished') {
      this.runs.inc({ operation: event.operation, outcome: event.outcome });
      if (event.report?.error && LOCKOUT_AVOIDED.has(event.report.error.code)) this.lockoutsAvoided.inc();
    }
  };

  auditAppended(seconds: number): void {
    this.auditAppendSeconds.observe(seconds);
  }

  /** A session sent a request again (session.ts); both labels come from closed sets. */
  retransmitted(verb: Verb, reason: ResendReason): void {
    this.retransmissions.inc({ verb, reason });
  }

  async text(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
