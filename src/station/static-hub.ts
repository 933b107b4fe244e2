/**
 * A TerminalHub over a fixed list of ports (the ones given with `--port`): each is identified
 * once, through Engine.info (HELLO, STATUS; no login), and announced with `terminal-added`. No
 * discovery, no hot-plug, no idle checks: that is the daemon's port manager. It lets station mode
 * run without a daemon, on device paths, tcp:// serial servers and in-process mock ports alike.
 *
 * Every port is listed as `identifying` from construction until its identification ends, so a
 * reader of list() never mistakes "not identified yet" for "nothing there".
 */
import type { Engine } from '../host/engine.js';
import { isPosbridgeError } from '../host/errors.js';
import type { HubEvent, TerminalHub, TerminalInfo } from '../host/hub.js';

/** A hub that station mode owns for its run (src/cli/runtime.ts builds it with the engine). */
export interface StationHub extends TerminalHub {
  close(): Promise<void>;
}

/** Whose station name and audit trail an engine records with (station mode reports them). */
export interface HubAbout {
  /** The station name the records get when --station is not given. */
  station?: string;
  /** The audit trail the runs are written to. */
  audit?: string;
  /** Set when the operations go through a daemon. */
  daemon?: { socket: string; pid: number };
}

export class StaticHub implements StationHub {
  private readonly terminals = new Map<string, TerminalInfo>();
  private readonly listeners = new Set<(event: HubEvent) => void>();
  private identification: Promise<void> | undefined;

  constructor(
    ports: readonly string[],
    private readonly deps: { engine: Pick<Engine, 'info'>; now(): Date },
  ) {
    const since = deps.now().toISOString();
    for (const port of ports) this.terminals.set(port, { port, state: 'identifying', since });
  }

  /** Identify every port, all at once. */
  start(): this {
    this.identification ??= Promise.all([...this.terminals.keys()].map((port) => this.identify(port))).then(
      () => undefined,
    );
    return this;
  }

  list(): TerminalInfo[] {
    return [...this.terminals.values()].map((t) => ({ ...t }));
  }

  subscribe(listener: (event: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for identifications under way (the ports are closed after each). */
  async close(): Promise<void> {
    await this.identification;
    this.listeners.clear();
  }

  private async identify(port: string): Promise<void> {
    let info: TerminalInfo;
    try {
      const { hello, status } = await this.deps.engine.info({ port });
      info = { port, state: 'present', hello, status, since: this.deps.now().toISOString() };
    } catch (error) {
      const known = isPosbridgeError(error);
      info = {
        port,
        state: 'error',
        error: {
          code: known ? error.code : 'INTERNAL',
          message: known ? error.message : String((error as Error)?.message ?? error),
        },
        since: this.deps.now().toISOString(),
      };
    }
    this.terminals.set(port, info);
    for (const listener of this.listeners) listener({ type: 'terminal-added', terminal: { ...info } });
  }
}
