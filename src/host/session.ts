/**
 * A TSP/1 session over one Transport: one request in flight, a FIFO queue behind it.
 *
 * What it does for every request: gives it an ID (incrementing from a random start, wrapping in
 * 1..99999999), sends it with a CRC and CRLF, reads frames with the protocol's LineSplitter,
 * correlates replies by ID, collects DATA lines, resolves on OK and rejects with a TerminalError
 * on ERR. Timeouts, retransmission with the same bytes, 503 backoff and the handling of damaged
 * lines are the Exchange state machine's (exchange.ts); this class runs it against the transport
 * and the timers. EVT lines go to listeners whenever they arrive (TSP/1: between any two lines of
 * a reply too). When the link goes away every pending and queued request fails at once with
 * DISCONNECTED, and nothing is ever resent on a new link (its replay cache is empty).
 *
 * Secrets: arguments may be Secret values; they are revealed only into the line written to the
 * transport. The trace and the log see lines through maskLine only.
 *
 * Beside it: request-line.ts checks and writes a request's line, session-settings.ts makes each
 * request's exchange config, line-intake.ts says what each received frame means, and
 * session-failure.ts turns a failed exchange into the caller's error.
 */
import type { Logger } from 'pino';
import {
  type Clock,
  LINE_END,
  LineSplitter,
  systemClock,
  systemTimers,
  type Timers,
  type Verb,
} from '../protocol/index.js';
import { PosbridgeError } from './errors.js';
import {
  Exchange,
  type ExchangeAction,
  type ExchangeEvent,
  type ExchangeFailureReason,
  type Fields,
  type ResendReason,
} from './exchange.js';
import { LineIntake } from './line-intake.js';
import type { Transport } from './ports/transport.js';
import { checkArgs, encodeRequest } from './request-line.js';
import { RequestTimer } from './request-timer.js';
import { requestFailure } from './session-failure.js';
import { exchangeConfig, type SessionSettings, sessionSettings } from './session-settings.js';
import {
  type ArgValue,
  MAX_REQUEST_ID,
  type Reply,
  type RequestArgs,
  type RequestOptions,
  type SessionOptions,
  type TerminalEvent,
} from './session-types.js';
import { type RandomSource, systemRandom } from './timers.js';
import { traceLine, traceText, type WireTrace } from './trace.js';

export { mayBeDamagedBoot } from './damaged-boot.js';
export type { Fields, ResendReason } from './exchange.js';
export { SESSION_DEFAULTS } from './session-settings.js';
export type {
  ArgValue,
  Reply,
  RequestArgs,
  RequestOptions,
  SessionOptions,
  TerminalEvent,
} from './session-types.js';
export { MAX_REQUEST_ID } from './session-types.js';

interface Entry {
  verb: Verb;
  args: ReadonlyArray<readonly [string, ArgValue]>;
  exchange: Exchange;
  onData: ((fields: Fields) => void) | undefined;
  resolve: (reply: Reply) => void;
  reject: (error: PosbridgeError) => void;
  id?: string;
  line?: string;
  /** The reply wait or the 503 backoff, whichever runs. */
  timer: RequestTimer;
}

export class Session {
  readonly name: string;
  private readonly transport: Transport;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly trace: WireTrace | undefined;
  private readonly onRetransmit: SessionOptions['onRetransmit'];
  private readonly taps = new Set<WireTrace>();
  private readonly settings: SessionSettings;
  private readonly splitter = new LineSplitter();
  private readonly intake: LineIntake;
  private readonly queue: Entry[] = [];
  private inFlight: Entry | undefined;
  private nextId: number;
  private ended: PosbridgeError | undefined;
  private readonly eventListeners = new Set<(event: TerminalEvent) => void>();
  private readonly closeListeners = new Set<(error: PosbridgeError) => void>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(transport: Transport, options: SessionOptions) {
    this.transport = transport;
    this.name = transport.name;
    this.logger = options.logger;
    this.timers = options.timers ?? systemTimers;
    this.clock = options.clock ?? systemClock;
    this.trace = options.trace;
    this.onRetransmit = options.onRetransmit;
    this.settings = sessionSettings(options);
    this.random = options.random ?? systemRandom;
    const first = this.random();
    this.nextId = Math.min(MAX_REQUEST_ID, Math.max(1, 1 + Math.floor(first * MAX_REQUEST_ID)));
    this.intake = new LineIntake(this.name, this.logger, {
      inFlight: () => this.inFlight,
      toInFlight: (event) => {
        if (this.inFlight) this.dispatch(this.inFlight, event);
      },
      event: (name, fields) => this.event(name, fields),
      traceIn: (raw) => this.traceIn(raw),
    });
    this.unsubscribe.push(
      transport.onData((bytes) => this.receive(bytes)),
      transport.onClose((error) => this.linkEnded(error)),
    );
    if (transport.closed) this.linkEnded(new Error('the transport was already closed'));
  }

  /**
   * Another trace for the wire lines (masked like every trace) until the returned function is
   * called: one operation's `--trace` on a link the daemon keeps open (link-options.ts).
   */
  addTrace(sink: WireTrace): () => void {
    this.taps.add(sink);
    return () => {
      this.taps.delete(sink);
    };
  }

  /** True once the link ended or close() was called: every request now fails at once. */
  get closed(): boolean {
    return this.ended !== undefined;
  }

  /** Requests in flight or queued. */
  get pending(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  /**
   * Sends a request and resolves with its OK reply. Rejects with a TerminalError (ERR), or a
   * PosbridgeError: TIMEOUT, BAD_REPLY, REBOOTED, DISCONNECTED, CLOSED, USAGE (unknown argument),
   * INVALID_VALUE (line over 512 bytes; nothing sent).
   */
  request(verb: Verb, args: RequestArgs = {}, options: RequestOptions = {}): Promise<Reply> {
    if (this.ended) return Promise.reject(this.ended);
    let entries: Array<readonly [string, ArgValue]>;
    try {
      entries = checkArgs(verb, args);
    } catch (error) {
      return Promise.reject(error);
    }
    const config = exchangeConfig(verb, options.timeoutMs, this.settings, this.random);
    return new Promise<Reply>((resolve, reject) => {
      const entry: Entry = {
        verb,
        args: entries,
        exchange: new Exchange(config),
        onData: options.onData,
        resolve,
        reject,
        timer: new RequestTimer(this.timers, (kind) => {
          if (this.inFlight !== entry) return;
          this.dispatch(entry, kind === 'reply' ? { type: 'timeout' } : { type: 'backoff-elapsed' });
        }),
      };
      this.queue.push(entry);
      this.pump();
    });
  }

  /** EVT lines, as they arrive. Returns a function that removes the listener. */
  onEvent(listener: (event: TerminalEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called once when the session ends (link gone: DISCONNECTED; close(): CLOSED). */
  onClose(listener: (error: PosbridgeError) => void): () => void {
    if (this.ended) {
      const ended = this.ended;
      queueMicrotask(() => listener(ended));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Fails everything pending with CLOSED and closes the transport. Idempotent. */
  async close(): Promise<void> {
    if (!this.ended) {
      this.end(
        new PosbridgeError('CLOSED', `${this.name}: session closed`, {
          details: { port: this.name },
        }),
      );
    }
    await this.transport.close();
  }

  private takeId(): string {
    const id = this.nextId;
    this.nextId = id >= MAX_REQUEST_ID ? 1 : id + 1;
    return String(id);
  }

  private pump(): void {
    if (this.inFlight || this.ended) return;
    const entry = this.queue.shift();
    if (!entry) return;
    entry.id = this.takeId();
    entry.line = encodeRequest(entry.verb, entry.id, entry.args);
    this.inFlight = entry;
    this.dispatch(entry, { type: 'start' });
  }

  private dispatch(entry: Entry, event: ExchangeEvent): void {
    for (const action of entry.exchange.handle(event)) this.run(entry, action);
  }

  private run(entry: Entry, action: ExchangeAction): void {
    switch (action.type) {
      case 'send':
        this.send(entry, action.resend);
        return;
      case 'arm':
        entry.timer.arm('reply', action.ms);
        return;
      case 'backoff':
        this.logger.info(
          { port: this.name, verb: entry.verb, id: entry.id, ms: action.ms },
          'terminal busy, retrying',
        );
        entry.timer.arm('backoff', action.ms);
        return;
      case 'disarm':
        entry.timer.clear();
        return;
      case 'data':
        if (entry.onData) {
          try {
            entry.onData(action.fields);
          } catch (error) {
            this.logger.error({ err: error, verb: entry.verb }, 'DATA listener threw');
          }
        }
        return;
      case 'resolve':
        this.settle(entry);
        entry.resolve({
          id: entry.id!,
          verb: entry.verb,
          fields: action.fields,
          data: action.data,
          ...(action.rebooted && { rebooted: true }),
        });
        this.pump();
        return;
      case 'fail':
        this.settle(entry);
        entry.reject(this.failure(entry, action.reason, action.detail, action.fields));
        this.pump();
        return;
    }
  }

  private settle(entry: Entry): void {
    entry.timer.clear();
    if (this.inFlight === entry) this.inFlight = undefined;
  }

  private send(entry: Entry, resend: ResendReason | undefined): void {
    const line = entry.line!;
    if (resend !== undefined) {
      this.logger.warn(
        { port: this.name, verb: entry.verb, id: entry.id, reason: resend },
        'resending request',
      );
      try {
        this.onRetransmit?.(entry.verb, resend);
      } catch (error) {
        this.logger.error({ err: error }, 'retransmission listener threw');
      }
    }
    if (this.debugging) this.logger.debug({ port: this.name, line: traceText(line) }, '>');
    this.traceWire('>', line);
    this.transport.write(Buffer.from(`${line}${LINE_END}`, 'latin1')).catch((error: unknown) => {
      // A dead link reports itself through onClose; a failed write otherwise ends as a timeout.
      this.logger.debug({ port: this.name, err: error }, 'write failed');
    });
  }

  /** Debug lines cost a masked copy of the wire line: built only when someone reads them. */
  private get debugging(): boolean {
    return this.logger.isLevelEnabled('debug');
  }

  private receive(bytes: Uint8Array): void {
    for (const frame of this.splitter.push(bytes)) {
      try {
        this.intake.frame(frame);
      } catch (error) {
        // A bug here must not leave the request hanging: its timer still runs.
        this.logger.error({ err: error, port: this.name }, 'failed to handle a received line');
      }
    }
  }

  private event(name: string, fields: Fields): void {
    const event: TerminalEvent = { name, fields, at: new Date(this.clock.now()) };
    if (name === 'boot')
      this.logger.info({ port: this.name, fields }, 'terminal restarted (EVT boot): login gone');
    else this.logger.debug({ port: this.name, name, fields }, 'event');
    if (this.inFlight) this.dispatch(this.inFlight, { type: 'event', name });
    for (const listener of [...this.eventListeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event: name }, 'event listener threw');
      }
    }
  }

  private traceIn(raw: string): void {
    if (this.debugging) this.logger.debug({ port: this.name, line: traceText(raw) }, '<');
    this.traceWire('<', raw);
  }

  /** To the session's trace and each added one; a sink never throws (trace.ts). */
  private traceWire(direction: '>' | '<', raw: string): void {
    traceLine(this.trace, this.clock, direction, raw);
    for (const tap of this.taps) traceLine(tap, this.clock, direction, raw);
  }

  private linkEnded(cause?: Error): void {
    if (this.ended) return;
    const detail = cause?.message ?? 'the link was closed';
    this.end(
      new PosbridgeError('DISCONNECTED', `${this.name}: the link went away (${detail})`, {
        hint: 'Check the cable and that the terminal is on, then run the command again: it resumes from the terminal state.',
        details: { port: this.name },
        cause,
      }),
    );
  }

  /** Fails the request in flight and every queued one at once, then tells the close listeners. */
  private end(error: PosbridgeError): void {
    if (this.ended) return;
    this.ended = error;
    for (const off of this.unsubscribe.splice(0)) off();
    this.splitter.reset();
    const entry = this.inFlight;
    if (entry) {
      this.dispatch(
        entry,
        error.code === 'CLOSED'
          ? { type: 'closed', detail: error.message }
          : { type: 'disconnected', detail: error.message },
      );
    }
    for (const queued of this.queue.splice(0)) queued.reject(this.failure(queued, 'closed', error.message));
    for (const listener of [...this.closeListeners]) {
      try {
        listener(error);
      } catch (listenerError) {
        this.logger.error({ err: listenerError }, 'close listener threw');
      }
    }
    this.closeListeners.clear();
  }

  private failure(
    entry: Entry,
    reason: ExchangeFailureReason,
    detail: string,
    fields?: Fields,
  ): PosbridgeError {
    const request = { port: this.name, verb: entry.verb, id: entry.id, sends: entry.exchange.sends };
    return requestFailure(request, { reason, detail, fields }, this.ended);
  }
}
