/**
 * Running one operation of the table for an API request, the same way for all of them: refused
 * before a byte is sent when it needs the event stream it did not ask for; registered (for
 * shutdown and acknowledgements); its events sent on its stream as they happen (steps also to
 * the hub); an acknowledged event handed over and waited for; `operation-finished` published; the
 * result written, or the failure passed up to the server, which writes it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { callOperation, type Engine } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { HubEvent, PortManager } from '../../host/hub.js';
import type { LinkOptions } from '../../host/link-options.js';
import { type EventSpec, type OperationName, operationOf } from '../../host/operations/index.js';
import type { ProvisionReport, StepRecord } from '../../host/workflow/report.js';
import { json, sendErrorReply, shuttingDown, stoppedReply } from './http.js';
import type { HttpExchange } from './routes.js';
import { SseWriter } from './sse.js';
import { encodeFor, type LinkBody, type RequestBody, type TraceEvent, type WireError } from './wire.js';

interface PendingCall {
  event: string;
  resolve(): void;
  reject(error: Error): void;
}

export interface RunningOperation {
  id: string;
  name: OperationName;
  port: string;
  stream: SseWriter | undefined;
  pending: Map<string, PendingCall>;
  nextCall: number;
  done: Promise<void>;
}

export interface OperationRunnerOptions {
  engine: Engine;
  hub: Pick<PortManager, 'publish'>;
  logger: Logger;
  heartbeatMs?: number | undefined;
  /** How long an acknowledged event waits for the caller's word; default 30 s. */
  ackTimeoutMs?: number | undefined;
  /**
   * Results and events that do not match their schema fail the request (tests); otherwise they
   * are logged and sent as they are.
   */
  checkReplies?: boolean | undefined;
  /** False once the server is shutting down: a new operation is refused (503). */
  accepting(): boolean;
}

export class OperationRunner {
  readonly running = new Map<string, RunningOperation>();

  constructor(private readonly options: OperationRunnerOptions) {}

  async run(ex: HttpExchange, name: OperationName, body: z.output<RequestBody>): Promise<void> {
    const operation = operationOf(name);
    const { link, ...rest } = body as Record<string, unknown> & { link?: LinkBody };
    // The API's own fields out; what is left is the operation's request.
    const optedOut = new Set<string>();
    for (const [event, spec] of Object.entries(operation.events)) {
      const optIn = spec.acknowledged?.optIn;
      if (optIn === undefined) continue;
      if (rest[optIn] === false) optedOut.add(event);
      delete rest[optIn];
    }
    const request = rest as never;
    if (link?.trace && !ex.wantsStream)
      throw new PosbridgeError('USAGE', 'link.trace: the wire lines come back on an event stream only', {
        hint: 'ask with Accept: text/event-stream (each line is a trace event), or leave out link.trace; nothing was sent to a terminal',
      });
    const optIns = Object.entries(operation.events).filter(
      ([event, spec]) => spec.acknowledged && !optedOut.has(event),
    );
    const why = !ex.wantsStream && optIns.length > 0 ? operation.needsStream?.(request) : undefined;
    if (why !== undefined) {
      const [event, spec] = optIns[0]!;
      // Refused before a byte is sent, rather than half-way when the first one is due.
      throw new PosbridgeError('USAGE', why, {
        hint: `ask with Accept: text/event-stream and acknowledge each ${event} event, or send ${spec.acknowledged!.optIn}: false; nothing was sent to a terminal`,
      });
    }
    if (!this.options.accepting()) throw shuttingDown();
    const port = operation.port(request);
    const op = this.register(ex, name, port);
    this.publish({ type: 'operation-started', port, operation: name, id: op.id });
    const on: Record<string, (data: unknown) => unknown> = {};
    for (const [event, spec] of Object.entries(operation.events)) {
      if (spec.acknowledged) {
        if (!optedOut.has(event)) on[event] = (data) => this.handOver(op, event, spec, data);
      } else
        on[event] = (data) => {
          this.emit(op, event, spec.schema, data);
          if (event === 'step')
            this.publish({ type: 'step', port, operation: name, step: data as StepRecord });
        };
    }
    try {
      const result = await callOperation(this.options.engine, name, request, {
        on: on as never,
        ...(link && { link: this.link(op, link) }),
      });
      const outcome = (result as { outcome?: unknown }).outcome;
      this.publish({
        type: 'operation-finished',
        port,
        operation: name,
        // A run report says how it ended; any other result is done.
        outcome: outcome === undefined ? 'done' : String(outcome),
        ...(outcome !== undefined && { report: result as ProvisionReport }),
      });
      const report = this.out(`${name} result`, operation.result, result);
      // A run that stopped early resolved to its report; it answers as the error that stopped it.
      if (isStoppedResult(report)) sendErrorReply(ex, stoppedReply(report));
      else if (ex.stream) {
        ex.stream.send('result', { report });
        ex.stream.end();
      } else json(ex.res, 200, report);
    } catch (error) {
      this.publish({ type: 'operation-finished', port, operation: name, outcome: 'failed' });
      throw error;
    } finally {
      for (const pending of op.pending.values())
        pending.reject(new PosbridgeError('CLOSED', 'the operation ended'));
      this.running.delete(op.id);
      op.settle();
    }
  }

  /** The caller's word on an acknowledged event; false when no such call waits. */
  acknowledge(operationId: string, event: string, call: string, error?: Error): boolean {
    const pending = this.running.get(operationId)?.pending.get(call);
    if (!pending || pending.event !== event) return false;
    if (error) pending.reject(error);
    else pending.resolve();
    return true;
  }

  /** Resolves true once no operation runs, false if some still do after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = Promise.all([...this.running.values()].map((op) => op.done)).then(() => true as const);
    try {
      return await Promise.race([all, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private register(
    ex: HttpExchange,
    name: OperationName,
    port: string,
  ): RunningOperation & { settle(): void } {
    let settle!: () => void;
    const op = {
      id: randomUUID(),
      name,
      port,
      stream: undefined as SseWriter | undefined,
      pending: new Map<string, PendingCall>(),
      nextCall: 1,
      done: new Promise<void>((resolve) => {
        settle = resolve;
      }),
      settle: () => settle(),
    };
    this.running.set(op.id, op);
    ex.operation = op;
    if (ex.wantsStream) {
      op.stream = ex.stream = new SseWriter(ex.res, { heartbeatMs: this.options.heartbeatMs });
      op.stream.send('operation', { id: op.id, name, port });
    }
    return op;
  }

  /**
   * The caller's link options for this operation; its trace goes back on the operation's stream
   * as `trace` events, so the caller writes its own file with its own permissions.
   */
  private link(op: RunningOperation, link: LinkBody): LinkOptions {
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
            op.stream?.send('trace', event);
          },
          close: async () => undefined,
        },
      }),
    };
  }

  private emit(op: RunningOperation, event: string, schema: z.ZodType, data: unknown): void {
    if (!op.stream) return;
    op.stream.send(event, this.out(`${op.name} ${event} event`, schema, data));
  }

  /** What goes out, as its schema writes it; one that does not match is a bug, said loudly. */
  private out(what: string, schema: z.ZodType, value: unknown): unknown {
    const encoded = encodeFor(schema, value);
    if (encoded.ok) return encoded.value;
    if (this.options.checkReplies)
      throw new PosbridgeError(
        'INTERNAL',
        `the daemon's ${what} does not match the API: ${encoded.problems}`,
      );
    this.options.logger.error({ what, problems: encoded.problems }, 'a reply that does not match the API');
    return value;
  }

  private publish(event: HubEvent): void {
    try {
      this.options.hub.publish(event);
    } catch (error) {
      this.options.logger.warn({ err: error, event: event.type }, 'publishing an event failed');
    }
  }

  /**
   * An acknowledged event (a generated operator password) goes to the caller on its stream and
   * must be acknowledged before the run goes on: if the caller cannot keep it, it is not used.
   */
  private handOver(op: RunningOperation, event: string, spec: EventSpec, data: unknown): Promise<void> {
    const what = spec.acknowledged!.what(data);
    const stream = op.stream;
    if (!stream || stream.closed) {
      return Promise.reject(
        new PosbridgeError('USAGE', `${what} can only be handed over on an event stream`, {
          hint: `ask with Accept: text/event-stream, or send ${spec.acknowledged!.optIn}: false`,
        }),
      );
    }
    const call = `g${op.nextCall++}`;
    const timeoutMs = this.options.ackTimeoutMs ?? 30_000;
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        stream.off('closed', onClose);
        op.pending.delete(call);
        if (error) reject(error);
        else resolve();
      };
      const notSent = 'it was not sent to the terminal; run again';
      const timer = setTimeout(
        () =>
          settle(
            new PosbridgeError('TIMEOUT', `the caller did not confirm it kept ${what}`, { hint: notSent }),
          ),
        timeoutMs,
      );
      const onClose = () =>
        settle(
          new PosbridgeError('CLOSED', `the caller went away before keeping ${what}`, { hint: notSent }),
        );
      stream.on('closed', onClose);
      op.pending.set(call, { event, resolve: () => settle(), reject: (error) => settle(error) });
      // Never a value the schema does not write (a secret would go out as `***`): not sent at all.
      const encoded = encodeFor(spec.schema, data);
      if (encoded.ok) stream.send(event, { call, ...(encoded.value as object) });
      else
        settle(
          new PosbridgeError('INTERNAL', `${what} does not match the API: ${encoded.problems}`, {
            hint: notSent,
          }),
        );
    });
  }
}

/** A run report that says what stopped it (a provisioning's `error`). */
function isStoppedResult(result: unknown): result is { error: WireError } {
  const error = (result as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string';
}
