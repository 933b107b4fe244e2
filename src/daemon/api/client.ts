/**
 * The daemon's API from the other side: `RemoteEngine` is an Engine whose operations run in the
 * daemon (which owns the ports), so every CLI command behaves the same through it as in-process:
 * same reports, same errors (rebuilt with their code, hint and details), the same handlers
 * (steps, checks, identification, generated passwords) called as things happen.
 *
 * One `call` serves every operation of the table (src/host/operations): the request is written
 * with the operation's schema, every event and the result are read back with theirs; what does
 * not match is BAD_REPLY (client-wire.ts). Secrets go as their revealed value in the JSON body of
 * the request that needs them, and nowhere else. `findDaemon` finds a daemon answering at the
 * socket the user chose (or the default), after checking that the socket is the user's own.
 */
import { Agent, request } from 'node:http';
import type { z } from 'zod';
import { type CallOptions, OperationEngine } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { HubEvent, TerminalInfo } from '../../host/hub.js';
import type { LinkOptions } from '../../host/link-options.js';
import {
  type AnyOperation,
  type OperationName,
  operationOf,
  type RequestOf,
  type ResultOf,
} from '../../host/operations/index.js';
import type { WireTrace } from '../../host/trace.js';
import type { TerminalStatusRow } from './bench-status.js';
import { decodeReply, isEventStream, type Reply, readJson, replyError, settledReply } from './client-wire.js';
import { DASHBOARD_LINK_PATH, dashboardLink } from './dashboard-link.js';
import type { ResyncEvent } from './event-journal.js';
import { hubEvent, resyncEvent, terminalList } from './hub-schemas.js';
import { isTrustedSocket, probeSocket, resolveSocketPath, type SocketLocation } from './socket.js';
import { SseParser } from './sse.js';
import { statusList } from './status-schemas.js';
import {
  ackCall,
  type DaemonHealth,
  daemonHealth,
  encodeFor,
  errorToCarried,
  type LinkBody,
  operationStarted,
  traceEvent,
  wireEventSchema,
} from './wire.js';

type Handler = (data: unknown) => unknown;

export interface EventSubscription {
  close(): void;
  /** Resolves when the stream ends (the daemon stopped, or close() was called). */
  readonly ended: Promise<void>;
}

export class RemoteEngine extends OperationEngine {
  private readonly agent = new Agent({ keepAlive: false });

  /**
   * `link`: what every operation asks of the daemon's link unless it brings its own (the
   * command line's --trace sink, --timeout, --baud): sent with each request, the trace lines
   * coming back as events and recorded here, by the caller.
   */
  constructor(
    readonly socketPath: string,
    private readonly link: LinkOptions = {},
    /** What the daemon said of itself (GET /v1/health) when it was found. */
    readonly found?: DaemonHealth,
  ) {
    super();
  }

  /** Who answers at the socket. */
  async health(): Promise<DaemonHealth> {
    return decodeReply('health', daemonHealth, await this.get('/v1/health'));
  }

  async terminals(): Promise<TerminalInfo[]> {
    return decodeReply('terminal list', terminalList, await this.get('/v1/terminals')).terminals;
  }

  /** Each terminal with what it is busy with and how its last operation ended (GET /v1/status). */
  async status(): Promise<TerminalStatusRow[]> {
    return decodeReply('status', statusList, await this.get('/v1/status')).terminals;
  }

  /** A new one-time login URL of the daemon's dashboard (POST /v1/dashboard/link). */
  async dashboardLink(): Promise<string> {
    const reply = await this.send('POST', DASHBOARD_LINK_PATH, {});
    if (reply.status !== 200) throw replyError(reply);
    return decodeReply('dashboard link', dashboardLink, reply.body).url;
  }

  /**
   * The daemon's events (terminals added/removed, steps...), each with its ID; resolves once
   * subscribed. An event this client cannot read (a newer daemon's) is left out. `lastEventId`:
   * resume after that event (a `resync` event comes first when the daemon cannot replay from
   * there, docs/api.md "Hub events").
   */
  events(
    listener: (event: HubEvent | ResyncEvent, id: string | undefined) => void,
    options: { lastEventId?: string } = {},
  ): Promise<EventSubscription> {
    return new Promise((resolve, reject) => {
      const req = this.request('GET', '/v1/events', {
        accept: 'text/event-stream',
        ...(options.lastEventId !== undefined && { 'last-event-id': options.lastEventId }),
      });
      let endedResolve!: () => void;
      const ended = new Promise<void>((done) => {
        endedResolve = done;
      });
      req.on('error', (error) => {
        reject(this.lost(error));
        endedResolve();
      });
      req.on('response', (res) => {
        if (!isEventStream(res)) {
          readJson(res).then(
            (body) => reject(replyError({ status: res.statusCode ?? 0, body })),
            (error) => reject(this.lost(error)),
          );
          return;
        }
        const parser = new SseParser(({ event, data, id }) => {
          if (event === 'message') return;
          const parsed = (event === 'resync' ? resyncEvent : hubEvent).safeParse(parseJson(data));
          if (parsed.success) listener(parsed.data, id);
        });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => parser.push(chunk));
        res.on('close', endedResolve);
        res.on('error', () => undefined);
        resolve({ close: () => req.destroy(), ended });
      });
      req.end();
    });
  }

  /**
   * Runs operation `name` in the daemon. With a handler or a trace, asks for the event stream and
   * hands the events over as they come (one at a time, in order; `trace` lines to the trace); the
   * `result` event ends it.
   */
  async call<N extends OperationName>(
    name: N,
    request: RequestOf<N>,
    options: CallOptions<N> = {},
  ): Promise<ResultOf<N>> {
    const operation = operationOf(name);
    const on = (options.on ?? {}) as Record<string, Handler | undefined>;
    const encoded = encodeFor(operation.request, request);
    if (!encoded.ok)
      throw new PosbridgeError('USAGE', `invalid request: ${encoded.problems}`, {
        hint: 'fix the named fields; nothing was sent to a terminal',
      });
    const { wire, trace } = this.linkOf(options.link);
    const body: Record<string, unknown> = { ...(encoded.value as object), ...wire };
    // An acknowledged event comes only to a caller with a handler for it.
    for (const [event, spec] of Object.entries(operation.events))
      if (spec.acknowledged) body[spec.acknowledged.optIn] = on[event] !== undefined;
    const path = `/v1/${name}`;
    if (!trace && !Object.values(on).some((handler) => handler !== undefined)) {
      const reply = await this.send('POST', path, body);
      if (reply.status !== 200) return settledReply(reply, operation) as ResultOf<N>;
      return decodeReply(`${name} result`, operation.result, reply.body) as ResultOf<N>;
    }
    return this.stream(operation, path, body, on, trace) as Promise<ResultOf<N>>;
  }

  close(): void {
    this.agent.destroy();
  }

  // --- transport ----------------------------------------------------------------------------

  /** The `link` field of a request, and where its trace lines go. */
  private linkOf(given: LinkOptions | undefined): { wire: { link?: LinkBody }; trace?: WireTrace } {
    const link = given ?? this.link;
    const wire: LinkBody = {
      ...(link.trace && { trace: true }),
      ...(link.timeoutMs !== undefined && { timeoutMs: link.timeoutMs }),
      ...(link.baudRate !== undefined && { baudRate: link.baudRate }),
    };
    return {
      wire: Object.keys(wire).length > 0 ? { link: wire } : {},
      ...(link.trace && { trace: link.trace }),
    };
  }

  private stream(
    operation: AnyOperation,
    path: string,
    body: unknown,
    on: Record<string, Handler | undefined>,
    trace: WireTrace | undefined,
  ): Promise<unknown> {
    const { name } = operation;
    return new Promise((resolve, reject) => {
      const req = this.request('POST', path, {
        accept: 'text/event-stream',
        'content-type': 'application/json',
      });
      let settled = false;
      // A stopped run's reply resolves to its report; any other refusal rejects.
      const settleWith = (reply: Reply) => {
        try {
          resolve(settledReply(reply, operation));
        } catch (error) {
          reject(error);
        }
      };
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        fn();
      };
      req.on('error', (error) => settle(() => reject(this.lost(error))));
      req.on('response', (res) => {
        if (!isEventStream(res)) {
          readJson(res).then(
            (body) => settle(() => settleWith({ status: res.statusCode ?? 0, body })),
            (error) => settle(() => reject(this.lost(error))),
          );
          return;
        }
        let operationId = '';
        let chain = Promise.resolve();
        const parser = new SseParser(({ event, data }) => {
          chain = chain.then(async () => {
            if (settled) return;
            const value = parseJson(data);
            if (event === 'operation')
              operationId = decodeReply(`${name} operation event`, operationStarted, value).id;
            else if (event === 'trace') {
              const line = decodeReply(`${name} trace event`, traceEvent, value);
              trace?.record({ ...line, at: new Date(line.at) });
            } else if (event === 'result') {
              const result = value as { error?: unknown; report?: unknown } | undefined;
              if (result?.error !== undefined) settle(() => settleWith({ status: 200, body: result }));
              else {
                // Decoded before settling: a result that does not read rejects (below), never hangs.
                const report = decodeReply(`${name} result`, operation.result, result?.report);
                settle(() => resolve(report));
              }
            } else if (Object.hasOwn(operation.events, event)) {
              const spec = operation.events[event]!;
              const schema = wireEventSchema(spec.schema, spec.acknowledged !== undefined);
              if (spec.acknowledged)
                await this.acknowledge(operation, event, operationId, schema, value, on[event]);
              else await on[event]?.(decodeReply(`${name} ${event} event`, schema, value));
            }
            // Any other event is a newer daemon's: this client does not know it.
          });
          chain = chain.catch((error: unknown) => {
            // A handler failed, or the daemon said something unreadable: stop listening; the
            // daemon sees us go and fails cleanly.
            settle(() => reject(error));
            req.destroy();
          });
        });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => parser.push(chunk));
        res.on('error', () => undefined);
        res.on('close', () => {
          void chain.then(() =>
            settle(() =>
              reject(
                new PosbridgeError(
                  'DISCONNECTED',
                  `the daemon at ${this.socketPath} ended the operation without a result`,
                  {
                    hint: 'it may have stopped; the terminal state is the source of truth: check it (posbridge info) and run again',
                  },
                ),
              ),
            ),
          );
        });
      });
      req.end(JSON.stringify(body));
    });
  }

  /**
   * An acknowledged event (a generated password) goes to its handler; the daemon waits for our
   * word and uses it only once the handler kept it. One that does not read is refused, never
   * kept: the daemon is told so (it does not use it) and the call fails with BAD_REPLY.
   */
  private async acknowledge(
    operation: AnyOperation,
    event: string,
    operationId: string,
    schema: z.ZodType,
    value: unknown,
    handler: Handler | undefined,
  ): Promise<void> {
    const call = ackCall.safeParse(value);
    let ack: { call: string; ok: boolean; error?: ReturnType<typeof errorToCarried> };
    let failure: unknown;
    try {
      const { call: _call, ...data } = decodeReply(`${operation.name} ${event} event`, schema, value) as {
        call: string;
      };
      if (!handler) throw new PosbridgeError('USAGE', `nothing here keeps ${event} events`);
      await handler(data);
      ack = { call: call.data?.call ?? '', ok: true };
    } catch (error) {
      failure = error;
      ack = { call: call.data?.call ?? '', ok: false, error: errorToCarried(error) };
    }
    if (call.success) {
      const reply = await this.send(
        'POST',
        `/v1/operations/${encodeURIComponent(operationId)}/${encodeURIComponent(event)}`,
        ack,
      );
      if (reply.status !== 200) throw replyError(reply);
    }
    // A handler's own failure is the daemon's to report (it stops the run); ours is not.
    if (failure instanceof PosbridgeError && failure.code === 'BAD_REPLY') throw failure;
  }

  private async get(path: string): Promise<unknown> {
    const reply = await this.send('GET', path);
    if (reply.status !== 200) throw replyError(reply);
    return reply.body;
  }

  private send(method: string, path: string, body?: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = this.request(method, path, {
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': 'application/json' }),
      });
      req.on('error', (error) => reject(this.lost(error)));
      req.on('response', (res) => {
        readJson(res).then(
          (parsed) => resolve({ status: res.statusCode ?? 0, body: parsed }),
          (error) => reject(this.lost(error)),
        );
      });
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  private request(method: string, path: string, headers: Record<string, string>) {
    return request({ socketPath: this.socketPath, path, method, headers, agent: this.agent });
  }

  private lost(error: unknown): PosbridgeError {
    if (error instanceof PosbridgeError) return error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return new PosbridgeError('DISCONNECTED', `lost the posbridge daemon at ${this.socketPath}: ${code}`, {
      hint: 'is it still running? (systemctl --user status posbridge); the terminal state is the source of truth: check it and run again',
      cause: error,
    });
  }
}

/** An event's data: JSON, or BAD_REPLY. */
function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new PosbridgeError('BAD_REPLY', 'the daemon sent an event whose data is not JSON');
  }
}

export interface FindDaemonOptions {
  uid?: number;
  /** How long the health probe may take; default 1000 ms. */
  timeoutMs?: number;
}

/**
 * A client for the daemon answering at `--socket`, `POSBRIDGE_SOCKET` or the default socket;
 * undefined when none answers (no socket, a stale one, or one that is not the user's own).
 */
export async function findDaemon(
  env: NodeJS.ProcessEnv,
  socketFlag?: string,
  options: FindDaemonOptions = {},
): Promise<RemoteEngine | undefined> {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const location = resolveSocketPath(env, socketFlag, uid);
  return connectDaemon(location, uid, options.timeoutMs);
}

/** As findDaemon, for a location already resolved. */
export async function connectDaemon(
  location: SocketLocation,
  uid: number,
  timeoutMs = 1000,
  link: LinkOptions = {},
): Promise<RemoteEngine | undefined> {
  if (!(await isTrustedSocket(location.path, uid))) return undefined;
  const probe = await probeSocket(location.path, timeoutMs);
  if (probe.kind !== 'daemon') return undefined;
  return new RemoteEngine(location.path, link, probe.health);
}
