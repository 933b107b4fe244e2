/**
 * The contracts of the long-running side (issue 5), fixed first so discovery, the local API and
 * station mode can be built side by side:
 *
 *   Discovery (ports appear/disappear) -> PortManager (owns open ports, identifies terminals,
 *   checks idle links, lends a connection to one operation at a time) -> TerminalHub (what is
 *   plugged in, as a list and a stream of events) -> the local API and station mode.
 *
 * Engine operations in the daemon are the same LocalEngine as in the CLI, with a Connector that
 * leases the PortManager's connection instead of opening the port again: one code path.
 */
import type { TerminalConnection } from './engine.js';
import type { ProvisionReport, StepRecord } from './workflow/report.js';
import type { HelloInfo, StatusInfo } from './workflow/terminal-ops.js';

/** What the daemon knows of one port. */
export interface TerminalInfo {
  /** The port name as given to --port (device path, tcp://..., mock://...). */
  port: string;
  /** `/dev/serial/by-id/...` when udev gives one. */
  byId?: string;
  usb?: { vendorId?: string; productId?: string; serialNumber?: string; manufacturer?: string };
  /**
   * identifying: opened, HELLO/STATUS under way. present: identified and answering.
   * busy: an operation holds it. gone: unplugged or stopped answering. error: could not be
   * identified (not a TSP/1 terminal, or it refused); the port is closed and left alone.
   */
  state: 'identifying' | 'present' | 'busy' | 'gone' | 'error';
  hello?: HelloInfo;
  status?: StatusInfo;
  error?: { code: string; message: string };
  /** ISO time of the last state change. */
  since: string;
}

export type HubEvent =
  | { type: 'terminal-added'; terminal: TerminalInfo }
  | { type: 'terminal-updated'; terminal: TerminalInfo }
  | { type: 'terminal-removed'; terminal: TerminalInfo }
  /** An operation took the port (published by the daemon's API as it starts one). */
  | { type: 'operation-started'; port: string; operation: string; id: string }
  | { type: 'step'; port: string; operation: string; step: StepRecord }
  | {
      type: 'operation-finished';
      port: string;
      operation: string;
      outcome: string;
      report?: ProvisionReport;
    }
  /**
   * A station run started from the dashboard (docs/dashboard.md, "Station run"): its start, each
   * row's result, its end. Counts and outcomes only: no password, no merchant number.
   */
  | { type: 'station-started'; manifest: string; rows: number }
  | { type: 'station-progress'; sn: string; port?: string; outcome: string; done: number; rows: number }
  /** `endedBy`: the station's (complete, idle, timeout, signal), or `error` when the run broke. */
  | { type: 'station-ended'; endedBy: string; counts: Record<string, number>; rows: number };

export interface TerminalHub {
  list(): TerminalInfo[];
  /** Events as they happen; returns the unsubscribe function. */
  subscribe(listener: (event: HubEvent) => void): () => void;
}

export interface PortManager extends TerminalHub {
  /**
   * The open connection of `port`, for one operation: others wait in line. Releasing the lease
   * (its close()) returns the port to the manager, which keeps it open. A port not yet known is
   * opened on demand (a port the user named).
   */
  lease(port: string): Promise<TerminalConnection>;
  /** Publish an event to subscribers (used by the API for step events). */
  publish(event: HubEvent): void;
  close(): Promise<void>;
}
