/**
 * DaemonPortManager: owns the open ports of the daemon (hub.ts, PortManager).
 *
 * - A candidate that appears (Discovery) is opened and identified: `terminal-added` (identifying),
 *   then HELLO and STATUS within `identifyMs`, then `terminal-updated` (present, with hello/status).
 *   No valid reply by then: not a TSP/1 terminal; it is marked `error`, its port is closed, and it
 *   is not probed again until it disappears and appears again (or a lease names it).
 * - The port stays open. An idle link gets a STATUS every `heartbeatMs`; a heartbeat that gets no
 *   reply (the session's timeout and retransmissions), a link that ends (unplug) or a port that disappears from the
 *   listing or the watched directory is `gone`: `terminal-removed`, pending requests fail at once
 *   with DISCONNECTED, the session is closed. If the port is still there (a silent link), it is
 *   opened and identified again after `reprobeMs`.
 * - `lease(port)` lends the open connection to one operation at a time (FIFO); the port is `busy`
 *   meanwhile, heartbeats wait, and the lease's close() gives it back (a STATUS then refreshes what
 *   the list shows). A port not known yet is opened on demand: the caller named it. Such a named
 *   port is forgotten after `namedIdleMs` without a lease, and at most `maxNamedPorts` are held
 *   (named-ports.ts); a port in use never is.
 *
 * Everything with a side effect is injected: how a port is opened (a TerminalDriver over the port
 * registry in production), the discovery, the timers, the clock and the logger.
 */
import type { Logger } from 'pino';
import type { TerminalConnection } from '../../host/engine.js';
import { isPosbridgeError, isTerminalError, PosbridgeError } from '../../host/errors.js';
import type { HubEvent, PortManager, TerminalInfo } from '../../host/hub.js';
import type { HelloInfo, StatusInfo } from '../../host/workflow/terminal-ops.js';
import {
  type Clock,
  systemClock,
  systemTimers,
  type TimerHandle,
  type Timers,
} from '../../protocol/index.js';
import type { DiscoveryChange, DiscoverySource, PortCandidate } from './discovery.js';
import {
  applyCandidate,
  closedError,
  copyInfo,
  disconnected,
  Lease,
  PortLoss,
  toPosbridgeError,
} from './lease.js';
import { NamedPorts } from './named-ports.js';

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

type Holder = 'identify' | 'heartbeat' | Lease;

interface Waiter {
  resolve(connection: TerminalConnection): void;
  reject(error: unknown): void;
}

interface Entry {
  readonly port: string;
  info: TerminalInfo;
  candidate: PortCandidate | undefined;
  driver: ManagedTerminal | undefined;
  holder: Holder | undefined;
  readonly waiters: Waiter[];
  ended: boolean;
  /** The port's end (DISCONNECTED, CLOSED): every call of a lease races it. */
  readonly loss: PortLoss;
  heartbeat: TimerHandle | undefined;
  readonly offs: Array<() => void>;
  /** Not TSP/1: left alone until it reappears (or a lease names it). */
  unsupported: boolean;
  /** The open failed: opened again after reprobeMs while still present. */
  retry: TimerHandle | undefined;
}

export class DaemonPortManager implements PortManager {
  private readonly open: OpenTerminal;
  private readonly discovery: DiscoverySource | undefined;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly identifyMs: number;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly reprobeMs: number;
  private readonly closeGraceMs: number;
  private readonly entries = new Map<string, Entry>();
  /** Ports whose link died while still present: probed again after reprobeMs. */
  private readonly reprobes = new Map<string, TimerHandle>();
  /** On-demand opens in progress, so that two leases of a new port open it once. */
  private readonly opening = new Map<string, Promise<Entry>>();
  private readonly listeners = new Set<(event: HubEvent) => void>();
  private readonly settleWaiters = new Set<() => void>();
  /** Ports opened because a lease named them: forgotten when idle, bounded in number. */
  private readonly named: NamedPorts;
  private offDiscovery: (() => void) | undefined;
  private started: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: DaemonPortManagerOptions) {
    this.open = options.open;
    this.discovery = options.discovery;
    this.logger = options.logger;
    this.timers = options.timers ?? systemTimers;
    this.clock = options.clock ?? systemClock;
    this.identifyMs = options.identifyMs ?? MANAGER_DEFAULTS.identifyMs;
    this.heartbeatMs = options.heartbeatMs ?? MANAGER_DEFAULTS.heartbeatMs;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? MANAGER_DEFAULTS.heartbeatTimeoutMs;
    this.reprobeMs =
      options.reprobeMs ?? (this.heartbeatMs > 0 ? this.heartbeatMs : MANAGER_DEFAULTS.reprobeMs);
    this.closeGraceMs = options.closeGraceMs ?? MANAGER_DEFAULTS.closeGraceMs;
    this.named = new NamedPorts({
      idleMs: options.namedIdleMs ?? MANAGER_DEFAULTS.namedIdleMs,
      max: options.maxNamedPorts ?? MANAGER_DEFAULTS.maxNamedPorts,
      timers: this.timers,
      clock: this.clock,
      evict: (port, why) => this.forgetNamed(port, why),
      inUse: (port) => {
        const entry = this.entries.get(port);
        const leased = entry !== undefined && (entry.holder instanceof Lease || entry.waiters.length > 0);
        return leased || this.opening.has(port);
      },
    });
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
        if (!this.entries.has(candidate.port) && !this.reprobes.has(candidate.port)) this.probe(candidate);
      }
    })();
    return this.started;
  }

  /** Resolves when no port is being opened or identified (a scan waits for this). */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => {
      this.settleWaiters.add(resolve);
    });
  }

  list(): TerminalInfo[] {
    return [...this.entries.values()].filter((e) => !e.ended).map((e) => copyInfo(e.info));
  }

  subscribe(listener: (event: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: HubEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event: event.type }, 'port manager: event listener threw');
      }
    }
  }

  async lease(port: string): Promise<TerminalConnection> {
    if (this.closing) throw closedError(port);
    let entry = this.entries.get(port);
    if (!entry || entry.ended) entry = await this.openOnDemand(port);
    else if (entry.info.state === 'error') this.reopen(entry, 'a lease named it');
    return this.enqueue(entry);
  }

  /**
   * Stops discovery, refuses new leases, fails queued ones (CLOSED), waits for running leases to be
   * given back (at most closeGraceMs; then their ports close under them), and closes every port.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.offDiscovery?.();
    this.named.close();
    await this.discovery?.close();
    for (const timer of this.reprobes.values()) this.timers.clearTimeout(timer);
    this.reprobes.clear();
    const leased: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      this.clearTimers(entry);
      for (const waiter of entry.waiters.splice(0)) waiter.reject(closedError(entry.port));
      if (entry.holder instanceof Lease) leased.push(entry.holder.released);
    }
    await Promise.allSettled([...this.opening.values()]);
    if (leased.length > 0) {
      let timer: TimerHandle | undefined;
      await Promise.race([
        Promise.all(leased),
        new Promise<void>((resolve) => {
          timer = this.timers.setTimeout(resolve, this.closeGraceMs);
        }),
      ]);
      if (timer !== undefined) this.timers.clearTimeout(timer);
    }
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      entries.map(async (entry) => {
        this.clearTimers(entry);
        entry.ended = true;
        entry.loss.lose(closedError(entry.port));
        for (const off of entry.offs.splice(0)) off();
        await this.closeDriver(entry);
      }),
    );
    this.notifySettled();
  }

  // --- discovery ---------------------------------------------------------------------------

  private onDiscovery(change: DiscoveryChange): void {
    if (this.closing) return;
    const { candidate } = change;
    const entry = this.entries.get(candidate.port);
    if (change.type === 'disappeared') {
      this.cancelReprobe(candidate.port);
      if (entry) this.markGone(entry, disconnected(candidate.port, 'the port disappeared'));
      return;
    }
    this.cancelReprobe(candidate.port);
    // A lease is opening it right now: that open makes the entry.
    if (this.opening.has(candidate.port)) return;
    if (entry && !entry.ended) {
      // Opened on demand before discovery saw it: it gains the listing's details, and discovery
      // decides from now on when it goes.
      this.named.forget(candidate.port);
      entry.candidate = candidate;
      applyCandidate(entry.info, candidate);
      return;
    }
    this.probe(candidate);
  }

  // --- opening and identifying ------------------------------------------------------------

  /** A candidate that appeared: announce it, open it, identify it. */
  private probe(candidate: PortCandidate): void {
    const entry = this.newEntry(candidate.port, candidate);
    this.entries.set(entry.port, entry);
    this.emit('terminal-added', entry);
    void this.openAndIdentify(entry);
  }

  private async openAndIdentify(entry: Entry): Promise<void> {
    entry.holder = 'identify';
    let driver: ManagedTerminal;
    try {
      driver = await this.open(entry.port);
    } catch (error) {
      if (!this.isCurrent(entry)) return;
      entry.holder = undefined;
      this.openFailed(entry, error);
      return;
    }
    if (!this.isCurrent(entry)) {
      await driver.close().catch(() => undefined);
      return;
    }
    this.attach(entry, driver);
    await this.identify(entry);
  }

  private async openOnDemand(port: string): Promise<Entry> {
    const pending = this.opening.get(port);
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
      const previous = this.entries.get(port);
      if (previous && !previous.ended) {
        // Discovery found it meanwhile: use that one.
        await driver.close().catch(() => undefined);
        return previous;
      }
      const candidate = this.discovery?.candidates().find((c) => c.port === port);
      const entry = this.newEntry(port, candidate);
      this.entries.set(port, entry);
      if (!candidate) this.named.add(port);
      this.emit('terminal-added', entry);
      entry.holder = 'identify';
      this.attach(entry, driver);
      void this.identify(entry);
      return entry;
    })();
    this.opening.set(port, opening);
    try {
      return await opening;
    } finally {
      this.opening.delete(port);
    }
  }

  private attach(entry: Entry, driver: ManagedTerminal): void {
    entry.driver = driver;
    entry.offs.push(
      driver.onClose((error) => {
        if (!this.isCurrent(entry)) return;
        this.markGone(
          entry,
          isPosbridgeError(error, 'DISCONNECTED')
            ? error
            : disconnected(entry.port, (error as Error).message),
        );
      }),
    );
    if (driver.onEvent) {
      entry.offs.push(
        driver.onEvent((event) => {
          if (!this.isCurrent(entry) || entry.info.state !== 'present') return;
          // EVT boot, EVT state...: what STATUS says may have changed.
          this.logger.debug(
            { port: entry.port, event: event.name },
            'port manager: event, refreshing status',
          );
          this.scheduleHeartbeat(entry, 0);
        }),
      );
    }
  }

  private async identify(entry: Entry): Promise<void> {
    const driver = entry.driver!;
    const started = this.clock.now();
    let hello: HelloInfo;
    let status: StatusInfo;
    try {
      [hello, status] = await this.within(
        this.identifyMs,
        (async () => [await driver.hello(), await driver.status()] as const)(),
        () =>
          new PosbridgeError(
            'TIMEOUT',
            `${entry.port}: no TSP/1 reply to HELLO and STATUS within ${this.identifyMs} ms`,
            {
              details: { port: entry.port },
            },
          ),
      );
    } catch (error) {
      if (!this.isCurrent(entry)) return;
      entry.holder = undefined;
      if (isPosbridgeError(error, 'DISCONNECTED') || isPosbridgeError(error, 'CLOSED')) {
        this.markGone(
          entry,
          isPosbridgeError(error, 'DISCONNECTED')
            ? error
            : disconnected(entry.port, (error as Error).message),
        );
        return;
      }
      await this.unsupported(entry, error);
      return;
    }
    if (!this.isCurrent(entry)) return;
    entry.holder = undefined;
    entry.info.hello = hello;
    entry.info.status = status;
    delete entry.info.error;
    this.setState(entry, 'present');
    this.logger.info(
      { port: entry.port, sn: hello.sn, model: hello.model, ms: this.clock.now() - started },
      'port manager: terminal identified',
    );
    this.emit('terminal-updated', entry);
    this.pump(entry);
    if (entry.holder === undefined) this.scheduleHeartbeat(entry);
    this.notifySettled();
  }

  /** No valid TSP/1 reply: close the port, leave it alone until it reappears. */
  private async unsupported(entry: Entry, cause: unknown): Promise<void> {
    const why = (cause as Error)?.message ?? String(cause);
    const error = new PosbridgeError('UNSUPPORTED', `${entry.port}: not a TSP/1 terminal (${why})`, {
      hint: 'If it is not a terminal, take its USB ID off the allow-list (or the port off `ports`). If it is, unplug it and plug it in again once it is on.',
      details: { port: entry.port },
      cause,
    });
    // A terminal that answers 503 (restarting) is TSP/1 all right: try again later.
    const transient = isTerminalError(cause, 503);
    entry.unsupported = !transient;
    this.logger.warn({ port: entry.port, err: cause }, 'port manager: could not identify the terminal');
    this.failEntry(entry, transient ? toPosbridgeError(cause, entry.port) : error);
    await this.closeDriver(entry);
    if (transient) this.scheduleRetry(entry);
  }

  private openFailed(entry: Entry, cause: unknown): void {
    const error = toPosbridgeError(cause, entry.port);
    this.logger.warn({ port: entry.port, err: error }, 'port manager: cannot open the port');
    this.failEntry(entry, error);
    this.scheduleRetry(entry);
  }

  /** State `error`: waiters fail with `error`, the entry stays listed. */
  private failEntry(entry: Entry, error: PosbridgeError): void {
    this.clearTimers(entry);
    for (const off of entry.offs.splice(0)) off();
    entry.info.error = { code: error.code, message: error.message };
    this.setState(entry, 'error');
    this.emit('terminal-updated', entry);
    for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
    this.notifySettled();
  }

  /** Opens an `error` port again, after reprobeMs (open failed, or the terminal was restarting). */
  private scheduleRetry(entry: Entry): void {
    if (this.closing || entry.unsupported) return;
    if (entry.retry !== undefined) this.timers.clearTimeout(entry.retry);
    entry.retry = this.timers.setTimeout(() => {
      entry.retry = undefined;
      if (!this.isCurrent(entry) || entry.info.state !== 'error') return;
      if (this.discovery && entry.candidate && !this.discovery.has(entry.port)) return;
      this.reopen(entry, 'retry');
    }, this.reprobeMs);
  }

  private reopen(entry: Entry, why: string): void {
    this.logger.debug({ port: entry.port, why }, 'port manager: opening again');
    if (entry.retry !== undefined) this.timers.clearTimeout(entry.retry);
    entry.retry = undefined;
    entry.unsupported = false;
    delete entry.info.error;
    entry.driver = undefined;
    this.setState(entry, 'identifying');
    this.emit('terminal-updated', entry);
    void this.openAndIdentify(entry);
  }

  // --- leases ------------------------------------------------------------------------------

  private enqueue(entry: Entry): Promise<TerminalConnection> {
    return new Promise<TerminalConnection>((resolve, reject) => {
      entry.waiters.push({ resolve, reject });
      this.pump(entry);
    });
  }

  /** Hands the port to the next waiter if it is free. */
  private pump(entry: Entry): void {
    if (!this.isCurrent(entry) || entry.holder !== undefined) return;
    if (entry.info.state !== 'present' && entry.info.state !== 'busy') return;
    const waiter = entry.waiters.shift();
    if (!waiter) {
      if (entry.info.state === 'busy') {
        this.setState(entry, 'present');
        this.emit('terminal-updated', entry);
      }
      return;
    }
    if (entry.heartbeat !== undefined) this.timers.clearTimeout(entry.heartbeat);
    entry.heartbeat = undefined;
    const lease = new Lease(entry.port, entry.driver!, entry, () => this.release(entry, lease));
    entry.holder = lease;
    this.named.leased(entry.port);
    if (entry.info.state !== 'busy') {
      this.setState(entry, 'busy');
      this.emit('terminal-updated', entry);
    }
    waiter.resolve(lease);
  }

  private release(entry: Entry, lease: Lease): void {
    if (entry.holder !== lease) return;
    entry.holder = undefined;
    if (!this.isCurrent(entry)) return;
    if (entry.waiters.length > 0) {
      this.pump(entry);
      return;
    }
    this.setState(entry, 'present');
    this.emit('terminal-updated', entry);
    this.named.idle(entry.port);
    // What the operation changed (factory passwords, state) shows at once; an operation refused
    // before its first request (a --baud the port is not at) changed nothing and sends nothing.
    if (lease.used) void this.beat(entry);
    else this.scheduleHeartbeat(entry);
  }

  // --- heartbeat ---------------------------------------------------------------------------

  /** The next heartbeat after heartbeatMs (none when 0), or after `delay` (a refresh). */
  private scheduleHeartbeat(entry: Entry, delay?: number): void {
    if (this.closing || !this.isCurrent(entry)) return;
    if (delay === undefined && this.heartbeatMs <= 0) return;
    if (entry.heartbeat !== undefined) this.timers.clearTimeout(entry.heartbeat);
    entry.heartbeat = this.timers.setTimeout(() => {
      entry.heartbeat = undefined;
      void this.beat(entry);
    }, delay ?? this.heartbeatMs);
  }

  /** One STATUS on an idle link: alive (maybe changed), or gone. */
  private async beat(entry: Entry): Promise<void> {
    if (this.closing || !this.isCurrent(entry) || entry.holder !== undefined) return;
    if (entry.info.state !== 'present') return;
    const driver = entry.driver!;
    entry.holder = 'heartbeat';
    let status: StatusInfo;
    try {
      status = await this.within(this.heartbeatTimeoutMs, driver.status(), () =>
        disconnected(entry.port, `no reply to the STATUS heartbeat within ${this.heartbeatTimeoutMs} ms`),
      );
    } catch (error) {
      if (!this.isCurrent(entry)) return;
      entry.holder = undefined;
      if (isTerminalError(error) || isPosbridgeError(error, 'BAD_REPLY')) {
        // It answered (busy, restarting, a damaged line): the link is alive.
        this.logger.debug({ port: entry.port, err: error }, 'port manager: heartbeat answered with an error');
        this.afterBeat(entry);
        return;
      }
      this.logger.warn({ port: entry.port, err: error }, 'port manager: link is dead');
      this.markGone(
        entry,
        isPosbridgeError(error, 'DISCONNECTED')
          ? error
          : disconnected(entry.port, (error as Error)?.message ?? String(error)),
      );
      return;
    }
    if (!this.isCurrent(entry)) return;
    entry.holder = undefined;
    if (JSON.stringify(status) !== JSON.stringify(entry.info.status)) {
      entry.info.status = status;
      this.emit('terminal-updated', entry);
    }
    this.afterBeat(entry);
  }

  private afterBeat(entry: Entry): void {
    this.pump(entry);
    if (entry.holder === undefined && this.heartbeatMs > 0) this.scheduleHeartbeat(entry);
  }

  // --- going away --------------------------------------------------------------------------

  /** Unplugged, or the link died: `terminal-removed`, everything pending fails with `error` (DISCONNECTED). */
  private markGone(entry: Entry, error: PosbridgeError): void {
    if (entry.ended) return;
    this.logger.info({ port: entry.port, reason: error.message }, 'port manager: terminal gone');
    this.retire(entry, error);
    // Still listed (a link that went silent, a terminal that re-enumerated under the same name).
    if (!this.closing && this.discovery?.has(entry.port) && !this.reprobes.has(entry.port)) {
      this.reprobes.set(
        entry.port,
        this.timers.setTimeout(() => {
          this.reprobes.delete(entry.port);
          if (this.closing || this.entries.has(entry.port)) return;
          const candidate = this.discovery?.candidates().find((c) => c.port === entry.port);
          if (candidate) this.probe(candidate);
        }, this.reprobeMs),
      );
    }
  }

  /** A named port idle too long, or evicted for room: closed and removed (named-ports.ts). */
  private forgetNamed(port: string, why: string): void {
    const entry = this.entries.get(port);
    if (!entry || entry.ended || this.closing) return;
    const error = new PosbridgeError(
      'CLOSED',
      `${port}: closed and forgotten by the daemon (${why}); naming it again opens it again`,
      { details: { port } },
    );
    this.logger.info({ port, why }, 'port manager: forgetting a named port');
    this.retire(entry, error);
  }

  /** Out of the table: `terminal-removed` (state gone), pending work fails with `error`, port closed. */
  private retire(entry: Entry, error: PosbridgeError): void {
    entry.ended = true;
    this.clearTimers(entry);
    for (const off of entry.offs.splice(0)) off();
    entry.loss.lose(error);
    for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
    if (this.entries.get(entry.port) === entry) this.entries.delete(entry.port);
    this.named.forget(entry.port);
    entry.info.state = 'gone';
    entry.info.since = this.now();
    entry.info.error = { code: error.code, message: error.message };
    this.emit('terminal-removed', entry);
    void this.closeDriver(entry);
    this.notifySettled();
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
    this.timers.clearTimeout(timer);
    this.reprobes.delete(port);
  }

  private async closeDriver(entry: Entry): Promise<void> {
    const driver = entry.driver;
    if (!driver) return;
    try {
      await driver.close();
    } catch (error) {
      this.logger.debug({ port: entry.port, err: error }, 'port manager: close failed');
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  private newEntry(port: string, candidate: PortCandidate | undefined): Entry {
    const info: TerminalInfo = { port, state: 'identifying', since: this.now() };
    if (candidate) applyCandidate(info, candidate);
    return {
      port,
      info,
      candidate,
      driver: undefined,
      holder: undefined,
      waiters: [],
      ended: false,
      loss: new PortLoss(),
      heartbeat: undefined,
      offs: [],
      unsupported: false,
      retry: undefined,
    };
  }

  private isCurrent(entry: Entry): boolean {
    return !entry.ended && this.entries.get(entry.port) === entry && !this.closing;
  }

  private setState(entry: Entry, state: TerminalInfo['state']): void {
    if (entry.info.state === state) return;
    entry.info.state = state;
    entry.info.since = this.now();
  }

  private clearTimers(entry: Entry): void {
    if (entry.heartbeat !== undefined) this.timers.clearTimeout(entry.heartbeat);
    if (entry.retry !== undefined) this.timers.clearTimeout(entry.retry);
    entry.heartbeat = undefined;
    entry.retry = undefined;
  }

  private emit(type: 'terminal-added' | 'terminal-updated' | 'terminal-removed', entry: Entry): void {
    this.publish({ type, terminal: copyInfo(entry.info) });
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private isSettled(): boolean {
    if (this.opening.size > 0) return false;
    for (const entry of this.entries.values()) {
      if (!entry.ended && entry.info.state === 'identifying') return false;
    }
    return true;
  }

  private notifySettled(): void {
    if (this.settleWaiters.size === 0 || !this.isSettled()) return;
    const waiters = [...this.settleWaiters];
    this.settleWaiters.clear();
    for (const resolve of waiters) resolve();
  }

  /** `promise`, or `timeout()`'s error after `ms` (the promise's own outcome is then ignored). */
  private within<T>(ms: number, promise: Promise<T>, timeout: () => PosbridgeError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => reject(timeout()), ms);
      promise.then(
        (value) => {
          this.timers.clearTimeout(timer);
          resolve(value);
        },
        (error) => {
          this.timers.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
