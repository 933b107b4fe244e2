/**
 * Lending a port: one operation at a time holds its open connection (a Lease, lease.ts), the
 * others wait in line (FIFO). The port is `busy` meanwhile and heartbeats wait; giving the lease
 * back hands the port to the next in line, or makes it `present` again with a STATUS at once (what
 * the operation changed shows in the list).
 */
import type { TerminalConnection } from '../../host/engine.js';
import type { Heartbeat } from './heartbeat.js';
import { Lease } from './lease.js';
import type { NamedPorts } from './named-ports.js';
import type { Entry, PortTable } from './table.js';

export class LeaseQueue {
  constructor(
    private readonly table: PortTable,
    private readonly named: NamedPorts,
    private readonly heartbeat: Heartbeat,
  ) {}

  enqueue(entry: Entry): Promise<TerminalConnection> {
    return new Promise<TerminalConnection>((resolve, reject) => {
      entry.waiters.push({ resolve, reject });
      this.pump(entry);
    });
  }

  /** Hands the port to the next waiter if it is free. */
  pump(entry: Entry): void {
    const { table } = this;
    if (!table.isCurrent(entry) || entry.holder !== undefined) return;
    if (entry.info.state !== 'present' && entry.info.state !== 'busy') return;
    const waiter = entry.waiters.shift();
    if (!waiter) {
      if (entry.info.state === 'busy') {
        table.setState(entry, 'present');
        table.emit('terminal-updated', entry);
      }
      return;
    }
    if (entry.heartbeat !== undefined) table.timers.clearTimeout(entry.heartbeat);
    entry.heartbeat = undefined;
    const lease = new Lease(entry.port, entry.driver!, entry, () => this.release(entry, lease));
    entry.holder = lease;
    this.named.leased(entry.port);
    if (entry.info.state !== 'busy') {
      table.setState(entry, 'busy');
      table.emit('terminal-updated', entry);
    }
    waiter.resolve(lease);
  }

  private release(entry: Entry, lease: Lease): void {
    const { table } = this;
    if (entry.holder !== lease) return;
    entry.holder = undefined;
    if (!table.isCurrent(entry)) return;
    if (entry.waiters.length > 0) {
      this.pump(entry);
      return;
    }
    table.setState(entry, 'present');
    table.emit('terminal-updated', entry);
    this.named.idle(entry.port);
    // What the operation changed (factory passwords, state) shows at once; an operation refused
    // before its first request (a --baud the port is not at) changed nothing and sends nothing.
    if (lease.used) void this.heartbeat.beat(entry);
    else this.heartbeat.schedule(entry);
  }
}
