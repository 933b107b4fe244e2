/**
 * The port manager's table of ports: one Entry per port it knows, who holds each port's link (an
 * identification, a heartbeat or a lease), the state the hub shows for it and the events that
 * announce a change (hub.ts), and the waiters of settled(). manager.ts owns the table;
 * identify.ts, heartbeat.ts and lease-queue.ts work on its entries.
 */
import type { Logger } from 'pino';
import type { TerminalConnection } from '../../host/engine.js';
import type { PosbridgeError } from '../../host/errors.js';
import type { HubEvent, TerminalInfo } from '../../host/hub.js';
import type { Clock, TimerHandle, Timers } from '../../protocol/index.js';
import type { PortCandidate } from '../discovery/index.js';
import { applyCandidate, copyInfo, type Lease, PortLoss } from './lease.js';
import type { ManagedTerminal } from './options.js';

export type Holder = 'identify' | 'heartbeat' | Lease;

export interface Waiter {
  resolve(connection: TerminalConnection): void;
  reject(error: unknown): void;
}

export interface Entry {
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

export class PortTable {
  readonly entries = new Map<string, Entry>();
  /** On-demand opens in progress, so that two leases of a new port open it once. */
  readonly opening = new Map<string, Promise<Entry>>();
  /** Set when close() begins: nothing new starts, and no entry is current any more. */
  closing = false;
  private readonly listeners = new Set<(event: HubEvent) => void>();
  private readonly settleWaiters = new Set<() => void>();

  constructor(
    readonly logger: Logger,
    readonly timers: Timers,
    private readonly clock: Clock,
  ) {}

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

  newEntry(port: string, candidate: PortCandidate | undefined): Entry {
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

  isCurrent(entry: Entry): boolean {
    return !entry.ended && this.entries.get(entry.port) === entry && !this.closing;
  }

  setState(entry: Entry, state: TerminalInfo['state']): void {
    if (entry.info.state === state) return;
    entry.info.state = state;
    entry.info.since = this.now();
  }

  clearTimers(entry: Entry): void {
    if (entry.heartbeat !== undefined) this.timers.clearTimeout(entry.heartbeat);
    if (entry.retry !== undefined) this.timers.clearTimeout(entry.retry);
    entry.heartbeat = undefined;
    entry.retry = undefined;
  }

  emit(type: 'terminal-added' | 'terminal-updated' | 'terminal-removed', entry: Entry): void {
    this.publish({ type, terminal: copyInfo(entry.info) });
  }

  now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Milliseconds on the clock, for durations. */
  nowMs(): number {
    return this.clock.now();
  }

  /** Resolves when no port is being opened or identified (a scan waits for this). */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => {
      this.settleWaiters.add(resolve);
    });
  }

  notifySettled(): void {
    if (this.settleWaiters.size === 0 || !this.isSettled()) return;
    const waiters = [...this.settleWaiters];
    this.settleWaiters.clear();
    for (const resolve of waiters) resolve();
  }

  async closeDriver(entry: Entry): Promise<void> {
    const driver = entry.driver;
    if (!driver) return;
    try {
      await driver.close();
    } catch (error) {
      this.logger.debug({ port: entry.port, err: error }, 'port manager: close failed');
    }
  }

  /** `promise`, or `timeout()`'s error after `ms` (the promise's own outcome is then ignored). */
  within<T>(ms: number, promise: Promise<T>, timeout: () => PosbridgeError): Promise<T> {
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

  private isSettled(): boolean {
    if (this.opening.size > 0) return false;
    for (const entry of this.entries.values()) {
      if (!entry.ended && entry.info.state === 'identifying') return false;
    }
    return true;
  }
}
