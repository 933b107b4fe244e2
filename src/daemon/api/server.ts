/**
 * The daemon's local API: HTTP/JSON over the Unix socket (see socket.ts for where and how it
 * listens). Every operation the CLI offers runs through the Engine it is given (the daemon's
 * LocalEngine, leasing the port manager's connections, wrapped in the audit trail): one code
 * path whichever side asked.
 *
 *   GET  /v1/health                        who answers: pid, state, version
 *   GET  /v1/terminals                     { terminals: TerminalInfo[] }
 *   GET  /v1/events                        server-sent events: every HubEvent, heartbeat comments
 *   POST /v1/info | provision | diag | passwd | operator
 *                                          the report as JSON; with `Accept: text/event-stream`
 *                                          an event stream (operation, identified, step, check,
 *                                          generated, trace, result)
 *   POST /v1/operations/:id/generated      acknowledges a generated operator password
 *
 * Each operation may carry `link` (wire.ts `linkBody`): the caller's `--timeout` and `--baud`
 * hold for that operation's lease only (a port held at another rate is refused), and its
 * `--trace` comes back as `trace` events, written by the caller.
 *
 * Bodies are validated with zod at the boundary (a 400 names the field) and secrets become
 * Secret as they are read. Every error is `{ error: { code, message, hint } }` with a stable
 * code, never a stack; they all become replies in one place (`handle`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Engine } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { HubEvent, PortManager, TerminalHub } from '../../host/hub.js';
import type { LinkOptions } from '../../host/link-options.js';
import type { Secret } from '../../host/secret.js';
import type { Profile } from '../../host/workflow/profile.js';
import { WorkflowStopped } from '../../host/workflow/provision.js';
import type { ProvisionReport } from '../../host/workflow/report.js';
import { HttpProblem, json, methodNotAllowed, readBody, shuttingDown } from './http.js';
import { SseWriter } from './sse.js';
import {
  API_VERSION,
  carriedToError,
  type DaemonAbout,
  type DaemonHealth,
  DEFAULT_BODY_LIMIT_BYTES,
  describeIssues,
  diagBody,
  errorToWire,
  generatedAckBody,
  HTTP_STATUS_BY_CODE,
  infoBody,
  type LinkBody,
  type OperationEventName,
  operatorBody,
  passwdBody,
  provisionBody,
  type TraceEvent,
  type WireError,
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
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  /** The caller asked for an event stream (Accept: text/event-stream). */
  wantsStream: boolean;
  /** Set once the event stream started: from then on results and errors are events. */
  stream?: SseWriter;
  operation?: Operation;
}

interface PendingCall {
  resolve(): void;
  reject(error: Error): void;
}

interface Operation {
  id: string;
  name: string;
  port: string;
  stream: SseWriter | undefined;
  pending: Map<string, PendingCall>;
  nextCall: number;
  done: Promise<void>;
}

const ENDPOINTS =
  'GET /v1/health, /v1/terminals, /v1/events; POST /v1/info, /v1/provision, /v1/diag, /v1/passwd, /v1/operator';

export class ApiServer {
  private state: 'running' | 'stopping' = 'running';
  private readonly startedAt: string;
  private readonly operations = new Map<string, Operation>();
  private readonly eventStreams = new Set<SseWriter>();
  private readonly now: () => Date;
  private readonly bodyLimit: number;

  constructor(private readonly options: ApiServerOptions) {
    this.now = options.now ?? (() => new Date());
    this.startedAt = this.now().toISOString();
    this.bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  }

  /** Operations running now. */
  get running(): number {
    return this.operations.size;
  }

  health(state: DaemonHealth['state'] = this.state): DaemonHealth {
    return {
      service: 'posbridge',
      api: API_VERSION,
      pid: this.options.pid ?? process.pid,
      socket: this.options.socket,
      state,
      startedAt: this.startedAt,
      operations: this.operations.size,
      ...(this.options.version !== undefined && { version: this.options.version }),
      ...this.options.about,
    };
  }

  /** The request listener of the node:http server. Never rejects. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://posbridge');
    const exchange: Exchange = {
      req,
      res,
      method: req.method ?? 'GET',
      path: url.pathname,
      wantsStream: (req.headers.accept ?? '').includes('text/event-stream'),
    };
    try {
      await this.route(exchange);
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
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.operations.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = Promise.all([...this.operations.values()].map((op) => op.done)).then(() => true as const);
    try {
      return await Promise.race([all, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  // --- routing ------------------------------------------------------------------------------

  private async route(ex: Exchange): Promise<void> {
    const { method, path } = ex;
    const get = (): void => {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, path, 'GET');
    };
    const post = (): void => {
      if (method !== 'POST') throw methodNotAllowed(method, path, 'POST');
    };
    switch (path) {
      case '/v1/health':
        get();
        return json(ex.res, 200, this.health());
      case '/v1/terminals':
        get();
        return json(ex.res, 200, { terminals: this.options.hub.list() });
      case '/v1/events':
        get();
        return this.events(ex);
      case '/v1/info':
        post();
        return this.info(ex);
      case '/v1/provision':
        post();
        return this.provision(ex);
      case '/v1/diag':
        post();
        return this.diag(ex);
      case '/v1/passwd':
        post();
        return this.passwd(ex);
      case '/v1/operator':
        post();
        return this.operator(ex);
    }
    const ack = /^\/v1\/operations\/([0-9a-f-]+)\/generated$/.exec(path);
    if (ack) {
      post();
      return this.acknowledge(ex, ack[1]!);
    }
    throw new HttpProblem(404, `no such endpoint: ${method} ${path}`, `the API offers ${ENDPOINTS}`);
  }

  private events(ex: Exchange): void {
    if (this.state !== 'running') throw shuttingDown();
    const stream = new SseWriter(ex.res, { heartbeatMs: this.options.heartbeatMs });
    // A first comment: once the caller reads it, it is subscribed.
    stream.comment('posbridge events');
    const unsubscribe = this.options.hub.subscribe((event: HubEvent) => stream.send(event.type, event));
    this.eventStreams.add(stream);
    ex.res.on('close', () => {
      unsubscribe();
      this.eventStreams.delete(stream);
    });
  }

  private async info(ex: Exchange): Promise<void> {
    const body = await this.body(ex, infoBody);
    this.checkLink(ex, body.link);
    await this.operate(ex, 'info', body.port, (op) =>
      this.options.engine.info(body.port, this.link(op, body.link)),
    );
  }

  private async provision(ex: Exchange): Promise<void> {
    const body = await this.body(ex, provisionBody);
    const { request } = body;
    this.checkLink(ex, body.link);
    if (body.recordGenerated && !ex.wantsStream && mayGenerate(request.profile)) {
      // Refused before a byte is sent, rather than half-way when the first password is due.
      throw new PosbridgeError(
        'USAGE',
        'this provisioning may generate operator passwords (the profile says generate, or the factory operator 01 gets a new one), which are handed over on an event stream only',
        {
          hint: 'ask with Accept: text/event-stream and acknowledge each generated event, or send recordGenerated: false; nothing was sent to a terminal',
        },
      );
    }
    await this.operate(ex, 'provision', request.port, (op) => {
      const passwords = body.operatorPasswords;
      return this.options.engine.provision({
        request,
        ...(body.link && { link: this.link(op, body.link) }),
        onIdentified: (terminal) => this.emit(op, 'identified', terminal),
        onStep: (step) => {
          this.emit(op, 'step', step);
          this.publish({ type: 'step', port: request.port, operation: 'provision', step });
        },
        recordGenerated: !body.recordGenerated
          ? undefined
          : (id, password) => this.handOverGenerated(op, id, password),
        readOperatorSecret:
          passwords === undefined
            ? undefined
            : async (id) => {
                const entry = passwords[id];
                if (entry === undefined)
                  throw new PosbridgeError('USAGE', `no password was given for operator ${id}`, {
                    hint: 'send it in operatorPasswords, or let the profile generate it',
                  });
                if ('error' in entry) throw carriedToError(entry.error);
                return entry;
              },
      });
    });
  }

  private async diag(ex: Exchange): Promise<void> {
    const body = await this.body(ex, diagBody);
    this.checkLink(ex, body.link);
    await this.operate(ex, 'diag', body.port, (op) =>
      this.options.engine.diag(body.port, {
        ...(body.link && { link: this.link(op, body.link) }),
        ...(body.adminPassword && { adminPassword: body.adminPassword }),
        ...(body.checks && { checks: body.checks }),
        ...(op.stream && { onCheck: (result) => this.emit(op, 'check', result) }),
      }),
    );
  }

  private async passwd(ex: Exchange): Promise<void> {
    const body = await this.body(ex, passwdBody);
    this.checkLink(ex, body.link);
    await this.operate(ex, 'passwd', body.port, (op) =>
      this.options.engine.passwd(body.port, {
        ...(body.link && { link: this.link(op, body.link) }),
        ...(body.user !== undefined && { user: body.user }),
        adminPassword: body.adminPassword,
        newPassword: body.newPassword,
      }),
    );
  }

  private async operator(ex: Exchange): Promise<void> {
    const body = await this.body(ex, operatorBody);
    this.checkLink(ex, body.link);
    await this.operate(ex, 'operator', body.port, (op) =>
      this.options.engine.operator(body.port, {
        ...(body.link && { link: this.link(op, body.link) }),
        ...(body.adminPassword && { adminPassword: body.adminPassword }),
        operation: body.operation,
      }),
    );
  }

  private async acknowledge(ex: Exchange, operationId: string): Promise<void> {
    const body = await this.body(ex, generatedAckBody);
    const pending = this.operations.get(operationId)?.pending.get(body.call);
    if (!pending)
      throw new HttpProblem(
        404,
        `no generated password ${body.call} is waiting in operation ${operationId}`,
        'acknowledge each generated event once, while its operation runs',
      );
    if (body.ok) pending.resolve();
    else pending.reject(carriedToError(body.error ?? { message: 'the caller could not keep the password' }));
    json(ex.res, 200, { ok: true });
  }

  // --- operations ---------------------------------------------------------------------------

  /**
   * Runs one engine operation: registered (for shutdown and acknowledgements), its stream
   * opened if asked for, `operation-finished` published, the result written. A failure goes up
   * to `handle`, which writes it.
   */
  private async operate<T extends object>(
    ex: Exchange,
    name: string,
    port: string,
    body: (op: Operation) => Promise<T>,
  ): Promise<void> {
    if (this.state !== 'running') throw shuttingDown();
    let finished!: () => void;
    const op: Operation = {
      id: randomUUID(),
      name,
      port,
      stream: undefined,
      pending: new Map(),
      nextCall: 1,
      done: new Promise<void>((resolve) => {
        finished = resolve;
      }),
    };
    this.operations.set(op.id, op);
    ex.operation = op;
    if (ex.wantsStream) {
      op.stream = ex.stream = new SseWriter(ex.res, { heartbeatMs: this.options.heartbeatMs });
      this.emit(op, 'operation', { id: op.id, name, port });
    }
    try {
      const result = await body(op);
      this.publish({
        type: 'operation-finished',
        port,
        operation: name,
        outcome: 'outcome' in result ? String(result.outcome) : 'done',
        ...(name === 'provision' && { report: result as unknown as ProvisionReport }),
      });
      if (ex.stream) {
        ex.stream.send('result', { report: result });
        ex.stream.end();
      } else json(ex.res, 200, result);
    } catch (error) {
      const report = error instanceof WorkflowStopped ? error.report : undefined;
      this.publish({
        type: 'operation-finished',
        port,
        operation: name,
        outcome: report?.outcome ?? 'failed',
        ...(report && { report }),
      });
      throw error;
    } finally {
      for (const pending of op.pending.values())
        pending.reject(new PosbridgeError('CLOSED', 'the operation ended'));
      this.operations.delete(op.id);
      finished();
    }
  }

  /** A trace is streamed back: it needs the event stream (refused before a byte is sent). */
  private checkLink(ex: Exchange, link: LinkBody | undefined): void {
    if (link?.trace && !ex.wantsStream)
      throw new PosbridgeError('USAGE', 'link.trace: the wire lines come back on an event stream only', {
        hint: 'ask with Accept: text/event-stream (each line is a trace event), or leave out link.trace; nothing was sent to a terminal',
      });
  }

  /**
   * The caller's link options for this operation; its trace goes back on the operation's stream
   * as `trace` events, so the caller writes its own file with its own permissions.
   */
  private link(op: Operation, link: LinkBody | undefined): LinkOptions | undefined {
    if (!link) return undefined;
    return {
      ...(link.timeoutMs !== undefined && { timeoutMs: link.timeoutMs }),
      ...(link.baudRate !== undefined && { baudRate: link.baudRate }),
      ...(link.trace && {
        trace: {
          record: (entry) => {
            const event: TraceEvent = {
              at: entry.at.toISOString(),
              direction: entry.direction,
              text: entry.text,
            };
            this.emit(op, 'trace', event);
          },
          close: async () => undefined,
        },
      }),
    };
  }

  private emit(op: Operation, event: OperationEventName, data: unknown): void {
    op.stream?.send(event, data);
  }

  private publish(event: HubEvent): void {
    try {
      this.options.hub.publish(event);
    } catch (error) {
      this.options.logger.warn({ err: error, event: event.type }, 'publishing an event failed');
    }
  }

  /**
   * A generated operator password goes to the caller (on its stream) and must be acknowledged
   * before the workflow sends it to the terminal: if the caller cannot keep it, it is not set.
   */
  private handOverGenerated(op: Operation, id: string, password: Secret): Promise<void> {
    const stream = op.stream;
    if (!stream || stream.closed) {
      return Promise.reject(
        new PosbridgeError(
          'USAGE',
          `operator ${id} needs a generated password, which can only be handed over on an event stream`,
          {
            hint: 'ask with Accept: text/event-stream, give the password in operatorPasswords, or send recordGenerated: false',
          },
        ),
      );
    }
    const call = `g${op.nextCall++}`;
    const timeoutMs = this.options.generatedAckTimeoutMs ?? 30_000;
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        stream.off('closed', onClose);
        op.pending.delete(call);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          settle(
            new PosbridgeError(
              'TIMEOUT',
              `the caller did not confirm it kept the password of operator ${id}`,
              {
                hint: 'the password was not sent; run again',
              },
            ),
          ),
        timeoutMs,
      );
      const onClose = () =>
        settle(
          new PosbridgeError('CLOSED', `the caller went away before keeping the password of operator ${id}`, {
            hint: 'the password was not sent; run again',
          }),
        );
      stream.on('closed', onClose);
      op.pending.set(call, { resolve: () => settle(), reject: (error) => settle(error) });
      stream.send('generated', { call, id, password: password.reveal() });
    });
  }

  // --- bodies and replies -------------------------------------------------------------------

  private async body<S extends z.ZodType>(ex: Exchange, schema: S): Promise<z.output<S>> {
    const text = await readBody(ex.req, this.bodyLimit);
    let data: unknown;
    try {
      data = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new PosbridgeError('USAGE', 'the request body is not valid JSON', {
        hint: 'send one JSON object (Content-Type: application/json)',
      });
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success)
      throw new PosbridgeError('USAGE', `invalid request: ${describeIssues(parsed.error)}`, {
        hint: 'fix the named fields; nothing was sent to a terminal',
      });
    return parsed.data;
  }

  /** The one place where an error becomes a reply. */
  private fail(ex: Exchange, error: unknown): void {
    const { status, body, headers } = this.errorReply(error);
    if (ex.stream) {
      ex.stream.send('result', body);
      ex.stream.end();
    } else if (ex.res.headersSent) ex.res.destroy();
    else json(ex.res, status, body, headers);
  }

  private errorReply(error: unknown): {
    status: number;
    body: { error: WireError; report?: ProvisionReport };
    headers?: Record<string, string>;
  } {
    if (error instanceof HttpProblem) {
      const { code, message, hint } = error;
      return {
        status: error.status,
        body: { error: { code, message, hint: hint! } },
        headers: error.headers,
      };
    }
    if (error instanceof WorkflowStopped) {
      const cause = error.cause instanceof PosbridgeError ? error.cause : error;
      return {
        status: HTTP_STATUS_BY_CODE[cause.code],
        body: { error: errorToWire(cause), report: error.report },
      };
    }
    if (error instanceof PosbridgeError)
      return { status: HTTP_STATUS_BY_CODE[error.code] ?? 500, body: { error: errorToWire(error) } };
    this.options.logger.error({ err: error }, 'internal error in an API request');
    return {
      status: 500,
      body: {
        error: {
          code: 'INTERNAL',
          message: `internal error in the daemon: ${(error as Error)?.message ?? String(error)}`,
          hint: 'this is a bug in posbridge: the daemon log has the details; please report it',
        },
      },
    };
  }
}

/** Whether a run with this profile could need a generated operator password. */
function mayGenerate(profile: Profile): boolean {
  if (profile.operators.some((o) => o.password === 'generate')) return true;
  const listed01 = profile.operators.find((o) => o.id === '01');
  return !listed01 && profile.factoryOperator === 'replace-password';
}
