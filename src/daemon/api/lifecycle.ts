/**
 * The daemon's life: claim the socket first (a second daemon is refused before it touches a
 * single port; a stale socket is replaced), then build its runtime (the port manager and the
 * engine over it, from the composition root), then serve. On SIGINT/SIGTERM: stop taking
 * operations (503), let running ones finish (bounded wait), close the port manager (what still
 * runs fails cleanly), close the rest of the runtime (the audit store), then the socket. A second
 * signal cuts the wait short.
 */

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Engine } from '../../host/engine.js';
import type { PortManager } from '../../host/hub.js';
import type { ResendReason } from '../../host/session.js';
import type { Verb } from '../../protocol/index.js';
import { packageAssets } from '../http/assets.js';
import { type DashboardAssets, type DashboardOptions, DashboardServer } from '../http/dashboard-server.js';
import { historyReads } from '../http/history-view.js';
import type { ListenAddress } from '../http/listen.js';
import { DaemonMetrics } from '../http/metrics.js';
import { PageStation, type PageStationOptions } from '../http/station-run.js';
import { BenchStatus } from './bench-status.js';
import { dashboardLinkRoute } from './dashboard-link.js';
import { EventJournal } from './event-journal.js';
import { pastResultsIn } from './past-results.js';
import type { Route } from './routes.js';
import { ApiServer } from './server.js';
import { type ClaimedSocket, listenExclusive, releaseSocket, type SocketLocation } from './socket.js';
import type { DaemonAbout } from './wire.js';

/** What the daemon serves: its port manager, the engine over it, what it closes last. */
export interface DaemonRuntime {
  /** A LocalEngine leasing the port manager's connections, audited. */
  engine: Engine;
  /** The port manager: what is plugged in, and the connections the engine leases. */
  hub: PortManager;
  /** After the last operation (the audit store, the port manager if still open). */
  close?(): Promise<void>;
  /** The station and audit trail it records with (and the config behind them): told in /v1/health. */
  about?: DaemonAbout;
}

export interface DaemonOptions {
  socket: SocketLocation;
  uid: number;
  logger: Logger;
  /**
   * Built once the socket is ours: it may open and probe ports. The hooks feed the daemon's
   * metrics (with the dashboard): `onAuditAppend` how long each audit append took,
   * `onRetransmit` each retransmission on the port manager's links.
   */
  createRuntime(hooks: {
    onAuditAppend?: (seconds: number) => void;
    onRetransmit?: (verb: Verb, reason: ResendReason) => void;
  }): Promise<DaemonRuntime>;
  version?: string;
  pid?: number;
  now?: () => Date;
  /** How long running operations may take to finish at shutdown; default 10 s. */
  drainTimeoutMs?: number;
  /** After the port manager closed, how long failing operations get to answer; default 2 s. */
  settleTimeoutMs?: number;
  heartbeatMs?: number;
  bodyLimitBytes?: number;
  generatedAckTimeoutMs?: number;
  /** More endpoints served next to the API (a dashboard, status pages): see routes.ts. */
  routes?(portManager: PortManager, engine: Engine): Route[];
  /** The dashboard's listener (`daemon --http`); none by default. */
  dashboard?: DaemonDashboardOptions;
}

export interface DaemonDashboardOptions {
  listen: ListenAddress;
  /** Default: the package's (src/dashboard/static, dist/dashboard). */
  assets?: DashboardAssets;
  /** Default: crypto's. */
  random?: (n: number) => Uint8Array;
  routes?: DashboardOptions['routes'];
  reads?: DashboardOptions['reads'];
  /** Station runs started from the page (docs/dashboard.md, "Station run"); none without it. */
  station?: Omit<PageStationOptions, 'hub' | 'engine' | 'logger' | 'now' | 'station'> & {
    /** Default: the engine's (the daemon config's station), else the host name. */
    station?: string;
  };
}

export class Daemon {
  private stopping: Promise<void> | undefined;
  private hurry: (() => void) | undefined;
  private markStopped!: (reason: string) => void;
  /** Resolves with the reason once the daemon has stopped, however it was asked to. */
  readonly stopped = new Promise<string>((resolve) => {
    this.markStopped = resolve;
  });

  private constructor(
    readonly socketPath: string,
    private readonly http: ReturnType<typeof createServer>,
    private readonly claimed: ClaimedSocket,
    private readonly api: ApiServer,
    private readonly runtime: DaemonRuntime,
    private readonly options: DaemonOptions,
    /** The dashboard's listener, when `dashboard` was asked for. */
    readonly dashboard: DashboardServer | undefined,
    private readonly journal: EventJournal,
    /** What GET /metrics serves (with the dashboard): retransmissions and audit latency go in here. */
    readonly metrics: DaemonMetrics | undefined,
  ) {}

  /** The page's station runs, when the dashboard has them. */
  pageStation: PageStation | undefined;

  static async start(options: DaemonOptions): Promise<Daemon> {
    const { logger } = options;
    const pid = options.pid ?? process.pid;
    let api: ApiServer | undefined;
    // Until the port manager is up, the socket answers health (so a second daemon can name this
    // one) and asks everything else to wait.
    const starting = new ApiServer({
      engine: notReady,
      hub: { list: () => [], subscribe: () => () => undefined, publish: () => undefined },
      logger,
      socket: options.socket.path,
      pid,
      ...(options.version !== undefined && { version: options.version }),
    });
    const http = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (api) return void api.handle(req, res);
      if (req.url?.startsWith('/v1/health')) {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        return void res.end(`${JSON.stringify(starting.health('starting'))}\n`);
      }
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        `${JSON.stringify({ error: { code: 'CLOSED', message: 'the daemon is starting', hint: 'try again in a moment' } })}\n`,
      );
    });
    // Long operations (a DIAG, a whole provisioning) must not be cut by the server's timeouts.
    http.requestTimeout = 0;
    http.headersTimeout = 60_000;
    http.keepAliveTimeout = 5_000;

    const claimed = await listenExclusive(http, options.socket, options.uid);
    logger.info({ socket: claimed.path, pid }, 'socket claimed');
    let runtime: DaemonRuntime | undefined;
    let dashboard: DashboardServer | undefined;
    let metrics: DaemonMetrics | undefined;
    let pageStation: PageStation | undefined;
    try {
      runtime = await options.createRuntime({
        ...(options.dashboard && {
          onAuditAppend: (seconds: number) => metrics?.auditAppended(seconds),
          onRetransmit: (verb: Verb, reason: ResendReason) => metrics?.retransmitted(verb, reason),
        }),
      });
      const portManager = runtime.hub;
      // One numbered stream and one activity table for every listener (API socket, dashboard).
      const journal = new EventJournal(portManager);
      const audit = runtime.about?.audit;
      const bench = new BenchStatus(portManager, options.now, audit ? pastResultsIn(audit) : undefined);
      portManager.subscribe(bench.observe);
      if (options.dashboard) {
        metrics = new DaemonMetrics(bench);
        portManager.subscribe(metrics.observe);
      }
      api = new ApiServer({
        journal,
        bench,
        engine: runtime.engine,
        hub: portManager,
        logger,
        socket: claimed.path,
        pid,
        ...(runtime.about && { about: runtime.about }),
        ...(options.version !== undefined && { version: options.version }),
        ...(options.now && { now: options.now }),
        ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs }),
        ...(options.bodyLimitBytes !== undefined && { bodyLimitBytes: options.bodyLimitBytes }),
        ...(options.generatedAckTimeoutMs !== undefined && {
          generatedAckTimeoutMs: options.generatedAckTimeoutMs,
        }),
        ...(options.routes && { routes: options.routes(runtime.hub, runtime.engine) }),
      });
      if (options.dashboard) {
        const { listen, assets, random, routes, reads, station } = options.dashboard;
        if (station)
          pageStation = new PageStation({
            ...station,
            station: station.station ?? runtime.about?.station ?? station.hostname,
            hub: portManager,
            engine: runtime.engine,
            logger,
            now: options.now ?? (() => new Date()),
          });
        dashboard = await DashboardServer.start({
          listen,
          journal,
          bench,
          logger,
          assets: assets ?? packageAssets(),
          random: random ?? ((n) => randomBytes(n)),
          metrics: () => metrics!.text(),
          routes: { ...routes, ...pageStation?.routes },
          // The history reads the audit trail the engine writes (none without one).
          reads: {
            ...reads,
            ...pageStation?.reads,
            ...(runtime.about?.audit && historyReads(runtime.about.audit)),
          },
          ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs }),
        });
        logger.info({ origin: dashboard.origin }, 'dashboard listening');
      }
      const served = dashboard;
      api.addRoute(dashboardLinkRoute(() => served?.renewLoginUrl()));
      logger.info({ socket: claimed.path, pid }, 'daemon ready');
      const daemon = new Daemon(
        claimed.path,
        http,
        claimed,
        api,
        runtime,
        options,
        dashboard,
        journal,
        metrics,
      );
      daemon.pageStation = pageStation;
      return daemon;
    } catch (error) {
      await dashboard?.close().catch(() => undefined);
      if (runtime) await (runtime.close ? runtime.close() : runtime.hub.close()).catch(() => undefined);
      await closeServer(http);
      await releaseSocket(claimed);
      throw error;
    }
  }

  /** Operations running now. */
  get running(): number {
    return this.api.running;
  }

  /** Its station, audit trail, line rate and config file, as /v1/health tells them. */
  get about(): DaemonAbout {
    return this.runtime.about ?? {};
  }

  /**
   * The orderly stop (idempotent): refuse new work, wait for running operations (up to the drain
   * timeout, or until `stop({ now: true })`), close the port manager and the engine, then the
   * socket.
   */
  stop(options: { now?: boolean; reason?: string } = {}): Promise<void> {
    if (options.now) {
      if (this.stopping && options.reason !== undefined) this.reason = options.reason;
      this.hurry?.();
    }
    this.stopping ??= this.shutdown(options.reason ?? 'stop', options.now === true);
    return this.stopping;
  }

  private reason = '';

  private async shutdown(reason: string, now: boolean): Promise<void> {
    this.reason = reason;
    const { logger } = this.options;
    logger.info({ reason, running: this.api.running }, 'daemon stopping');
    // New operations are refused (503) from here on, but the socket keeps answering: running
    // operations still get their acknowledgements, a CLI started now is told the daemon is
    // stopping (rather than racing it for the ports), and so is a second daemon.
    this.api.beginShutdown();
    // A page's station run takes no new terminal; its runs under way drain as operations do.
    this.pageStation?.stop();
    // Its event streams end now (synchronously, as the API's do); its listener closes on the way.
    const dashboardClosed = this.dashboard?.close();
    this.http.closeIdleConnections();
    if (!now) {
      const hurried = new Promise<boolean>((resolve) => {
        this.hurry = () => resolve(false);
      });
      const drained = await Promise.race([
        this.api.drain(this.options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS),
        hurried,
      ]);
      if (!drained)
        logger.warn({ running: this.api.running }, 'operations still running: closing their ports');
    }
    await this.runtime.hub
      .close()
      .catch((error: unknown) => logger.warn({ err: error }, 'closing the port manager failed'));
    // What still ran now fails (its port is closed) and answers its caller.
    const settleMs = this.options.settleTimeoutMs ?? SETTLE_TIMEOUT_MS;
    await this.api.drain(settleMs);
    const closed = closeServer(this.http);
    this.http.closeAllConnections();
    // An operation still waiting on its caller (a generated password) fails now its stream is
    // gone; the rest of the runtime (the audit store) closes once nothing uses it any more.
    await this.api.drain(settleMs);
    await this.runtime
      .close?.()
      .catch((error: unknown) => logger.warn({ err: error }, 'closing the engine failed'));
    await closed;
    await dashboardClosed;
    this.journal.close();
    await releaseSocket(this.claimed);
    logger.info({ reason: this.reason }, 'daemon stopped');
    this.markStopped(this.reason);
  }
}

/** How long running operations may take to finish after SIGTERM (the unit's TimeoutStopSec covers it). */
export const DRAIN_TIMEOUT_MS = 10_000;
/** Each of the two waits, after the ports close, for what still ran to answer its caller. */
export const SETTLE_TIMEOUT_MS = 2_000;
/**
 * The longest an orderly stop takes before the socket is gone: the drain, then the two settles
 * (contrib/posbridge.service gives it TimeoutStopSec above this; test/unit/api-contrib.test.ts).
 */
export const LONGEST_STOP_MS = DRAIN_TIMEOUT_MS + 2 * SETTLE_TIMEOUT_MS;

function closeServer(server: ReturnType<typeof createServer>): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

const notReady: Engine = new Proxy({} as Engine, {
  get: () => () => Promise.reject(new Error('the daemon is starting')),
});

/** Where signals come from (process by default; tests pass an EventEmitter). */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

/**
 * Serves until SIGINT or SIGTERM (or until stopped otherwise), then stops in order; a second
 * signal stops at once (running operations fail cleanly instead of finishing). Resolves with
 * the reason it ended (the signal's name).
 */
export async function runUntilSignal(daemon: Daemon, signals: SignalSource = process): Promise<string> {
  let first: string | undefined;
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const handler = () => {
      if (first === undefined) {
        first = signal;
        void daemon.stop({ reason: signal });
      } else void daemon.stop({ now: true, reason: `${first}, then ${signal}` });
    };
    signals.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    return await daemon.stopped;
  } finally {
    for (const [signal, handler] of handlers) signals.off(signal, handler);
  }
}
