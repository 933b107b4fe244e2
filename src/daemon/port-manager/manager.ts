/**
 * DaemonPortManager: owns the open ports of the daemon (hub.ts, PortManager).
 *
 * - A candidate that appears (Discovery) is opened and identified (identify.ts): `terminal-added`
 *   (identifying), then HELLO and STATUS within `identifyMs`, then `terminal-updated` (present,
 *   with hello/status). No valid reply by then: not a TSP/1 terminal; it is marked `error`, its
 *   port is closed, and it is not probed again until it disappears and appears again (or a lease
 *   names it).
 * - The port stays open. An idle link gets a STATUS every `heartbeatMs` (heartbeat.ts); a heartbeat
 *   that gets no reply (the session's timeout and retransmissions), a link that ends (unplug) or a
 *   port that disappears from the listing or the watched directory is `gone`: `terminal-removed`,
 *   pending requests fail at once with DISCONNECTED, the session is closed. If the port is still
 *   there (a silent link), it is opened and identified again after `reprobeMs`.
 * - `lease(port)` lends the open connection to one operation at a time (lease-queue.ts, FIFO); the
 *   port is `busy` meanwhile, heartbeats wait, and the lease's close() gives it back (a STATUS then
 *   refreshes what the list shows). A port not known yet is opened on demand: the caller named it.
 *   Such a named port is forgotten after `namedIdleMs` without a lease, and at most `maxNamedPorts`
 *   are held (named-ports.ts); a port in use never is.
 *
 * The table of ports and its events are table.ts's. Everything with a side effect is injected:
 * how a port is opened (a TerminalDriver over the port registry in production), the discovery,
 * the timers, the clock and the logger.
 */
import type { TerminalConnection } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { HubEvent, PortManager, TerminalInfo } from '../../host/hub.js';
import { systemClock, systemTimers, type TimerHandle } from '../../protocol/index.js';
import type { DiscoveryChange, DiscoverySource } from '../discovery/index.js';
import { Heartbeat } from './heartbeat.js';
import { Identification } from './identify.js';
import { applyCandidate, closedError, disconnected, Lease } from './lease.js';
import { LeaseQueue } from './lease-queue.js';
import { NamedPorts } from './named-ports.js';
import { type DaemonPortManagerOptions, MANAGER_DEFAULTS, type OpenTerminal } from './options.js';
import { type Entry, PortTable } from './table.js';

export {
  type DaemonPortManagerOptions,
  MANAGER_DEFAULTS,
  type ManagedTerminal,
  type OpenTerminal,
} from './options.js';

export class DaemonPortManager implements PortManager {
  private readonly open: OpenTerminal;
  private readonly discovery: DiscoverySource | undefined;
  private readonly table: PortTable;
  private readonly reprobeMs: number;
  private readonly closeGraceMs: number;
  /** Ports whose link died while still present: probed again after reprobeMs. */
  private readonly reprobes = new Map<string, TimerHandle>();
  /** Ports opened because a lease named them: forgotten when idle, bounded in number. */
  private readonly named: NamedPorts;
  private readonly heartbeat: Heartbeat;
  private readonly leases: LeaseQueue;
  private readonly identification: Identification;
  private offDiscovery: (() => void) | undefined;
  private started: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: DaemonPortManagerOptions) {
    this.open = options.open;
    this.discovery = options.discovery;
    const timers = options.timers ?? systemTimers;
    const clock = options.clock ?? systemClock;
    this.table = new PortTable(options.logger, timers, clock);
    const heartbeatMs = options.heartbeatMs ?? MANAGER_DEFAULTS.heartbeatMs;
    this.reprobeMs = options.reprobeMs ?? (heartbeatMs > 0 ? heartbeatMs : MANAGER_DEFAULTS.reprobeMs);
    this.closeGraceMs = options.closeGraceMs ?? MANAGER_DEFAULTS.closeGraceMs;
    this.named = new NamedPorts({
      idleMs: options.namedIdleMs ?? MANAGER_DEFAULTS.namedIdleMs,
      max: options.maxNamedPorts ?? MANAGER_DEFAULTS.maxNamedPorts,
      timers,
      clock,
      evict: (port, why) => this.forgetNamed(port, why),
      inUse: (port) => {
        const entry = this.table.entries.get(port);
        const leased = entry !== undefined && (entry.holder instanceof Lease || entry.waiters.length > 0);
        return leased || this.table.opening.has(port);
      },
    });
    const gone = (entry: Entry, error: PosbridgeError) => this.markGone(entry, error);
    const pump = (entry: Entry) => this.leases.pump(entry);
    this.heartbeat = new Heartbeat(
      this.table,
      {
        heartbeatMs,
        heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? MANAGER_DEFAULTS.heartbeatTimeoutMs,
      },
      { pump, gone },
    );
    this.leases = new LeaseQueue(this.table, this.named, this.heartbeat);
    this.identification = new Identification(
      this.table,
      {
        open: this.open,
        discovery: this.discovery,
        identifyMs: options.identifyMs ?? MANAGER_DEFAULTS.identifyMs,
        reprobeMs: this.reprobeMs,
      },
      { pump, gone, scheduleHeartbeat: (entry, delay) => this.heartbeat.schedule(entry, delay) },
    );
  }

  /**
   * Starts the discovery and opens every candidate. Resolves once the candidates are known and
   * their identification has started (see settled()). Idempotent.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      const discovery = this.discovery;
      if (!discovery) return;
      this.offDiscovery = discovery.onChange((change) => this.onDiscovery(change));
      await discovery.start();
      // Candidates announced before we subscribed (a discovery started by someone else).
      for (const candidate of discovery.candidates()) {
        if (!this.table.entries.has(candidate.port) && !this.reprobes.has(candidate.port))
          this.identification.probe(candidate);
      }
    })();
    return this.started;
  }

  /** Resolves when no port is being opened or identified (a scan waits for this). */
  settled(): Promise<void> {
    return this.table.settled();
  }

  list(): TerminalInfo[] {
    return this.table.list();
  }

  subscribe(listener: (event: HubEvent) => void): () => void {
    return this.table.subscribe(listener);
  }

  publish(event: HubEvent): void {
    this.table.publish(event);
  }

  async lease(port: string): Promise<TerminalConnection> {
    if (this.closing) throw closedError(port);
    let entry = this.table.entries.get(port);
    if (!entry || entry.ended) entry = await this.openOnDemand(port);
    else if (entry.info.state === 'error') this.identification.reopen(entry, 'a lease named it');
    return this.leases.enqueue(entry);
  }

  /**
   * Stops discovery, refuses new leases, fails queued ones (CLOSED), waits for running leases to be
   * given back (at most closeGraceMs; then their ports close under them), and closes every port.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.shutdown();
      this.table.closing = true;
    }
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const { table } = this;
    this.offDiscovery?.();
    this.named.close();
    await this.discovery?.close();
    for (const timer of this.reprobes.values()) table.timers.clearTimeout(timer);
    this.reprobes.clear();
    const leased: Promise<void>[] = [];
    for (const entry of table.entries.values()) {
      table.clearTimers(entry);
      for (const waiter of entry.waiters.splice(0)) waiter.reject(closedError(entry.port));
      if (entry.holder instanceof Lease) leased.push(entry.holder.released);
    }
    await Promise.allSettled([...table.opening.values()]);
    if (leased.length > 0) {
      let timer: TimerHandle | undefined;
      await Promise.race([
        Promise.all(leased),
        new Promise<void>((resolve) => {
          timer = table.timers.setTimeout(resolve, this.closeGraceMs);
        }),
      ]);
      if (timer !== undefined) table.timers.clearTimeout(timer);
    }
    const entries = [...table.entries.values()];
    table.entries.clear();
    await Promise.all(
      entries.map(async (entry) => {
        table.clearTimers(entry);
        entry.ended = true;
        entry.loss.lose(closedError(entry.port));
        for (const off of entry.offs.splice(0)) off();
        await table.closeDriver(entry);
      }),
    );
    table.notifySettled();
  }

  // --- discovery ---------------------------------------------------------------------------

  private onDiscovery(change: DiscoveryChange): void {
    if (this.closing) return;
    const { candidate } = change;
    const entry = this.table.entries.get(candidate.port);
    if (change.type === 'disappeared') {
      this.cancelReprobe(candidate.port);
      if (entry) this.markGone(entry, disconnected(candidate.port, 'the port disappeared'));
      return;
    }
    if (change.type === 'updated') {
      // Found from its directory first, its USB details from the listing since.
      if (!entry || entry.ended) return;
      entry.candidate = candidate;
      applyCandidate(entry.info, candidate);
      this.table.emit('terminal-updated', entry);
      return;
    }
    this.cancelReprobe(candidate.port);
    // A lease is opening it right now: that open makes the entry.
    if (this.table.opening.has(candidate.port)) return;
    if (entry && !entry.ended) {
      // Opened on demand before discovery saw it: it gains the listing's details, and discovery
      // decides from now on when it goes.
      this.named.forget(candidate.port);
      entry.candidate = candidate;
      applyCandidate(entry.info, candidate);
      return;
    }
    this.identification.probe(candidate);
  }

  /** A port a lease named that the table does not hold: opened once, however many leases wait. */
  private async openOnDemand(port: string): Promise<Entry> {
    const { table } = this;
    const pending = table.opening.get(port);
    if (pending) return pending;
    const opening = (async () => {
      this.cancelReprobe(port);
      const listed = this.discovery?.has(port) ?? false;
      if (!listed && !this.named.has(port) && !this.named.makeRoom()) throw this.tableFull(port);
      const driver = await this.open(port);
      if (this.closing) {
        await driver.close().catch(() => undefined);
        throw closedError(port);
      }
      const previous = table.entries.get(port);
      if (previous && !previous.ended) {
        // Discovery found it meanwhile: use that one.
        await driver.close().catch(() => undefined);
        return previous;
      }
      const candidate = this.discovery?.candidates().find((c) => c.port === port);
      const entry = table.newEntry(port, candidate);
      table.entries.set(port, entry);
      if (!candidate) this.named.add(port);
      table.emit('terminal-added', entry);
      entry.holder = 'identify';
      this.identification.attach(entry, driver);
      void this.identification.identify(entry);
      return entry;
    })();
    table.opening.set(port, opening);
    try {
      return await opening;
    } finally {
      table.opening.delete(port);
    }
  }

  // --- going away --------------------------------------------------------------------------

  /** Unplugged, or the link died: `terminal-removed`, everything pending fails with `error` (DISCONNECTED). */
  private markGone(entry: Entry, error: PosbridgeError): void {
    if (entry.ended) return;
    this.table.logger.info({ port: entry.port, reason: error.message }, 'port manager: terminal gone');
    this.retire(entry, error);
    // Still listed (a link that went silent, a terminal that re-enumerated under the same name).
    if (!this.closing && this.discovery?.has(entry.port) && !this.reprobes.has(entry.port)) {
      this.reprobes.set(
        entry.port,
        this.table.timers.setTimeout(() => {
          this.reprobes.delete(entry.port);
          if (this.closing || this.table.entries.has(entry.port)) return;
          const candidate = this.discovery?.candidates().find((c) => c.port === entry.port);
          if (candidate) this.identification.probe(candidate);
        }, this.reprobeMs),
      );
    }
  }

  /** A named port idle too long, or evicted for room: closed and removed (named-ports.ts). */
  private forgetNamed(port: string, why: string): void {
    const entry = this.table.entries.get(port);
    if (!entry || entry.ended || this.closing) return;
    const error = new PosbridgeError(
      'CLOSED',
      `${port}: closed and forgotten by the daemon (${why}); naming it again opens it again`,
      { details: { port } },
    );
    this.table.logger.info({ port, why }, 'port manager: forgetting a named port');
    this.retire(entry, error);
  }

  /** Out of the table: `terminal-removed` (state gone), pending work fails with `error`, port closed. */
  private retire(entry: Entry, error: PosbridgeError): void {
    const { table } = this;
    entry.ended = true;
    table.clearTimers(entry);
    for (const off of entry.offs.splice(0)) off();
    entry.loss.lose(error);
    for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
    if (table.entries.get(entry.port) === entry) table.entries.delete(entry.port);
    this.named.forget(entry.port);
    entry.info.state = 'gone';
    entry.info.since = table.now();
    entry.info.error = { code: error.code, message: error.message };
    table.emit('terminal-removed', entry);
    void table.closeDriver(entry);
    table.notifySettled();
  }

  /** Every named port is in use and the table is full: a new name is refused (exit 3). */
  private tableFull(port: string): PosbridgeError {
    return new PosbridgeError(
      'PORT_BUSY',
      `${port} was not opened: the daemon already holds ${this.named.size} ports named on demand, all in use`,
      {
        hint: 'Wait for one of the operations to finish, or raise maxNamedPorts in the daemon config.',
        details: { port },
      },
    );
  }

  private cancelReprobe(port: string): void {
    const timer = this.reprobes.get(port);
    if (timer === undefined) return;
    this.table.timers.clearTimeout(timer);
    this.reprobes.delete(port);
  }
}
