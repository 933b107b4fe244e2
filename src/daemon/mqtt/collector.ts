/**
 * The depot's collector (`posbridge fleet collect`, docs/fleet.md "Collecting"): every station's
 * audit records from the broker into one depot file, each checked against its station's chain as
 * it arrives (src/audit/depot.ts).
 *
 * - A persistent session (clean start off, a fixed client ID, a session expiry): while the
 *   collector is away, the broker keeps its QoS 1 records for it.
 * - A record is acknowledged (PUBACK) only once the depot has committed it: the message handler
 *   runs before mqtt.js sends the PUBACK, and a depot that cannot be written stops the collector
 *   without one, so the broker delivers the record again next time.
 * - Several collectors of one depot share the load with a shared subscription
 *   (`$share/<group>/<filter>/audit`): the broker gives each record to one of them.
 * - A station whose records stop at a gap (the collector started after them, its session expired,
 *   the broker dropped some) is asked for them again: `{from}` on `<prefix>/audit/replay`, after
 *   `gapWaitMs` without the gap filling (records of a shared group arrive out of order for a
 *   moment; that is not a gap worth asking about), then again at doubling intervals.
 */
import type { IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { ChainRecord, DepotAccept, DepotStore } from '../../audit/index.js';
import type { TimerHandle, Timers } from '../../protocol/index.js';
import { type ConnectFn, MqttLink } from './link.js';
import { auditPayload, readPayload } from './payloads.js';
import { parseTopic, stationTopics } from './topics.js';

export type CollectorEvent =
  | { kind: 'connected'; sessionPresent: boolean }
  | { kind: 'failure'; level: 'error' | 'warn'; message: string; retryInMs: number }
  | { kind: 'record'; topic: string; result: DepotAccept }
  | { kind: 'unreadable'; topic: string; problem: string }
  | { kind: 'replay'; station: string; topic: string; from: number }
  /** The depot cannot be written: the collector stopped, the record unacknowledged. */
  | { kind: 'fatal'; error: Error };

export interface CollectorOptions {
  depot: Pick<DepotStore, 'accept' | 'head' | 'stations'>;
  url: string;
  /** Credentials and TLS material; the client ID and session are set here. */
  clientOptions: IClientOptions;
  clientId: string;
  connect: ConnectFn;
  /** Matches every station's prefix (`posbridge/+`). */
  prefixFilter: string;
  /** A shared subscription group, for several collectors of one depot. */
  group?: string;
  /** How long the broker keeps the session while the collector is away (default a week). */
  sessionExpirySeconds?: number;
  /** How long a gap may last before its records are asked for again (default 2000 ms). */
  gapWaitMs?: number;
  timers: Timers;
  logger: Logger;
  reconnect?: { minMs: number; maxMs: number };
  onEvent(event: CollectorEvent): void;
}

export function auditFilter(prefixFilter: string, group?: string): string {
  return `${group ? `$share/${group}/` : ''}${prefixFilter}/audit`;
}

export class Collector {
  private readonly link: MqttLink;
  /** Where each station's records come from, to ask it for a replay. */
  private readonly prefixOf = new Map<string, string>();
  private readonly gapTimers = new Map<string, { timer: TimerHandle; waitMs: number }>();
  private firstUp: { resolve(): void; reject(error: { level: string; message: string }): void } | undefined;
  private failed: Error | undefined;

  constructor(private readonly options: CollectorOptions) {
    this.link = new MqttLink({
      url: options.url,
      clientOptions: {
        ...options.clientOptions,
        clientId: options.clientId,
        clean: false,
        properties: { sessionExpiryInterval: options.sessionExpirySeconds ?? 7 * 24 * 3600 },
      },
      connect: options.connect,
      timers: options.timers,
      reconnect: options.reconnect ?? { minMs: 500, maxMs: 10_000 },
      logger: options.logger,
      onUp: ({ sessionPresent }) => {
        options.onEvent({ kind: 'connected', sessionPresent });
        this.link.subscribe([auditFilter(options.prefixFilter, options.group)], 1).then(
          () => {
            this.firstUp?.resolve();
            this.firstUp = undefined;
            this.askForTheRest();
          },
          (error: Error) =>
            this.firstUp?.reject({ level: 'error', message: `cannot subscribe: ${error.message}` }),
        );
      },
      onFailure: (failure, retryInMs) => {
        options.onEvent({ kind: 'failure', ...failure, retryInMs });
        this.firstUp?.reject(failure);
      },
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    });
  }

  /** Connects and subscribes; rejects with the reason if the first connection fails. */
  start(): Promise<void> {
    const up = new Promise<void>((resolve, reject) => {
      this.firstUp = {
        resolve,
        reject: (failure) => {
          this.firstUp = undefined;
          reject(failure);
        },
      };
    });
    this.link.start();
    return up;
  }

  /** The depot could not keep a record: the collector stopped (no PUBACK was sent for it). */
  get error(): Error | undefined {
    return this.failed;
  }

  async stop(): Promise<void> {
    for (const { timer } of this.gapTimers.values()) this.options.timers.clearTimeout(timer);
    this.gapTimers.clear();
    await this.link.close();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.failed) return;
    const parsed = parseTopic(topic);
    if (parsed?.kind !== 'audit') return;
    const read = readPayload(auditPayload, payload);
    if (!read.ok) {
      this.options.onEvent({ kind: 'unreadable', topic, problem: read.problem });
      return;
    }
    const { v: _v, station, ...record } = read.value;
    let result: DepotAccept;
    try {
      result = this.options.depot.accept(station, record satisfies ChainRecord, parsed.prefix);
    } catch (error) {
      // Not kept, so not acknowledged: the link ends here, before mqtt.js sends the PUBACK that
      // follows this handler, and the broker keeps the record for next time.
      this.failed = error as Error;
      this.link.drop('the depot cannot be written');
      void this.link.close();
      this.options.onEvent({ kind: 'fatal', error: error as Error });
      return;
    }
    if (!this.prefixOf.has(station)) this.prefixOf.set(station, parsed.prefix);
    this.options.onEvent({ kind: 'record', topic, result });
    if (result.kind === 'held') this.watchGap(station);
  }

  /**
   * A new connection: every station we know is asked for what follows our head. A broker may
   * drop what it got for a shared subscription while no member was connected (Mosquitto does),
   * and a station that then sends nothing new would leave no gap to notice.
   */
  private askForTheRest(): void {
    for (const state of this.options.depot.stations()) {
      if (state.source === undefined) continue;
      this.prefixOf.set(state.station, state.source);
      this.requestReplay(state.station, state.source, state.head.seq + 1);
    }
  }

  private requestReplay(station: string, prefix: string, from: number): void {
    const topic = stationTopics(prefix).replay;
    this.options.onEvent({ kind: 'replay', station, topic, from });
    this.link
      .publish(topic, JSON.stringify({ v: 1, from }), { qos: 1, retain: false })
      .catch(() => undefined);
  }

  private watchGap(station: string, waitMs = this.options.gapWaitMs ?? 2000): void {
    if (this.gapTimers.has(station)) return;
    const timer = this.options.timers.setTimeout(() => {
      this.gapTimers.delete(station);
      const state = this.options.depot.stations().find((s) => s.station === station);
      if (!state || state.held === 0) return;
      this.requestReplay(station, this.prefixOf.get(station)!, state.head.seq + 1);
      this.watchGap(station, Math.min(waitMs * 2, 60_000));
    }, waitMs);
    this.gapTimers.set(station, { timer, waitMs });
  }
}
