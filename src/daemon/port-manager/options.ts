/** What the port manager is given (manager.ts): how to open a port, where ports come from, its timings. */
import type { Logger } from 'pino';
import type { TerminalConnection } from '../../host/engine.js';
import type { PosbridgeError } from '../../host/errors.js';
import type { Clock, Timers } from '../../protocol/index.js';
import type { DiscoverySource } from '../discovery/index.js';

/** An open terminal as the manager needs it: the operations, plus the end of its link. TerminalDriver is one. */
export interface ManagedTerminal extends TerminalConnection {
  /** Called once when the link ends (DISCONNECTED) or the terminal is closed (CLOSED). */
  onClose(callback: (error: PosbridgeError) => void): () => void;
  /** EVT lines (`boot`, `state`...): the manager refreshes its STATUS after one. */
  onEvent?(callback: (event: { name: string }) => void): () => void;
}

/** Opens a port by name; rejects with PORT_NOT_FOUND, PORT_BUSY, PORT_OPEN_FAILED. Sends nothing. */
export type OpenTerminal = (port: string) => Promise<ManagedTerminal>;

export interface DaemonPortManagerOptions {
  open: OpenTerminal;
  /** Where ports come from; without one, only leased (named) ports are managed. */
  discovery?: DiscoverySource | undefined;
  logger: Logger;
  timers?: Timers | undefined;
  clock?: Clock | undefined;
  /** Bound on HELLO + STATUS after a port opens, ms. Default 5000. */
  identifyMs?: number | undefined;
  /** STATUS on an idle link this often, ms; 0: no heartbeat. Default 5000. */
  heartbeatMs?: number | undefined;
  /**
   * A safety bound on one heartbeat, ms. Default 60000. The session's own timeouts decide first: a
   * silent link fails after its reply timeout and retransmissions (TIMEOUT), while a terminal that
   * answers 503 (restarting) is alive and is waited for.
   */
  heartbeatTimeoutMs?: number | undefined;
  /** A port still present after its link died, or that failed to open, is tried again after this, ms. Default 5000. */
  reprobeMs?: number | undefined;
  /** close() waits this long for leases to be given back before it closes their ports, ms. Default 30000. */
  closeGraceMs?: number | undefined;
  /**
   * A port opened because a lease named it (discovery does not list it) is closed and forgotten
   * after this long without a lease, ms; 0: never by time. Default 600000 (10 minutes).
   */
  namedIdleMs?: number | undefined;
  /** Named ports held at most; naming one more evicts the one idle longest. Default 64. */
  maxNamedPorts?: number | undefined;
}

export const MANAGER_DEFAULTS = {
  identifyMs: 5000,
  heartbeatMs: 5000,
  heartbeatTimeoutMs: 60_000,
  reprobeMs: 5000,
  closeGraceMs: 30_000,
  namedIdleMs: 600_000,
  maxNamedPorts: 64,
} as const;
