/**
 * The depot of the fleet tests: stations (each a `posbridge daemon` process with its own config
 * directory, socket, audit trail and mock:// terminals, publishing to a broker) and an observer
 * (an MQTT client of the test's own that records every message the broker hands it). Everything
 * lives in one temporary directory; waits are on process output and on messages, each bounded.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { ADMIN_PASSWORD, cleanEnv } from './cli-inproc.js';
import { type Children, type CliProcess, type ProcessRun, runCliProcess } from './cli-process.js';
import { provisionArgv } from './constants.js';
import { deadline } from './wait.js';

export interface StationRig {
  name: string;
  dir: string;
  config: string;
  audit: string;
  env: NodeJS.ProcessEnv;
  /** The mock:// ports of its terminals (config `ports` and `--port` alike). */
  ports: string[];
}

/** `mqtt`: the config section (a `passwordFile` is written from `password` here). */
export function createStation(
  root: string,
  name: string,
  mqtt: Record<string, unknown> & { password?: string },
  terminals = 3,
): StationRig {
  const dir = join(root, name);
  mkdirSync(join(dir, 'run'), { recursive: true, mode: 0o700 });
  const { password, ...section } = mqtt;
  if (password !== undefined) {
    writeFileSync(join(dir, 'mqtt.pw'), `${password}\n`, { mode: 0o600 });
    section.passwordFile = 'mqtt.pw';
  }
  const ports = Array.from(
    { length: terminals },
    (_, i) => `mock://${name}-${i}?sn=${name.toUpperCase()}-${i}&diag-time-scale=0`,
  );
  const config = join(dir, 'daemon.json');
  writeFileSync(
    config,
    JSON.stringify({
      station: name,
      ports,
      watch: [],
      timeouts: { requestMs: 1000, identifyMs: 5000, heartbeatMs: 0 },
      mqtt: { reconnect: { minMs: 100, maxMs: 800 }, ...section },
    }),
  );
  const env = cleanEnv(dir, {
    POSBRIDGE_SOCKET: join(dir, 'run', 'd.sock'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
  });
  return { name, dir, config, audit: join(dir, 'audit.sqlite3'), env, ports };
}

export async function startDaemon(children: Children, station: StationRig): Promise<CliProcess> {
  const daemon = children.spawn(['daemon', '--config', station.config], {
    cwd: station.dir,
    env: station.env,
  });
  await daemon.waitForStdout(/listening on/, `the daemon of ${station.name} to listen`);
  return daemon;
}

/** A whole provisioning through the station's daemon (a profile file, if given, in its dir). */
export function provision(
  station: StationRig,
  port: string,
  terminal: string,
  profile?: string,
): Promise<ProcessRun> {
  const extra: string[] = [];
  if (profile !== undefined) {
    writeFileSync(join(station.dir, 'profile.yaml'), profile);
    extra.push('--profile', 'profile.yaml');
  }
  return runCliProcess(
    [...provisionArgv(port, join(station.dir, `ops-${terminal}.txt`), { terminal }), ...extra],
    { cwd: station.dir, env: station.env, input: `${ADMIN_PASSWORD}\n` },
  );
}

/** `posbridge report --format json --audit FILE` (a station's trail or a depot). */
export async function reportOf(
  dir: string,
  env: NodeJS.ProcessEnv,
  audit: string,
): Promise<Array<Record<string, unknown>>> {
  const run = await runCliProcess(['report', '--format', 'json', '--include-mocks', '--audit', audit], {
    cwd: dir,
    env,
  });
  if (run.code !== 0) throw new Error(`report failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Array<Record<string, unknown>>;
}

export interface Seen {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** An MQTT client of the test's own: every message of `filters`, as the broker hands them. */
export class Observer {
  readonly messages: Seen[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: Buffer.from(payload), retain: packet.retain });
      for (const wake of [...this.waiters]) wake();
    });
  }

  static async connect(url: string, options: IClientOptions, filters: string[]): Promise<Observer> {
    const client = connect(url, { protocolVersion: 5, reconnectPeriod: 200, ...options });
    const observer = new Observer(client);
    await deadline(
      new Promise<void>((resolve) => client.once('connect', () => resolve())),
      `the observer to connect to ${url}`,
    );
    await client.subscribeAsync(filters, { qos: 1 });
    return observer;
  }

  /** The audit records seen for `station`, parsed, in arrival order. */
  audit(station: string): Array<{ seq: number; hash: string }> {
    return this.messages
      .filter((m) => m.topic === `posbridge/${station}/audit`)
      .map((m) => JSON.parse(m.payload.toString('utf8')) as { seq: number; hash: string });
  }

  async waitFor(test: () => boolean, what: string, ms = 20_000): Promise<void> {
    const check = new Promise<void>((resolve) => {
      const wake = () => {
        if (!test()) return;
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      wake();
    });
    await deadline(check, what, ms);
  }

  /** Waits until `station`'s audit records reached `seq`. */
  waitForAudit(station: string, seq: number): Promise<void> {
    return this.waitFor(
      () => this.audit(station).some((r) => r.seq === seq),
      `record ${seq} of ${station} on the broker (seen: ${this.audit(station)
        .map((r) => r.seq)
        .join(',')})`,
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
