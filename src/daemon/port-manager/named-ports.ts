/**
 * Ports the daemon opened because someone named them (a lease of a tcp://, mock:// or device
 * path that discovery does not list), as opposed to ports discovery owns (the listing, config
 * `ports`, watched directories), whose coming and going discovery decides.
 *
 * The problem: every name ever passed to a command stays open and in the table for the daemon's
 * whole life (a bench types many tcp:// addresses over a week), each with a heartbeat and a
 * socket. So a named port is forgotten (closed, removed) after `idleMs` without a lease, and the
 * table holds at most `max` of them: naming one more evicts the one idle longest, and when every
 * one is in use the new name is refused. A port in use (leased, or leases waiting) is never
 * evicted; the manager says which are (`inUse`).
 */
import type { Clock, TimerHandle, Timers } from '../../protocol/index.js';

export interface NamedPortsOptions {
  /** Forget a named port this long after its last lease ended, ms; 0: never by time. */
  idleMs: number;
  /** Named ports held at most. */
  max: number;
  timers: Timers;
  clock: Clock;
  /** Closes and removes the port (the manager's part). */
  evict(port: string, why: string): void;
  /** Whether the port is leased or has leases waiting: never evicted then. */
  inUse(port: string): boolean;
}

interface Named {
  /** Clock time of the last lease (granted or given back), ms. */
  lastUsed: number;
  timer: TimerHandle | undefined;
}

export class NamedPorts {
  private readonly ports = new Map<string, Named>();

  constructor(private readonly options: NamedPortsOptions) {}

  get size(): number {
    return this.ports.size;
  }

  has(port: string): boolean {
    return this.ports.has(port);
  }

  /** A named port now has an entry; idle until its first lease. */
  add(port: string): void {
    if (!this.ports.has(port)) this.ports.set(port, { lastUsed: this.now(), timer: undefined });
    this.idle(port);
  }

  /** Leased: it stays while in use. */
  leased(port: string): void {
    const named = this.ports.get(port);
    if (!named) return;
    named.lastUsed = this.now();
    this.stopTimer(named);
  }

  /** Its leases ended: the idle time starts. */
  idle(port: string): void {
    const named = this.ports.get(port);
    if (!named) return;
    named.lastUsed = this.now();
    this.stopTimer(named);
    const { idleMs } = this.options;
    if (idleMs <= 0) return;
    named.timer = this.options.timers.setTimeout(() => {
      named.timer = undefined;
      if (this.ports.get(port) !== named) return;
      // In use after all (a lease granted without passing through leased()): wait for its end.
      if (this.options.inUse(port)) return;
      this.ports.delete(port);
      this.options.evict(port, `no lease for ${formatMs(idleMs)}`);
    }, idleMs);
  }

  /** No longer named (gone, or discovery lists it now): nothing to evict. */
  forget(port: string): void {
    const named = this.ports.get(port);
    if (!named) return;
    this.stopTimer(named);
    this.ports.delete(port);
  }

  /**
   * Room for one more named port: while the table is full, the port idle longest goes. False
   * when the table is full of ports in use (the new one must be refused).
   */
  makeRoom(): boolean {
    while (this.ports.size >= this.options.max) {
      let oldest: [string, Named] | undefined;
      for (const item of this.ports) {
        if (this.options.inUse(item[0])) continue;
        if (!oldest || item[1].lastUsed < oldest[1].lastUsed) oldest = item;
      }
      if (!oldest) return false;
      this.forget(oldest[0]);
      this.options.evict(oldest[0], `the daemon holds at most ${this.options.max} named ports`);
    }
    return true;
  }

  close(): void {
    for (const named of this.ports.values()) this.stopTimer(named);
    this.ports.clear();
  }

  private stopTimer(named: Named): void {
    if (named.timer !== undefined) this.options.timers.clearTimeout(named.timer);
    named.timer = undefined;
  }

  private now(): number {
    return this.options.clock.now();
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
