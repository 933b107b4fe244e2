/**
 * Opening and identifying a port: a candidate that appears is announced (`terminal-added`,
 * identifying), opened, and asked HELLO and STATUS within `identifyMs`; then it is `present`
 * (`terminal-updated` with hello/status). No valid reply by then: not a TSP/1 terminal; it is
 * marked `error`, its port is closed, and it is not probed again until it disappears and appears
 * again (or a lease names it). A port that failed to open, or a terminal that answered 503
 * (restarting), is tried again after `reprobeMs`.
 */
import { isPosbridgeError, isTerminalError, PosbridgeError } from '../../host/errors.js';
import type { HelloInfo, StatusInfo } from '../../host/workflow/terminal-ops.js';
import type { DiscoverySource, PortCandidate } from '../discovery/index.js';
import { disconnected, toPosbridgeError } from './lease.js';
import type { ManagedTerminal, OpenTerminal } from './options.js';
import type { Entry, PortTable } from './table.js';

export interface IdentifyOptions {
  open: OpenTerminal;
  discovery: DiscoverySource | undefined;
  identifyMs: number;
  reprobeMs: number;
}

/** What identification asks of the rest of the manager. */
export interface IdentifyHooks {
  /** The port is free: the next lease in line may have it. */
  pump(entry: Entry): void;
  /** The next heartbeat after heartbeatMs, or after `delay` (a refresh). */
  scheduleHeartbeat(entry: Entry, delay?: number): void;
  /** The link ended, or the terminal went away while being identified. */
  gone(entry: Entry, error: PosbridgeError): void;
}

export class Identification {
  constructor(
    private readonly table: PortTable,
    private readonly options: IdentifyOptions,
    private readonly hooks: IdentifyHooks,
  ) {}

  /** A candidate that appeared: announce it, open it, identify it. */
  probe(candidate: PortCandidate): void {
    const entry = this.table.newEntry(candidate.port, candidate);
    this.table.entries.set(entry.port, entry);
    this.table.emit('terminal-added', entry);
    void this.openAndIdentify(entry);
  }

  /** Listens to the open link: its end makes the port gone, its events refresh STATUS. */
  attach(entry: Entry, driver: ManagedTerminal): void {
    const { table } = this;
    entry.driver = driver;
    entry.offs.push(
      driver.onClose((error) => {
        if (!table.isCurrent(entry)) return;
        this.hooks.gone(
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
          if (!table.isCurrent(entry) || entry.info.state !== 'present') return;
          // EVT boot, EVT state...: what STATUS says may have changed.
          table.logger.debug(
            { port: entry.port, event: event.name },
            'port manager: event, refreshing status',
          );
          this.hooks.scheduleHeartbeat(entry, 0);
        }),
      );
    }
  }

  /** HELLO and STATUS within identifyMs; `openMs`, what opening the port took, is logged with it. */
  async identify(entry: Entry, openMs?: number): Promise<void> {
    const { table } = this;
    const { identifyMs } = this.options;
    const driver = entry.driver!;
    const started = table.nowMs();
    let hello: HelloInfo;
    let status: StatusInfo;
    try {
      [hello, status] = await table.within(
        identifyMs,
        (async () => [await driver.hello(), await driver.status()] as const)(),
        () =>
          new PosbridgeError(
            'TIMEOUT',
            `${entry.port}: no TSP/1 reply to HELLO and STATUS within ${identifyMs} ms`,
            {
              details: { port: entry.port },
            },
          ),
      );
    } catch (error) {
      if (!table.isCurrent(entry)) return;
      entry.holder = undefined;
      if (isPosbridgeError(error, 'DISCONNECTED') || isPosbridgeError(error, 'CLOSED')) {
        this.hooks.gone(
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
    if (!table.isCurrent(entry)) return;
    entry.holder = undefined;
    entry.info.hello = hello;
    entry.info.status = status;
    delete entry.info.error;
    table.setState(entry, 'present');
    table.logger.info(
      { port: entry.port, sn: hello.sn, model: hello.model, ms: table.nowMs() - started, openMs },
      'port manager: terminal identified',
    );
    table.emit('terminal-updated', entry);
    this.hooks.pump(entry);
    if (entry.holder === undefined) this.hooks.scheduleHeartbeat(entry);
    table.notifySettled();
  }

  /** An `error` port opened again now (a lease named it, or its retry is due). */
  reopen(entry: Entry, why: string): void {
    const { table } = this;
    table.logger.debug({ port: entry.port, why }, 'port manager: opening again');
    if (entry.retry !== undefined) table.timers.clearTimeout(entry.retry);
    entry.retry = undefined;
    entry.unsupported = false;
    delete entry.info.error;
    entry.driver = undefined;
    table.setState(entry, 'identifying');
    table.emit('terminal-updated', entry);
    void this.openAndIdentify(entry);
  }

  private async openAndIdentify(entry: Entry): Promise<void> {
    entry.holder = 'identify';
    const opening = this.table.nowMs();
    let driver: ManagedTerminal;
    try {
      driver = await this.options.open(entry.port);
    } catch (error) {
      if (!this.table.isCurrent(entry)) return;
      entry.holder = undefined;
      this.openFailed(entry, error);
      return;
    }
    if (!this.table.isCurrent(entry)) {
      await driver.close().catch(() => undefined);
      return;
    }
    this.attach(entry, driver);
    await this.identify(entry, this.table.nowMs() - opening);
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
    this.table.logger.warn({ port: entry.port, err: cause }, 'port manager: could not identify the terminal');
    this.failEntry(entry, transient ? toPosbridgeError(cause, entry.port) : error);
    await this.table.closeDriver(entry);
    if (transient) this.scheduleRetry(entry);
  }

  private openFailed(entry: Entry, cause: unknown): void {
    const error = toPosbridgeError(cause, entry.port);
    this.table.logger.warn({ port: entry.port, err: error }, 'port manager: cannot open the port');
    this.failEntry(entry, error);
    this.scheduleRetry(entry);
  }

  /** State `error`: waiters fail with `error`, the entry stays listed. */
  private failEntry(entry: Entry, error: PosbridgeError): void {
    const { table } = this;
    table.clearTimers(entry);
    for (const off of entry.offs.splice(0)) off();
    entry.info.error = { code: error.code, message: error.message };
    table.setState(entry, 'error');
    table.emit('terminal-updated', entry);
    for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
    table.notifySettled();
  }

  /** Opens an `error` port again, after reprobeMs (open failed, or the terminal was restarting). */
  private scheduleRetry(entry: Entry): void {
    const { table } = this;
    const { discovery } = this.options;
    if (table.closing || entry.unsupported) return;
    if (entry.retry !== undefined) table.timers.clearTimeout(entry.retry);
    entry.retry = table.timers.setTimeout(() => {
      entry.retry = undefined;
      if (!table.isCurrent(entry) || entry.info.state !== 'error') return;
      if (discovery && entry.candidate && !discovery.has(entry.port)) return;
      this.reopen(entry, 'retry');
    }, this.options.reprobeMs);
  }
}
