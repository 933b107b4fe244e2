/**
 * The daemon's API from the other side: `RemoteEngine` is an Engine whose operations run in the
 * daemon (which owns the ports), so every CLI command behaves the same through it as in-process:
 * same reports, same errors (rebuilt with their code, hint and details), the same callbacks
 * (steps, checks, identification, generated passwords) as they happen.
 *
 * Secrets go as their revealed value in the JSON body of the request that needs them, and
 * nowhere else. `findDaemon` finds a daemon answering at the socket the user chose (or the
 * default), after checking that the socket is the user's own.
 */
import { Agent, request } from 'node:http';
import type {
  DiagReport,
  Engine,
  InfoReport,
  OperatorReport,
  PasswdReport,
  ProvisionCall,
} from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { HubEvent, TerminalInfo } from '../../host/hub.js';
import type { LinkOptions } from '../../host/link-options.js';
import { Secret } from '../../host/secret.js';
import type { WireTrace } from '../../host/trace.js';
import type { ProvisionReport, StepRecord, TerminalIdentity } from '../../host/workflow/report.js';
import type { DiagCheckResult } from '../../host/workflow/terminal-ops.js';
import {
  isEventStream,
  operationToWire,
  operatorPasswords,
  type Reply,
  readJson,
  recordTraceEvent,
  replyError,
} from './client-wire.js';
import { isTrustedSocket, probeSocket, resolveSocketPath, type SocketLocation } from './socket.js';
import { SseParser } from './sse.js';
import { type DaemonHealth, errorToCarried, type LinkBody, type WireError } from './wire.js';

type StreamHandler = (event: string, data: unknown, operationId: string | undefined) => Promise<void> | void;

export interface EventSubscription {
  close(): void;
  /** Resolves when the stream ends (the daemon stopped, or close() was called). */
  readonly ended: Promise<void>;
}

export class RemoteEngine implements Engine {
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
  ) {}

  /** Who answers at the socket. */
  async health(): Promise<DaemonHealth> {
    return (await this.get('/v1/health')) as DaemonHealth;
  }

  async terminals(): Promise<TerminalInfo[]> {
    return ((await this.get('/v1/terminals')) as { terminals: TerminalInfo[] }).terminals;
  }

  /** The daemon's events (terminals added/removed, steps...); resolves once subscribed. */
  events(listener: (event: HubEvent) => void): Promise<EventSubscription> {
    return new Promise((resolve, reject) => {
      const req = this.request('GET', '/v1/events', { accept: 'text/event-stream' });
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
        const parser = new SseParser(({ event, data }) => {
          if (event !== 'message') listener(JSON.parse(data) as HubEvent);
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

  info(port: string, link?: LinkOptions): Promise<InfoReport> {
    const { wire, trace } = this.linkOf(link);
    return this.operation('/v1/info', { port, ...wire }, undefined, trace) as Promise<InfoReport>;
  }

  async provision(call: ProvisionCall): Promise<ProvisionReport> {
    const { request: r } = call;
    const { wire, trace } = this.linkOf(call.link);
    const body = {
      request: {
        port: r.port,
        merchant: r.merchant,
        terminal: r.terminal,
        ...(r.name !== undefined && { name: r.name }),
        ...(r.adminPassword && { adminPassword: r.adminPassword.reveal() }),
        ...(r.adminPasswordKnown !== undefined && { adminPasswordKnown: r.adminPasswordKnown }),
        profile: r.profile,
        technician: r.technician,
        station: r.station,
        ...(r.dryRun !== undefined && { dryRun: r.dryRun }),
      },
      ...(call.readOperatorSecret && { operatorPasswords: await operatorPasswords(call) }),
      recordGenerated: call.recordGenerated !== undefined,
      ...wire,
    };
    return (await this.operation(
      '/v1/provision',
      body,
      async (event, data, operationId) => {
        if (event === 'step') call.onStep?.(data as StepRecord);
        else if (event === 'identified') call.onIdentified?.(data as TerminalIdentity);
        else if (event === 'generated') await this.keepGenerated(call, data, operationId);
      },
      trace,
    )) as ProvisionReport;
  }

  diag(port: string, options: Parameters<Engine['diag']>[1]): Promise<DiagReport> {
    const { onCheck } = options;
    const { wire, trace } = this.linkOf(options.link);
    const body = {
      port,
      ...(options.adminPassword && { adminPassword: options.adminPassword.reveal() }),
      ...(options.checks && { checks: options.checks }),
      ...wire,
    };
    return this.operation(
      '/v1/diag',
      body,
      onCheck &&
        ((event, data) => {
          if (event === 'check') onCheck(data as DiagCheckResult);
        }),
      trace,
    ) as Promise<DiagReport>;
  }

  passwd(port: string, options: Parameters<Engine['passwd']>[1]): Promise<PasswdReport> {
    const { wire, trace } = this.linkOf(options.link);
    const body = {
      port,
      ...(options.user !== undefined && { user: options.user }),
      adminPassword: options.adminPassword.reveal(),
      newPassword: options.newPassword.reveal(),
      ...wire,
    };
    return this.operation('/v1/passwd', body, undefined, trace) as Promise<PasswdReport>;
  }

  operator(port: string, options: Parameters<Engine['operator']>[1]): Promise<OperatorReport> {
    const { wire, trace } = this.linkOf(options.link);
    const body = {
      port,
      ...(options.adminPassword && { adminPassword: options.adminPassword.reveal() }),
      operation: operationToWire(options.operation),
      ...wire,
    };
    return this.operation('/v1/operator', body, undefined, trace) as Promise<OperatorReport>;
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

  /** The generated password goes to the caller's recorder; the daemon waits for our word. */
  private async keepGenerated(
    call: ProvisionCall,
    data: unknown,
    operationId: string | undefined,
  ): Promise<void> {
    const { call: callId, id, password } = data as { call: string; id: string; password: string };
    let ack: { call: string; ok: boolean; error?: ReturnType<typeof errorToCarried> };
    try {
      await call.recordGenerated?.(id, new Secret(password));
      ack = { call: callId, ok: true };
    } catch (error) {
      ack = { call: callId, ok: false, error: errorToCarried(error) };
    }
    const reply = await this.send(
      'POST',
      `/v1/operations/${encodeURIComponent(operationId ?? '')}/generated`,
      ack,
    );
    if (reply.status !== 200) throw replyError(reply);
  }

  private async get(path: string): Promise<unknown> {
    const reply = await this.send('GET', path);
    if (reply.status !== 200) throw replyError(reply);
    return reply.body;
  }

  /**
   * POSTs an operation. With a handler or a trace, asks for the event stream and feeds it the
   * events as they come (one at a time, in order; `trace` events to the trace); the `result`
   * event ends it.
   */
  private async operation(
    path: string,
    body: unknown,
    given?: StreamHandler,
    trace?: WireTrace,
  ): Promise<unknown> {
    const handler: StreamHandler | undefined = trace
      ? async (event, data, operationId) => {
          if (event === 'trace') recordTraceEvent(trace, data);
          else await given?.(event, data, operationId);
        }
      : given;
    if (!handler) {
      const reply = await this.send('POST', path, body);
      if (reply.status !== 200) throw replyError(reply);
      return reply.body;
    }
    return new Promise((resolve, reject) => {
      const req = this.request('POST', path, {
        accept: 'text/event-stream',
        'content-type': 'application/json',
      });
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        fn();
      };
      req.on('error', (error) => settle(() => reject(this.lost(error))));
      req.on('response', (res) => {
        if (!isEventStream(res)) {
          readJson(res).then(
            (body) => settle(() => reject(replyError({ status: res.statusCode ?? 0, body }))),
            (error) => settle(() => reject(this.lost(error))),
          );
          return;
        }
        let operationId: string | undefined;
        let chain = Promise.resolve();
        const parser = new SseParser(({ event, data }) => {
          chain = chain.then(async () => {
            if (settled) return;
            const value = JSON.parse(data) as unknown;
            if (event === 'operation') operationId = (value as { id: string }).id;
            else if (event === 'result') {
              const result = value as { report?: unknown; error?: WireError };
              settle(() =>
                result.error ? reject(replyError({ status: 200, body: result })) : resolve(result.report),
              );
            } else await handler(event, value, operationId);
          });
          chain = chain.catch((error: unknown) => {
            // A callback failed: stop listening; the daemon sees us go and fails cleanly.
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
