/**
 * What `posbridge fleet status` shows (docs/fleet.md, "One view of the depot"): every station's
 * retained messages (status, terminals, last runs), read from the broker alone. One connection,
 * clean, nothing retried: a supervisor asking for a view wants the reason now, not a wait.
 *
 * The broker sends the retained messages right after the SUBACK; the view is complete once no
 * message came for `quietMs` (bounded by `maxMs`, so a busy depot still gets an answer).
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { PosbridgeError } from '../../host/errors.js';
import type { TimerHandle, Timers } from '../../protocol/index.js';
import { type ConnectFn, describeFailure } from './link.js';
import {
  type RunsPayload,
  readPayload,
  runsPayload,
  type StatusPayload,
  statusPayload,
  type TerminalPayload,
  terminalPayload,
} from './payloads.js';
import { parseTopic } from './topics.js';

export interface StationView {
  prefix: string;
  /** From its payloads; the prefix's last level when it has sent none that name it. */
  station: string;
  status?: StatusPayload;
  terminals: TerminalPayload[];
  runs: RunsPayload['runs'];
  /** Messages under this prefix that do not fit their schema (topic: problem). */
  unreadable: string[];
}

export interface FleetViewOptions {
  url: string;
  clientOptions: IClientOptions;
  connect: ConnectFn;
  /** Matches every station's prefix (`posbridge/+`). */
  prefixFilter: string;
  timers: Timers;
  quietMs?: number;
  maxMs?: number;
}

/** A failed connection as the CLI reports it: refused (exit 1) or unreachable (exit 3). */
export function brokerError(failure: { level: 'error' | 'warn'; message: string }): PosbridgeError {
  // The link names the daemon's config fields; here they are the command's flags.
  const message = failure.message
    .replaceAll('the file mqtt.passwordFile names', 'the file --password-file names')
    .replace(/\bmqtt\.(username|ca|cert|key|clientId)\b/g, (_, f: string) =>
      f === 'clientId' ? '--client-id' : `--${f}`,
    );
  return failure.level === 'error'
    ? new PosbridgeError('BROKER_REFUSED', message)
    : new PosbridgeError('BROKER_UNREACHABLE', message, {
        hint: 'check the address and that the broker runs; nothing was changed',
      });
}

/** Connects once; resolves when connected, rejects with a BROKER_* error. */
export function connectOnce(
  url: string,
  options: IClientOptions,
  connect: ConnectFn,
  timers: Timers,
): Promise<MqttClient> {
  const client = connect(url, { connectTimeout: 10_000, ...options, protocolVersion: 5, reconnectPeriod: 0 });
  return new Promise((resolve, reject) => {
    let lastError: unknown;
    const bound = timers.setTimeout(() => {
      client.end(true);
      reject(brokerError(describeFailure(url, undefined)));
    }, 15_000);
    client.on('error', (error) => {
      lastError = error;
    });
    client.once('connect', () => {
      timers.clearTimeout(bound);
      resolve(client);
    });
    client.once('close', () => {
      timers.clearTimeout(bound);
      client.end(true);
      reject(brokerError(describeFailure(url, lastError)));
    });
  });
}

export function emptyView(prefix: string): StationView {
  return {
    prefix,
    station: fromPrefix(prefix),
    terminals: [],
    runs: [],
    unreadable: [],
  };
}

function fromPrefix(prefix: string): string {
  return prefix.slice(prefix.lastIndexOf('/') + 1);
}

/** Files one message into the views (exported for the tests of odd payloads). */
export function takeMessage(views: Map<string, StationView>, topic: string, payload: Buffer): void {
  const parsed = parseTopic(topic);
  if (!parsed || !['status', 'terminal', 'runs'].includes(parsed.kind)) return;
  const view = views.get(parsed.prefix) ?? emptyView(parsed.prefix);
  views.set(parsed.prefix, view);
  if (parsed.kind === 'terminal') {
    view.terminals = view.terminals.filter((t) => t.sn !== parsed.sn);
    if (payload.length === 0) return; // unplugged: its retained message was emptied
    const read = readPayload(terminalPayload, payload);
    if (read.ok) {
      view.terminals.push(read.value);
      view.terminals.sort((a, b) => a.sn.localeCompare(b.sn));
      view.station = read.value.station;
    } else view.unreadable.push(`${topic}: ${read.problem}`);
  } else if (parsed.kind === 'status') {
    const read = readPayload(statusPayload, payload);
    if (read.ok) {
      view.status = read.value;
      view.station = read.value.station;
    } else view.unreadable.push(`${topic}: ${read.problem}`);
  } else {
    const read = readPayload(runsPayload, payload);
    if (read.ok) {
      view.runs = read.value.runs;
      view.station = read.value.station;
    } else view.unreadable.push(`${topic}: ${read.problem}`);
  }
}

export async function readFleetView(options: FleetViewOptions): Promise<StationView[]> {
  const { timers } = options;
  const client = await connectOnce(
    options.url,
    { ...options.clientOptions, clean: true },
    options.connect,
    timers,
  );
  const views = new Map<string, StationView>();
  let quiet: TimerHandle | undefined;
  try {
    const settled = new Promise<void>((resolve, reject) => {
      const max = timers.setTimeout(resolve, options.maxMs ?? 10_000);
      const again = () => {
        if (quiet !== undefined) timers.clearTimeout(quiet);
        quiet = timers.setTimeout(() => {
          timers.clearTimeout(max);
          resolve();
        }, options.quietMs ?? 500);
      };
      client.on('message', (topic, payload) => {
        takeMessage(views, topic, payload);
        again();
      });
      client.once('close', () => reject(brokerError(describeFailure(options.url, undefined))));
      const f = options.prefixFilter;
      client.subscribe([`${f}/status`, `${f}/terminals/+`, `${f}/runs`], { qos: 1 }, (error, granted) => {
        const denied = granted?.find((g) => g.qos >= 0x80);
        if (error || denied)
          reject(
            new PosbridgeError(
              'BROKER_REFUSED',
              `the MQTT broker ${options.url} refused the subscription to ${denied?.topic ?? f}: check its access rules for this user`,
            ),
          );
        else again();
      });
    });
    await settled;
  } finally {
    if (quiet !== undefined) timers.clearTimeout(quiet);
    client.end(true);
  }
  return [...views.values()].sort((a, b) => a.station.localeCompare(b.station));
}
