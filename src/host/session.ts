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
 */
import type { Logger } from 'pino';
import {
  announcedDataLines,
  COMMANDS,
  type CommandSpec,
  ERR_REPLY,
  encodeLine,
  type Frame,
  LINE_END,
  LineSplitter,
  MAX_LINE_BYTES,
  parseReply,
  readLeadingId,
  type Verb,
} from '../protocol/index.js';
import { mayBeDamagedBoot } from './damaged-boot.js';
import { PosbridgeError } from './errors.js';
import {
  Exchange,
  type ExchangeAction,
  type ExchangeConfig,
  type ExchangeEvent,
  type ExchangeFailureReason,
  type Fields,
  retransmitWaitMs,
} from './exchange.js';
import type { Transport } from './ports/transport.js';
import { Secret } from './secret.js';
import { requestFailure } from './session-failure.js';
import {
  type Clock,
  type RandomSource,
  systemClock,
  systemRandom,
  systemTimers,
  type TimerHandle,
  type Timers,
} from './timers.js';
import { traceLine, traceText, type WireTrace } from './trace.js';

export { mayBeDamagedBoot } from './damaged-boot.js';
export type { Fields } from './exchange.js';

export interface SessionOptions {
  /** A pino logger (tests pass a silent one). Lines reach it masked. */
  logger: Logger;
  timers?: Timers | undefined;
  /** Timestamps of trace lines and events. */
  clock?: Clock | undefined;
  /** Picks the first request ID, and the jitter of the retransmission backoff. */
  random?: RandomSource | undefined;
  /** Reply timeout of `normal` commands (command table), in ms; restarted by each DATA/EVT line. */
  timeoutMs?: number | undefined;
  /** Reply timeout of `slow` commands (DIAG), in ms, restarted by each DATA/EVT line. */
  slowTimeoutMs?: number | undefined;
  /** Retransmissions of one request (same ID, same bytes) before it fails. */
  maxRetransmits?: number | undefined;
  /**
   * The longest reply wait after a timeout, in ms: each timeout doubles the wait, up to 4 times
   * the request's reply timeout and at most this (never below the reply timeout itself).
   */
  retransmitBackoffMaxMs?: number | undefined;
  /** Resends of one request after a 503 busy/not-ready before it fails. */
  busyRetries?: number | undefined;
  /** First backoff after a 503, in ms; doubles on each retry up to busyBackoffMaxMs. */
  busyBackoffMs?: number | undefined;
  busyBackoffMaxMs?: number | undefined;
  /** Wire trace sink (`--trace FILE`); the session masks before recording. */
  trace?: WireTrace | undefined;
}

/**
 * Defaults. At 115200 baud a full 512-byte line takes 45 ms, so 2 s is many round trips of a
 * terminal that answers at all; DIAG's checks (network, host) may each take seconds, and its timer
 * restarts at every DATA line. Retransmissions: the reply waits are 2, 4, 8 and 8 s (plus up to an
 * eighth of jitter each after the first), so a silent terminal is given up after at most 24.5 s.
 * 503 backoff: 200, 400, 800, 1600, 2000, 2000... ms, 8 retries, about 11 s in all: longer than a
 * reboot's not-ready window (0.5 s on the mock).
 */
export const SESSION_DEFAULTS = {
  timeoutMs: 2000,
  slowTimeoutMs: 15_000,
  maxRetransmits: 3,
  retransmitBackoffMaxMs: 8000,
  busyRetries: 8,
  busyBackoffMs: 200,
  busyBackoffMaxMs: 2000,
} as const;

/** IDs are 1 to 8 digits; we use 1..99999999 and wrap. */
export const MAX_REQUEST_ID = 99_999_999;

export type ArgValue = string | number | Secret;
/** Arguments by key, in the order they are written; undefined values are left out. */
export type RequestArgs = Readonly<Record<string, ArgValue | undefined>>;

export interface RequestOptions {
  /** Overrides the reply timeout of this request, in ms. */
  timeoutMs?: number | undefined;
  /**
   * Each DATA line as it arrives. After a retransmission the terminal's replay may deliver a line
   * again: consumers dedupe (the resolved reply's `data` is exact).
   */
  onData?: ((fields: Fields) => void) | undefined;
}

export interface Reply {
  id: string;
  verb: Verb;
  /** Fields of the OK line. */
  fields: Fields;
  /** Fields of each DATA line, in order. */
  data: Fields[];
  /**
   * EVT boot arrived after the request went out and before this reply: the reply may come from
   * before the restart. What the command stored stands; what it says about the connection (a
   * LOGIN's login) does not: the restart ended it.
   */
  rebooted?: boolean;
}

export interface TerminalEvent {
  /** `boot`, `state`, `lockout`, ... */
  name: string;
  fields: Fields;
  at: Date;
}

interface Entry {
  verb: Verb;
  args: ReadonlyArray<readonly [string, ArgValue]>;
  exchange: Exchange;
  onData: ((fields: Fields) => void) | undefined;
  resolve: (reply: Reply) => void;
  reject: (error: PosbridgeError) => void;
  id?: string;
  line?: string;
  timer?: TimerHandle;
  /** What the running timer is for and its length: a re-arm of the same restarts it in place. */
  timerKind?: 'reply' | 'backoff';
  timerMs?: number;
}

/** ` *XXXX`: what appendCrc adds to a line. */
const CRC_SUFFIX_LENGTH = 6;

export class Session {
  readonly name: string;
  private readonly transport: Transport;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly trace: WireTrace | undefined;
  private readonly taps = new Set<WireTrace>();
  private readonly settings: Required<
    Omit<SessionOptions, 'logger' | 'timers' | 'clock' | 'random' | 'trace'>
  >;
  private readonly splitter = new LineSplitter();
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
    this.settings = {
      timeoutMs: options.timeoutMs ?? SESSION_DEFAULTS.timeoutMs,
      slowTimeoutMs: options.slowTimeoutMs ?? SESSION_DEFAULTS.slowTimeoutMs,
      maxRetransmits: options.maxRetransmits ?? SESSION_DEFAULTS.maxRetransmits,
      retransmitBackoffMaxMs: options.retransmitBackoffMaxMs ?? SESSION_DEFAULTS.retransmitBackoffMaxMs,
      busyRetries: options.busyRetries ?? SESSION_DEFAULTS.busyRetries,
      busyBackoffMs: options.busyBackoffMs ?? SESSION_DEFAULTS.busyBackoffMs,
      busyBackoffMaxMs: options.busyBackoffMaxMs ?? SESSION_DEFAULTS.busyBackoffMaxMs,
    };
    this.random = options.random ?? systemRandom;
    const first = this.random();
    this.nextId = Math.min(MAX_REQUEST_ID, Math.max(1, 1 + Math.floor(first * MAX_REQUEST_ID)));
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
      entries = this.checkArgs(verb, args);
    } catch (error) {
      return Promise.reject(error);
    }
    const spec: CommandSpec = COMMANDS[verb];
    const timeoutMs =
      options.timeoutMs ?? (spec.timeout === 'slow' ? this.settings.slowTimeoutMs : this.settings.timeoutMs);
    const config: ExchangeConfig = {
      timeoutMs,
      retransmitWaitMs: (timeouts) =>
        retransmitWaitMs(timeoutMs, timeouts, this.settings.retransmitBackoffMaxMs, this.random),
      maxRetransmits: this.settings.maxRetransmits,
      busyRetries: this.settings.busyRetries,
      busyBackoffMs: this.busyBackoffMs,
      // Tells a complete reply from one that lost a line (exchange.ts).
      expectedData: expectedDataOf(verb),
    };
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({
        verb,
        args: entries,
        exchange: new Exchange(config),
        onData: options.onData,
        resolve,
        reject,
      });
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

  private checkArgs(verb: Verb, args: RequestArgs): Array<readonly [string, ArgValue]> {
    const spec: CommandSpec = COMMANDS[verb];
    const entries: Array<readonly [string, ArgValue]> = [];
    for (const [key, value] of Object.entries(args)) {
      if (value === undefined) continue;
      if (!Object.hasOwn(spec.args, key)) {
        throw new PosbridgeError('USAGE', `${verb} takes no argument ${key}`, { details: { verb, key } });
      }
      entries.push([key, value]);
    }
    for (const [key, arg] of Object.entries(spec.args)) {
      if (arg.required && !entries.some(([k]) => k === key)) {
        throw new PosbridgeError('USAGE', `${verb} needs ${key}=`, { details: { verb, key } });
      }
    }
    // Worst case ID width: the line must fit whatever ID it gets. (Its CRC is always 6 characters:
    // not computed here, the line is encoded again with its real ID when it is sent.)
    const length = this.encode(verb, String(MAX_REQUEST_ID), entries, false).length + CRC_SUFFIX_LENGTH;
    if (length > MAX_LINE_BYTES) {
      throw new PosbridgeError(
        'INVALID_VALUE',
        `${verb} request would be ${length} bytes, over the TSP/1 limit of ${MAX_LINE_BYTES}`,
        { hint: 'Shorten the values (names, addresses).', details: { verb, length } },
      );
    }
    return entries;
  }

  private encode(
    verb: Verb,
    id: string,
    args: ReadonlyArray<readonly [string, ArgValue]>,
    crc = true,
  ): string {
    return encodeLine({
      id,
      words: [verb],
      fields: args.map(([key, value]) => [key, value instanceof Secret ? value.reveal() : value] as const),
      crc,
    });
  }

  /** 503 backoff: doubles from busyBackoffMs up to busyBackoffMaxMs (one function for every request). */
  private readonly busyBackoffMs = (attempt: number): number =>
    Math.min(this.settings.busyBackoffMaxMs, this.settings.busyBackoffMs * 2 ** (attempt - 1));

  /** Debug lines cost a masked copy of the wire line: built only when someone reads them. */
  private get debugging(): boolean {
    return this.logger.isLevelEnabled('debug');
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
    entry.line = this.encode(entry.verb, entry.id, entry.args);
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
        this.setTimer(entry, 'reply', action.ms);
        return;
      case 'backoff':
        this.logger.info(
          { port: this.name, verb: entry.verb, id: entry.id, ms: action.ms },
          'terminal busy, retrying',
        );
        this.setTimer(entry, 'backoff', action.ms);
        return;
      case 'disarm':
        this.clearTimer(entry);
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
    this.clearTimer(entry);
    if (this.inFlight === entry) this.inFlight = undefined;
  }

  private send(entry: Entry, resend: string | undefined): void {
    const line = entry.line!;
    if (resend !== undefined) {
      this.logger.warn(
        { port: this.name, verb: entry.verb, id: entry.id, reason: resend },
        'resending request',
      );
    }
    if (this.debugging) this.logger.debug({ port: this.name, line: traceText(line) }, '>');
    this.traceWire('>', line);
    this.transport.write(Buffer.from(`${line}${LINE_END}`, 'latin1')).catch((error: unknown) => {
      // A dead link reports itself through onClose; a failed write otherwise ends as a timeout.
      this.logger.debug({ port: this.name, err: error }, 'write failed');
    });
  }

  private setTimer(entry: Entry, kind: 'reply' | 'backoff', ms: number): void {
    // Each DATA or EVT line re-arms the reply timer: restart the running one in place (Node's
    // Timeout.refresh) rather than clear it and make another.
    const running = entry.timer as { refresh?: () => unknown } | undefined;
    if (
      running &&
      entry.timerKind === kind &&
      entry.timerMs === ms &&
      typeof running.refresh === 'function'
    ) {
      running.refresh();
      return;
    }
    this.clearTimer(entry);
    entry.timerKind = kind;
    entry.timerMs = ms;
    entry.timer = this.timers.setTimeout(() => {
      entry.timer = undefined;
      if (this.inFlight !== entry) return;
      this.dispatch(entry, kind === 'reply' ? { type: 'timeout' } : { type: 'backoff-elapsed' });
    }, ms);
  }

  private clearTimer(entry: Entry): void {
    if (entry.timer !== undefined) this.timers.clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  private receive(bytes: Uint8Array): void {
    for (const frame of this.splitter.push(bytes)) {
      try {
        this.frame(frame);
      } catch (error) {
        // A bug here must not leave the request hanging: its timer still runs.
        this.logger.error({ err: error, port: this.name }, 'failed to handle a received line');
      }
    }
  }

  private frame(frame: Frame): void {
    if (frame.kind === 'too-long') {
      const note = `[${frame.length} bytes without a line end, discarded]`;
      this.traceIn(note);
      this.damaged(undefined, 'unreadable', `a line of ${frame.length} bytes`);
      return;
    }
    if (frame.kind === 'bad-bytes') {
      this.traceIn(frame.text);
      if (this.damagedBoot(frame.text, `byte outside printable ASCII at offset ${frame.offset}`)) return;
      this.damaged(
        readLeadingId(frame.text),
        'unreadable',
        `byte outside printable ASCII at offset ${frame.offset}`,
      );
      return;
    }
    const text = frame.text;
    this.traceIn(text);
    const parsed = parseReply(text);
    if (!parsed.ok) {
      if (this.damagedBoot(text, parsed.problem)) return;
      this.damaged(readLeadingId(text), parsed.crcBad ? 'bad-crc' : 'unreadable', parsed.problem);
      return;
    }
    const { reply } = parsed;
    if (reply.kind === 'evt') {
      this.event(reply.event!, reply.fields);
      return;
    }
    const entry = this.inFlight;
    if (reply.id === undefined) {
      // Only a line that was not read (413 has no ID; a 400/460 whose ID could not be read)
      // concerns the request in flight; anything else without an ID is not ours.
      if (entry && reply.kind === 'err' && isNotRead(reply.fields)) {
        this.dispatch(entry, { type: 'err', fields: reply.fields });
      } else {
        this.logger.warn({ port: this.name, line: traceText(text) }, 'ignoring a reply without ID');
      }
      return;
    }
    if (!entry || reply.id !== entry.id) {
      // A late reply to a request that already completed (e.g. the replay of a retransmission).
      this.logger.debug({ port: this.name, id: reply.id }, 'ignoring a reply to no pending request');
      return;
    }
    if (!reply.crc) {
      // We always send a CRC, so every reply line must carry one (TSP/1); without it the line
      // cannot be trusted.
      this.dispatch(entry, { type: 'damaged', kind: 'unreadable', detail: 'reply line without CRC' });
      return;
    }
    if (reply.kind === 'data') this.dispatch(entry, { type: 'data', fields: reply.fields });
    else if (reply.kind === 'ok') this.dispatch(entry, { type: 'ok', fields: reply.fields });
    else this.dispatch(entry, { type: 'err', fields: reply.fields });
  }

  /**
   * A damaged line that reads `EVT boot` (give or take the flipped bit) is a restart all the
   * same: our login and the terminal's replay cache are gone, so the request in flight must not
   * be resent, which taking the line for a damaged reply would do.
   */
  private damagedBoot(text: string, detail: string): boolean {
    if (!mayBeDamagedBoot(text)) return false;
    this.logger.warn({ port: this.name, detail }, 'damaged EVT boot: taken as a restart');
    this.event('boot', {});
    return true;
  }

  /** A line that cannot be trusted: it concerns the request in flight unless it names another ID. */
  private damaged(id: string | undefined, kind: 'bad-crc' | 'unreadable', detail: string): void {
    const entry = this.inFlight;
    this.logger.warn({ port: this.name, kind, detail, id }, 'damaged line from the terminal');
    if (!entry || (id !== undefined && id !== entry.id)) return;
    this.dispatch(entry, { type: 'damaged', kind, detail });
  }

  private event(name: string, fields: Fields): void {
    const event: TerminalEvent = { name, fields, at: this.clock() };
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

/** How many DATA lines an OK of `verb` announces: one function per verb, made once. */
const expectedDataByVerb = new Map<Verb, (ok: Fields) => number | undefined>();
function expectedDataOf(verb: Verb): (ok: Fields) => number | undefined {
  let expected = expectedDataByVerb.get(verb);
  if (!expected) {
    expected = (ok) => announcedDataLines(verb, ok);
    expectedDataByVerb.set(verb, expected);
  }
  return expected;
}

/** ERR 400, 413 or 460: the terminal could not read a line (without an ID: the line just sent). */
function isNotRead(fields: Fields): boolean {
  const err = ERR_REPLY.decode(fields);
  return err.ok && [400, 413, 460].includes(err.value.code);
}
