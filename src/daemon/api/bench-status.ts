/**
 * What each port is doing and how its last operation ended, folded from the event stream:
 * the rows of `GET /v1/status` (`posbridge status`, the dashboard's tiles). The port manager
 * knows a port is busy; only the events say with what, and how it ended.
 */
import type { HubEvent, TerminalHub, TerminalInfo } from '../../host/hub.js';
import type { StepName, StepOutcome } from '../../host/workflow/report.js';
import type { DiagCheckResult } from '../../host/workflow/terminal-ops.js';

export interface PortActivity {
  operation: string;
  /** The operation's ID (matches its `operation` event). */
  id?: string;
  since: string;
  /** The last step reported, with how it went. */
  step?: { step: StepName; outcome: StepOutcome; detail: string };
  /** Steps finished so far. */
  steps: number;
}

export interface LastResult {
  operation: string;
  outcome: string;
  at: string;
  /** The failing step's or the error's words, when it did not succeed. */
  detail?: string;
  /** The run's diagnostics, each check with its status and, when it failed or warned, its hint. */
  diagnostics?: DiagCheckResult[];
}

/**
 * One word for a tile's colour and the table's STATE column, most urgent first: where the port
 * is (gone, identifying, error), then what the terminal says of itself (tamper, locked), then
 * how the last run here ended (failed, also when a diagnostic check failed; provisioned), then
 * its own state (factory, initialized).
 */
export const CONDITIONS = [
  'gone',
  'identifying',
  'error',
  'tamper',
  'locked',
  'failed',
  'provisioned',
  'initialized',
  'factory',
  'unknown',
] as const;
export type Condition = (typeof CONDITIONS)[number];

export interface TerminalStatusRow extends TerminalInfo {
  condition: Condition;
  activity?: PortActivity;
  lastResult?: LastResult;
}

export function conditionOf(terminal: TerminalInfo, lastResult?: LastResult): Condition {
  if (terminal.state === 'gone' || terminal.state === 'identifying' || terminal.state === 'error')
    return terminal.state;
  if (terminal.status?.tamper) return 'tamper';
  if (terminal.status?.locked) return 'locked';
  if (lastResult?.operation === 'provision') {
    // Provisioned, but a diagnostic check failed: the terminal is not ready for the counter.
    if (lastResult.diagnostics?.some((check) => check.status === 'fail')) return 'failed';
    if (lastResult.outcome === 'failed' || lastResult.outcome === 'quarantined') return 'failed';
    if (lastResult.outcome === 'provisioned' || lastResult.outcome === 'already-provisioned')
      return 'provisioned';
  }
  return terminal.status?.state ?? terminal.hello?.state ?? 'unknown';
}

/** The last provisioning in the audit trail of the terminal `sn` now on `port` (past-results.ts). */
export type PastResultLookup = (sn: string, port: string) => LastResult | undefined;

/** A port's last result, with the serial number of the terminal it was about (when known). */
interface ResultOnPort {
  sn: string | undefined;
  result: LastResult;
}

export class BenchStatus {
  private readonly activity = new Map<string, PortActivity>();
  /** The last result of this daemon life on each port. */
  private readonly byPort = new Map<string, ResultOnPort>();
  /** The trail's answers, by port and serial number (null: none), asked once each. */
  private readonly past = new Map<string, LastResult | null>();
  /** Terminals pulled out, as last seen: kept (greyed on the dashboard) until their port returns. */
  private readonly gone = new Map<string, TerminalInfo>();

  constructor(
    private readonly hub: TerminalHub,
    private readonly now: () => Date = () => new Date(),
    private readonly pastResult?: PastResultLookup,
  ) {}

  /** Feed every event of the stream, in order. */
  readonly observe = (event: HubEvent): void => {
    const at = this.now().toISOString();
    switch (event.type) {
      case 'operation-started':
        this.activity.set(event.port, { operation: event.operation, id: event.id, since: at, steps: 0 });
        return;
      case 'step': {
        const current = this.activity.get(event.port) ?? {
          operation: event.operation,
          since: at,
          steps: 0,
        };
        const { step, outcome, detail } = event.step;
        this.activity.set(event.port, {
          ...current,
          step: { step, outcome, detail },
          steps: current.steps + 1,
        });
        return;
      }
      case 'operation-finished': {
        this.activity.delete(event.port);
        const report = event.report;
        const failed = report?.steps.find((s) => s.outcome === 'failed');
        const detail = report?.error?.message ?? failed?.detail;
        const sn = report?.terminal?.sn ?? this.hub.list().find((t) => t.port === event.port)?.hello?.sn;
        const result: LastResult = {
          operation: event.operation,
          outcome: event.outcome,
          at,
          ...(detail !== undefined && (failed || event.outcome !== 'provisioned') && { detail }),
          ...(report?.diagnostics && { diagnostics: report.diagnostics.results }),
        };
        this.byPort.set(event.port, { sn, result });
        // The trail now holds a newer run of this terminal: ask again where it shows next.
        for (const key of this.past.keys()) if (key.endsWith(`\0${sn}`)) this.past.delete(key);
        return;
      }
      case 'terminal-removed':
        this.activity.delete(event.terminal.port);
        this.gone.set(event.terminal.port, { ...event.terminal, state: 'gone' });
        return;
      case 'terminal-added':
        this.gone.delete(event.terminal.port);
        return;
      default:
        return;
    }
  };

  /**
   * The last result of the terminal on this port: what ran on the port in this daemon life if it
   * was about this terminal (by serial number: a factory terminal swapped onto a hub port where
   * one was just provisioned does not show green), else the audit trail's last provisioning of
   * it (read once per port and terminal: one provisioned yesterday, or moved to another port).
   * A terminal still being identified has only what ran on its port before it said who it was.
   */
  private resultFor(terminal: TerminalInfo): LastResult | undefined {
    const sn = terminal.hello?.sn;
    const held = this.byPort.get(terminal.port);
    if (held && (held.sn === undefined || held.sn === sn)) return held.result;
    if (sn === undefined) return undefined;
    const key = `${terminal.port}\0${sn}`;
    if (!this.past.has(key)) {
      const past = this.lookUpPast(sn, terminal.port);
      if (past === 'unreadable') return undefined;
      this.past.set(key, past ?? null);
    }
    return this.past.get(key) ?? undefined;
  }

  private lookUpPast(sn: string, port: string): LastResult | undefined | 'unreadable' {
    try {
      return this.pastResult?.(sn, port);
    } catch {
      // A trail that cannot be read now (busy, damaged) costs the tile its past until the next
      // read asks again: the history view and `history --verify` are where that is reported.
      return 'unreadable';
    }
  }

  /** The hub's terminals, then those pulled out since (state `gone`). */
  rows(): TerminalStatusRow[] {
    const listed = this.hub.list();
    const ports = new Set(listed.map((t) => t.port));
    const gone = [...this.gone.values()].filter((t) => !ports.has(t.port));
    return [...listed, ...gone].map((terminal) => {
      const activity = this.activity.get(terminal.port);
      const lastResult = this.resultFor(terminal);
      return {
        ...terminal,
        condition: conditionOf(terminal, lastResult),
        ...(activity && { activity }),
        ...(lastResult && { lastResult }),
      };
    });
  }
}
