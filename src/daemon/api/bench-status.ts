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

/** A port's last result, with the serial number of the terminal it was about (when known). */
interface ResultOnPort {
  sn: string | undefined;
  result: LastResult;
}

export class BenchStatus {
  private readonly activity = new Map<string, PortActivity>();
  private readonly results = new Map<string, ResultOnPort>();
  /** Terminals pulled out, as last seen: kept (greyed on the dashboard) until their port returns. */
  private readonly gone = new Map<string, TerminalInfo>();

  constructor(
    private readonly hub: TerminalHub,
    private readonly now: () => Date = () => new Date(),
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
        this.results.set(event.port, {
          sn,
          result: {
            operation: event.operation,
            outcome: event.outcome,
            at,
            ...(detail !== undefined && (failed || event.outcome !== 'provisioned') && { detail }),
            ...(report?.diagnostics && { diagnostics: report.diagnostics.results }),
          },
        });
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
   * The port's last result, if it was about the terminal there now. A hub port gets the next
   * terminal as soon as one is done: a factory terminal plugged in where one was just provisioned
   * must not show green, nor one still being identified (its serial number not yet known).
   */
  private resultFor(terminal: TerminalInfo): LastResult | undefined {
    const held = this.results.get(terminal.port);
    if (!held) return undefined;
    if (held.sn !== undefined && held.sn !== terminal.hello?.sn) return undefined;
    return held.result;
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
