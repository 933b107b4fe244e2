/**
 * The daemon's local API: HTTP/JSON over the Unix socket (see socket.ts for where and how it
 * listens; docs/api.md for integrators). Every operation of the table (src/host/operations) runs
 * through the Engine it is given (the daemon's LocalEngine, leasing the port manager's
 * connections, wrapped in the audit trail): one code path whichever side asked.
 *
 *   GET  /v1/health                        who answers: pid, state, version
 *   GET  /v1/terminals                     { terminals: TerminalInfo[] }
 *   GET  /v1/status                        { terminals: TerminalStatusRow[] }: busy with what, last result
 *   GET  /v1/events                        server-sent events: every HubEvent, heartbeat comments;
 *                                          resumable with Last-Event-ID (event-journal.ts)
 *   GET  /v1/openapi.json                  the OpenAPI 3.1 document of all of this (openapi.ts)
 *   POST /v1/<operation>                   info, provision, diag, passwd, operator: the result as
 *                                          JSON; with `Accept: text/event-stream` an event stream
 *                                          (operation, the operation's events, trace, result)
 *   POST /v1/operations/:id/:event         acknowledges an acknowledged event (`generated`)
 *
 * This file builds the route table (routes.ts; more routes are added with addRoute) and answers
 * the API's own endpoints; operation-runner.ts runs operations, http.ts reads bodies and turns errors
 * into replies (`{ error: { code, message, hint } }`, a stable code, never a stack), wire.ts
 * holds the schemas.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Engine } from '../../host/engine.js';
import type { PortManager, TerminalHub } from '../../host/hub.js';
import { OPERATION_NAMES, type OperationName } from '../../host/operations/index.js';
import { BenchStatus } from './bench-status.js';
import { EventJournal } from './event-journal.js';
import { errorReply, HttpProblem, json, readJsonBody, sendErrorReply, shuttingDown } from './http.js';
import { openApiDocument } from './openapi.js';
import { OperationRunner } from './operation-runner.js';
import { type HttpExchange, type Route, Router } from './routes.js';
import { followJournal, SseWriter } from './sse.js';
import {
  API_VERSION,
  ackBody,
  carriedToError,
  type DaemonAbout,
  type DaemonHealth,
  DEFAULT_BODY_LIMIT_BYTES,
  requestBody,
} from './wire.js';

export interface ApiServerOptions {
  engine: Engine;
  /** What is plugged in, and where step events are published. */
  hub: TerminalHub & Pick<PortManager, 'publish'>;
  logger: Logger;
  /** The socket path, for /v1/health. */
  socket: string;
  /** Its station, audit trail, line rate and config file, for /v1/health. */
  about?: DaemonAbout;
  pid?: number;
  version?: string;
  now?: () => Date;
  /** Comment lines on idle event streams; default 15 s. */
  heartbeatMs?: number;
  bodyLimitBytes?: number;
  /** How long a generated operator password waits for the caller's acknowledgement; default 30 s. */
  generatedAckTimeoutMs?: number;
  /** A result or event that does not match its schema fails the request (tests); else it is logged. */
  checkReplies?: boolean;
  /** More routes (a dashboard, status pages), after the API's own. */
  routes?: Route[];
  /** The numbered, resumable event stream (shared with the dashboard); default: one over `hub`. */
  journal?: EventJournal;
  /** What each port is busy with, its last result (shared with the dashboard); default: one over `hub`. */
  bench?: BenchStatus;
}

const ACK_PATH = /\/v1\/operations\/([0-9a-f-]+)\/([a-z-]+)/;

export class ApiServer {
  private state: 'running' | 'stopping' = 'running';
  private readonly startedAt: string;
  private readonly eventStreams = new Set<SseWriter>();
  private readonly bodyLimit: number;
  private readonly operations: OperationRunner;
  private document: object | undefined;
  /** Every endpoint this server answers (routes.ts); `addRoute` adds more. */
  readonly router: Router;
  private readonly journal: EventJournal;
  private readonly bench: BenchStatus;

  constructor(private readonly options: ApiServerOptions) {
    this.startedAt = (options.now ?? (() => new Date()))().toISOString();
    this.journal = options.journal ?? new EventJournal(options.hub);
    this.bench = options.bench ?? new BenchStatus(options.hub, options.now);
    if (!options.bench) options.hub.subscribe(this.bench.observe);
    this.bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
    this.operations = new OperationRunner({
      engine: options.engine,
      hub: options.hub,
      logger: options.logger,
      heartbeatMs: options.heartbeatMs,
      ackTimeoutMs: options.generatedAckTimeoutMs,
      checkReplies: options.checkReplies,
      accepting: () => this.state === 'running',
    });
    this.router = new Router([...this.ownRoutes(), ...(options.routes ?? [])]);
  }

  /** Adds an endpoint (a dashboard, a status page) to the route table. */
  addRoute(route: Route): void {
    this.router.add(route);
  }

  /** Operations running now. */
  get running(): number {
    return this.operations.running.size;
  }

  health(state: DaemonHealth['state'] = this.state): DaemonHealth {
    return {
      service: 'posbridge',
      api: API_VERSION,
      pid: this.options.pid ?? process.pid,
      socket: this.options.socket,
      state,
      startedAt: this.startedAt,
      operations: this.running,
      ...(this.options.version !== undefined && { version: this.options.version }),
      ...this.options.about,
    };
  }

  /** The request listener of the node:http server. Never rejects. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://posbridge');
    const exchange: HttpExchange = {
      req,
      res,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      wantsStream: (req.headers.accept ?? '').includes('text/event-stream'),
    };
    try {
      await this.router.dispatch(exchange);
    } catch (error) {
      this.fail(exchange, error);
    }
    this.options.logger.info(
      {
        method: exchange.method,
        path: exchange.path,
        status: exchange.stream ? 'stream' : res.statusCode,
        ms: Math.round(performance.now() - started),
        ...(exchange.operation && { operation: exchange.operation.id, port: exchange.operation.port }),
      },
      'api request',
    );
  };

  /**
   * Stop taking operations: new ones get 503, event streams end, health says `stopping`.
   * Running operations go on (see drain) and may still get their acknowledgements.
   */
  beginShutdown(): void {
    this.state = 'stopping';
    for (const stream of this.eventStreams) stream.end();
    this.eventStreams.clear();
  }

  /** Resolves true once no operation runs, false if some still do after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    return this.operations.drain(timeoutMs);
  }

  /** The OpenAPI document this server serves at /v1/openapi.json. */
  openApi(): object {
    this.document ??= openApiDocument({
      ...(this.options.version !== undefined && { version: this.options.version }),
    });
    return this.document;
  }

  /** The API's own endpoints: health, terminals, events, this document, one per operation, acknowledgements. */
  private ownRoutes(): Route[] {
    const operation = (name: OperationName): Route => ({
      method: 'POST',
      path: `/v1/${name}`,
      handle: async (ex) => {
        const body = await readJsonBody(ex.req, this.bodyLimit, requestBody(name));
        await this.operations.run(ex, name, body);
      },
    });
    return [
      { method: 'GET', path: '/v1/health', handle: (ex) => json(ex.res, 200, this.health()) },
      {
        method: 'GET',
        path: '/v1/terminals',
        handle: (ex) => json(ex.res, 200, { terminals: this.options.hub.list() }),
      },
      {
        method: 'GET',
        path: '/v1/status',
        handle: (ex) => json(ex.res, 200, { terminals: this.bench.rows() }),
      },
      { method: 'GET', path: '/v1/events', handle: (ex) => this.events(ex) },
      { method: 'GET', path: '/v1/openapi.json', handle: (ex) => json(ex.res, 200, this.openApi()) },
      ...OPERATION_NAMES.map(operation),
      {
        method: 'POST',
        path: ACK_PATH,
        shown: '/v1/operations/{id}/{event}',
        handle: (ex, [id, event]) => this.acknowledge(ex, id!, event!),
      },
    ];
  }

  private events(ex: HttpExchange): void {
    if (this.state !== 'running') throw shuttingDown();
    const stream = new SseWriter(ex.res, { heartbeatMs: this.options.heartbeatMs });
    // A first comment: once the caller reads it, it is subscribed.
    stream.comment('posbridge events');
    const unsubscribe = followJournal(this.journal, stream, ex.req.headers['last-event-id']);
    this.eventStreams.add(stream);
    ex.res.on('close', () => {
      unsubscribe();
      this.eventStreams.delete(stream);
    });
  }

  private async acknowledge(ex: HttpExchange, operationId: string, event: string): Promise<void> {
    const body = await readJsonBody(ex.req, this.bodyLimit, ackBody);
    const error = body.ok
      ? undefined
      : carriedToError(body.error ?? { message: 'the caller could not keep the password' });
    if (!this.operations.acknowledge(operationId, event, body.call, error))
      throw new HttpProblem(
        404,
        `no ${event} event ${body.call} is waiting in operation ${operationId}`,
        `acknowledge each ${event} event once, while its operation runs`,
      );
    json(ex.res, 200, { ok: true });
  }

  /** Where an error becomes a reply: an event once the stream started, else an HTTP answer. */
  private fail(ex: HttpExchange, error: unknown): void {
    sendErrorReply(ex, errorReply(error, this.options.logger));
  }
}
