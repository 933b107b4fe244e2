/**
 * The daemon's MQTT side, from one call (docs/fleet.md): given the `mqtt` config, the station,
 * its audit store and its port manager's events, it keeps a link to the broker (link.ts), sends
 * every audit record in order (audit-forwarder.ts) and the live views (live.ts), and answers a
 * collector's replay requests. The only thing the rest of the daemon does for it is tell it when
 * the trail has a new head (`record`, a HeadWitness), and close it after the last operation.
 *
 * Nothing here is awaited by an operation: a new head only schedules work for later in the event
 * loop, and the store is also looked at every `pollMs` (records another process appended).
 */
import type { IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { AuditRun, ChainAnchor, ChainRecord, HeadWitness, HistoryQuery } from '../../audit/index.js';
import type { TerminalHub } from '../../host/hub.js';
import type { RandomSource } from '../../host/timers.js';
import { systemTimers, type TimerHandle, type Timers } from '../../protocol/index.js';
import { AckCursorFile, cursorFileOf } from './ack-cursor.js';
import { AuditForwarder } from './audit-forwarder.js';
import type { MqttConfig } from './config.js';
import { clientAuth, readMqttMaterial } from './credentials.js';
import { type ConnectFn, MqttLink } from './link.js';
import { LivePublisher } from './live.js';
import { readPayload, replayPayload } from './payloads.js';
import { defaultPrefix, parseTopic, stationTopics } from './topics.js';

/** The audit store as the bridge reads it. */
export interface BridgeStore {
  recordsAfter(seq: number, limit: number): ChainRecord[];
  history(query: HistoryQuery): AuditRun[];
  head(): ChainAnchor;
}

export interface FleetBridgeOptions {
  config: MqttConfig;
  station: string;
  version: string;
  store: BridgeStore;
  /** The trail's file: the ack cursor lives next to it. */
  auditFile: string;
  hub: TerminalHub;
  logger: Logger;
  /** Default: the mqtt package's connect (loaded only when a broker is configured). */
  connect?: ConnectFn;
  timers?: Timers;
  now?: () => Date;
  random?: RandomSource;
  /** How often the store is looked at for records another process wrote (default 2000 ms). */
  pollMs?: number;
}

export interface FleetBridge extends HeadWitness {
  readonly prefix: string;
  readonly clientId: string;
  /** The last audit record the broker acknowledged. */
  acknowledged(): ChainAnchor;
  close(): Promise<void>;
}

/** A witness whose listener comes later: the store is opened before the bridge that follows it. */
export class HeadRelay implements HeadWitness {
  private listener: ((anchor: ChainAnchor) => void) | undefined;

  record(anchor: ChainAnchor): void {
    this.listener?.(anchor);
  }

  listen(listener: (anchor: ChainAnchor) => void): void {
    this.listener = listener;
  }
}

export async function startFleetBridge(options: FleetBridgeOptions): Promise<FleetBridge> {
  const { config, station, logger, store } = options;
  const timers = options.timers ?? systemTimers;
  const now = options.now ?? (() => new Date());
  const log = logger.child({ component: 'mqtt' });
  const material = await readMqttMaterial(config, log);
  const connect = options.connect ?? (await import('mqtt')).connect;
  const prefix = config.prefix ?? defaultPrefix(station);
  const topics = stationTopics(prefix);
  const clientId = config.clientId ?? `posbridge-${station}`;

  const clientOptions: IClientOptions = {
    clientId,
    clean: true,
    keepalive: 30,
    connectTimeout: 10_000,
    will: {
      topic: topics.status,
      payload: Buffer.from(JSON.stringify({ v: 1, station, state: 'offline' })),
      qos: 1,
      retain: true,
    },
    ...clientAuth(material, config.username),
  };
  const link = new MqttLink({
    url: config.url,
    clientOptions,
    connect,
    timers,
    ...(options.random && { random: options.random }),
    reconnect: config.reconnect,
    logger: log,
    onUp: () => {
      live.up();
      link.subscribe([topics.replay], 1).catch(() => undefined);
      forwarder.up();
    },
    onDown: () => forwarder.down(),
    onMessage: (topic, payload, retained) => {
      const kind = parseTopic(topic)?.kind;
      if (kind === 'terminal') live.onTerminalTopic(topic, payload, retained);
      else if (kind === 'replay' && topic === topics.replay) {
        const request = readPayload(replayPayload, payload);
        if (request.ok) forwarder.replay(request.value.from);
        else log.warn({ topic, problem: request.problem }, 'a replay request that cannot be read: ignored');
      }
    },
  });
  // The link's callbacks run once it has started, below: both exist by then.
  const forwarder: AuditForwarder = new AuditForwarder({
    feed: store,
    link,
    topic: topics.audit,
    station,
    cursor: new AckCursorFile(cursorFileOf(options.auditFile), { broker: config.url, prefix }, log),
    timers,
    logger: log,
  });
  const live: LivePublisher = new LivePublisher({
    link,
    topics,
    station,
    version: options.version,
    hub: options.hub,
    feed: store,
    logger: log,
    now,
  });
  live.start();

  // New heads come from inside an append: only schedule the work, never do it there.
  let scheduled = false;
  const poke = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      live.poke();
      forwarder.poke();
    });
  };
  let poll: TimerHandle | undefined;
  const pollMs = options.pollMs ?? 2000;
  const every = () => {
    poll = timers.setTimeout(() => {
      poke();
      every();
    }, pollMs);
  };
  every();
  log.info(
    { broker: config.url, prefix, clientId, from: forwarder.acknowledged.seq },
    'publishing to an MQTT broker',
  );
  link.start();

  return {
    prefix,
    clientId,
    record: () => poke(),
    acknowledged: () => forwarder.acknowledged,
    close: async () => {
      if (poll !== undefined) timers.clearTimeout(poll);
      live.stop();
      await link.close(() => live.offline());
      forwarder.flush();
    },
  };
}
