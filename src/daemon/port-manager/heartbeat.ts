/**
 * The heartbeat: an idle link gets a STATUS every `heartbeatMs` (or at once after an event or a
 * lease, as a refresh). A reply, even an ERR or a damaged one, means the link is alive (its STATUS
 * may have changed); no reply within the session's timeouts and retransmissions (or the safety
 * bound `heartbeatTimeoutMs`) means the terminal is gone. A port someone holds is never beaten.
 */
import { isPosbridgeError, isTerminalError, type PosbridgeError } from '../../host/errors.js';
import type { StatusInfo } from '../../host/workflow/terminal-ops.js';
import { disconnected } from './lease.js';
import type { Entry, PortTable } from './table.js';

export interface HeartbeatOptions {
  /** 0: no heartbeat by time (refreshes still run). */
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
}

/** What the heartbeat asks of the rest of the manager. */
export interface HeartbeatHooks {
  /** The port is free again: the next lease in line may have it. */
  pump(entry: Entry): void;
  /** The link is dead. */
  gone(entry: Entry, error: PosbridgeError): void;
}

export class Heartbeat {
  constructor(
    private readonly table: PortTable,
    private readonly options: HeartbeatOptions,
    private readonly hooks: HeartbeatHooks,
  ) {}

  /** The next heartbeat after heartbeatMs (none when 0), or after `delay` (a refresh). */
  schedule(entry: Entry, delay?: number): void {
    const { table } = this;
    if (table.closing || !table.isCurrent(entry)) return;
    if (delay === undefined && this.options.heartbeatMs <= 0) return;
    if (entry.heartbeat !== undefined) table.timers.clearTimeout(entry.heartbeat);
    entry.heartbeat = table.timers.setTimeout(() => {
      entry.heartbeat = undefined;
      void this.beat(entry);
    }, delay ?? this.options.heartbeatMs);
  }

  /** One STATUS on an idle link: alive (maybe changed), or gone. */
  async beat(entry: Entry): Promise<void> {
    const { table } = this;
    if (table.closing || !table.isCurrent(entry) || entry.holder !== undefined) return;
    if (entry.info.state !== 'present') return;
    const driver = entry.driver!;
    const { heartbeatTimeoutMs } = this.options;
    entry.holder = 'heartbeat';
    let status: StatusInfo;
    try {
      status = await table.within(heartbeatTimeoutMs, driver.status(), () =>
        disconnected(entry.port, `no reply to the STATUS heartbeat within ${heartbeatTimeoutMs} ms`),
      );
    } catch (error) {
      if (!table.isCurrent(entry)) return;
      entry.holder = undefined;
      if (isTerminalError(error) || isPosbridgeError(error, 'BAD_REPLY')) {
        // It answered (busy, restarting, a damaged line): the link is alive.
        table.logger.debug(
          { port: entry.port, err: error },
          'port manager: heartbeat answered with an error',
        );
        this.afterBeat(entry);
        return;
      }
      table.logger.warn({ port: entry.port, err: error }, 'port manager: link is dead');
      this.hooks.gone(
        entry,
        isPosbridgeError(error, 'DISCONNECTED')
          ? error
          : disconnected(entry.port, (error as Error)?.message ?? String(error)),
      );
      return;
    }
    if (!table.isCurrent(entry)) return;
    entry.holder = undefined;
    if (JSON.stringify(status) !== JSON.stringify(entry.info.status)) {
      entry.info.status = status;
      table.emit('terminal-updated', entry);
    }
    this.afterBeat(entry);
  }

  private afterBeat(entry: Entry): void {
    this.hooks.pump(entry);
    if (entry.holder === undefined && this.options.heartbeatMs > 0) this.schedule(entry);
  }
}
