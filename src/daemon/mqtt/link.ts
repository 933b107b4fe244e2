/**
 * The daemon's one connection to the broker, kept up: connect, and when it fails or drops, wait
 * and connect again, each wait twice the last from `reconnect.minMs` up to `reconnect.maxMs`
 * (less up to 1/8 at random, so a depot's stations do not all come back in the same instant),
 * back to `minMs` once a connection is made. Every failure is logged as what a person must fix:
 * refused credentials and TLS problems at error level, an unreachable broker at warn, each with
 * the wait before the next try. Nothing here ever blocks the caller: the daemon keeps working.
 *
 * mqtt.js's own reconnection is off (reconnectPeriod 0) and each attempt is a new client: its
 * store never resends old messages behind our back, so the audit forwarder alone decides what is
 * sent again, and in which order (audit-forwarder.ts).
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { type RandomSource, systemRandom } from '../../host/timers.js';
import type { TimerHandle, Timers } from '../../protocol/index.js';

export type ConnectFn = (url: string, options: IClientOptions) => MqttClient;

export interface MqttLinkOptions {
  url: string;
  /** Client ID, credentials, TLS material, last will. Never logged. */
  clientOptions: IClientOptions;
  connect: ConnectFn;
  timers: Timers;
  random?: RandomSource;
  reconnect: { minMs: number; maxMs: number };
  logger: Logger;
  /** A connection is up: publish and subscribe work from here. */
  onUp?(session: { sessionPresent: boolean }): void;
  onDown?(): void;
  /** A connection failed or was lost (already logged); the next attempt comes after `retryInMs`. */
  onFailure?(failure: { level: 'error' | 'warn'; message: string }, retryInMs: number): void;
  onMessage?(topic: string, payload: Buffer, retained: boolean): void;
}

export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

/** What a failed or lost connection means, for the log. */
export function describeFailure(url: string, error: unknown): { level: 'error' | 'warn'; message: string } {
  const e = error as { code?: unknown; message?: string } | undefined;
  const code = e?.code;
  const text = e?.message ?? '';
  if (code === 134 || code === 4)
    return {
      level: 'error',
      message: `the MQTT broker ${url} refused the credentials (bad user name or password): check mqtt.username and the password in the file mqtt.passwordFile names`,
    };
  // Mosquitto answers a wrong password with 135 too: both causes are named.
  if (code === 135 || code === 5)
    return {
      level: 'error',
      message: `the MQTT broker ${url} refused the connection: not authorized (a wrong user name or password, or its access rules refuse this user or certificate): check mqtt.username, the password in the file mqtt.passwordFile names, and the broker's rules`,
    };
  if (typeof code === 'number')
    return { level: 'error', message: `the MQTT broker ${url} refused the connection: ${text}` };
  if (typeof code === 'string' && (/CERT|TLS|SSL/.test(code) || /certificate|tls|ssl/i.test(text)))
    return {
      level: 'error',
      message: `TLS with the MQTT broker ${url} failed: ${text} (check mqtt.ca, and mqtt.cert and mqtt.key if the broker asks for a client certificate)`,
    };
  if (code === 'ECONNREFUSED')
    return {
      level: 'warn',
      message: `cannot reach the MQTT broker ${url}: connection refused (is it running?)`,
    };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return { level: 'warn', message: `cannot reach the MQTT broker ${url}: unknown host` };
  if (error === undefined) return { level: 'warn', message: `no answer from the MQTT broker ${url}` };
  return { level: 'warn', message: `cannot reach the MQTT broker ${url}: ${text || String(code)}` };
}

export class MqttLink {
  private client: MqttClient | undefined;
  private up = false;
  private failures = 0;
  private retry: TimerHandle | undefined;
  private closed = false;
  private readonly random: RandomSource;

  constructor(private readonly options: MqttLinkOptions) {
    this.random = options.random ?? systemRandom;
  }

  get connected(): boolean {
    return this.up;
  }

  start(): void {
    this.attempt();
  }

  /** The wait before the next attempt, after `failures` failed ones in a row. */
  nextDelay(failures: number): number {
    const { minMs, maxMs } = this.options.reconnect;
    const full = Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
    return Math.round(full - (full / 8) * this.random());
  }

  publish(topic: string, payload: string | Buffer, options: PublishOptions): Promise<void> {
    const client = this.client;
    if (!this.up || !client) return Promise.reject(new Error('not connected to the MQTT broker'));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, options, (error) => (error ? reject(error) : resolve()));
    });
  }

  subscribe(filters: string[], qos: 0 | 1): Promise<void> {
    const client = this.client;
    if (!this.up || !client) return Promise.reject(new Error('not connected to the MQTT broker'));
    return new Promise((resolve, reject) => {
      client.subscribe(filters, { qos }, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Ends this connection (a record the broker refused, say); the next comes after the usual wait. */
  drop(reason: string): void {
    this.options.logger.warn({ reason }, 'closing the link to the MQTT broker');
    this.client?.end(true);
  }

  /**
   * The orderly end: `last` (the offline status) goes out while still connected, then a clean
   * DISCONNECT, so the broker does not send the last will. Bounded: a broker that does not answer
   * does not hold the daemon's shutdown.
   */
  async close(last?: () => Promise<void>, boundMs = 2000): Promise<void> {
    this.closed = true;
    if (this.retry !== undefined) this.options.timers.clearTimeout(this.retry);
    const client = this.client;
    if (!client) return;
    const bounded = (work: Promise<unknown>) =>
      new Promise<void>((resolve) => {
        const timer = this.options.timers.setTimeout(resolve, boundMs);
        work.then(
          () => {
            this.options.timers.clearTimeout(timer);
            resolve();
          },
          () => {
            this.options.timers.clearTimeout(timer);
            resolve();
          },
        );
      });
    if (this.up && last) await bounded(last());
    await bounded(new Promise<void>((resolve) => client.end(false, {}, () => resolve())));
    client.end(true);
  }

  private attempt(): void {
    if (this.closed) return;
    const { logger } = this.options;
    const client = this.options.connect(this.options.url, {
      ...this.options.clientOptions,
      protocolVersion: 5,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
    });
    this.client = client;
    let lastError: unknown;
    let taken = false;
    client.on('connect', (packet) => {
      this.up = true;
      this.failures = 0;
      logger.info({ broker: this.options.url }, 'connected to the MQTT broker');
      this.options.onUp?.({ sessionPresent: packet.sessionPresent === true });
    });
    client.on('error', (error) => {
      lastError = error;
    });
    client.on('disconnect', (packet) => {
      // MQTT 5: the broker says why it ends the link; 142 is another client with our ID.
      if (packet.reasonCode === 142) taken = true;
      lastError = Object.assign(new Error(`the broker ended the link (reason ${packet.reasonCode})`), {
        code: `DISCONNECT_${packet.reasonCode}`,
      });
    });
    client.on('message', (topic, payload, packet) => this.options.onMessage?.(topic, payload, packet.retain));
    client.once('close', () => {
      if (this.client !== client) return;
      const wasUp = this.up;
      this.up = false;
      client.removeAllListeners('message');
      client.end(true);
      if (wasUp) this.options.onDown?.();
      if (this.closed) return;
      const delay = this.nextDelay(this.failures);
      this.failures += 1;
      const failure = taken
        ? {
            level: 'error' as const,
            message: `another client connected to the MQTT broker ${this.options.url} with the same client ID: give each station its own mqtt.clientId`,
          }
        : wasUp && lastError === undefined
          ? { level: 'warn' as const, message: `lost the link to the MQTT broker ${this.options.url}` }
          : describeFailure(this.options.url, lastError);
      logger[failure.level]({ broker: this.options.url, retryInMs: delay }, failure.message);
      this.options.onFailure?.(failure, delay);
      this.retry = this.options.timers.setTimeout(() => {
        this.retry = undefined;
        this.attempt();
      }, delay);
    });
  }
}
