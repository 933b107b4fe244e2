/**
 * Requests on the raw wire, one at a time, and their replies as the terminal wrote them.
 *
 * An exchange writes a line (every byte chosen by the check) and collects what comes back until
 * the first final line (OK or ERR), with a reply timeout that every DATA or EVT line restarts
 * (§18). It then holds each line to the rules of lines.ts and the reply as a whole to the rules
 * that depend on the request: the ID echoed as §7 and D43 say, and a CRC on every line exactly
 * when the request had one (§6.3), none on a 413, always one on a 460. Nothing is retransmitted.
 */
import type { Timers } from '../protocol/index.js';
import { appendCrc, encodeValue, type ValueInput } from '../protocol/index.js';
import { CheckFailure, LinkLost } from './failure.js';
import { hasCrcToken, leadingId, type Rule, readLine, type TspLine } from './lines.js';
import type { RawWire, ReceivedLine } from './wire.js';

export interface ProbeExchange {
  /** The line as sent, one char per byte, without its terminator. */
  request: string;
  /** DATA lines and the final line, in order. */
  lines: TspLine[];
  data: TspLine[];
  final: TspLine;
  /** Events that came while the reply was collected. */
  events: TspLine[];
}

export interface ProbeExchangeOptions {
  /** The terminator written after the line. Default CRLF. */
  end?: string;
  /** Reply timeout, restarted by every DATA or EVT line. Default: the probe's. */
  timeoutMs?: number;
  /** Return the reply even when a line breaks a rule (the check inspects `problems` itself). */
  lax?: boolean;
}

export interface LineOptions {
  /** false: no ID; a string: that ID verbatim. Default: the next ID. */
  id?: false | string;
  /** Default true. */
  crc?: boolean;
}

export type ProbeFields = ReadonlyArray<readonly [string, ValueInput]>;

interface Watch<T> {
  /** Starts the timeout again (a DATA or EVT line came). */
  restart(): void;
  resolve(value: T): void;
  reject(error: Error): void;
}

export interface ProbeOptions {
  timers: Timers;
  /** Reply timeout per exchange, ms. */
  timeoutMs: number;
  /** The first ID of the run (§18: chosen at random, then counting up). */
  firstId: number;
}

const MAX_ID = 99_999_999;

export class Probe {
  private id: number;
  /** Events received and not yet taken by a check. */
  private readonly events: TspLine[] = [];
  /** Aborts the waits of the check that runs (its time is up). */
  signal: AbortSignal | undefined;
  /**
   * Replies are not held to the line rules (the default of `ProbeExchangeOptions.lax`): while the
   * suite brings the terminal to a check's starting state, only OK or ERR matters; the checks
   * themselves report a broken rule, by the section it breaks.
   */
  lax = false;
  /** The rule families judged in each reply (set per check; `read` is always judged). */
  rules: ReadonlySet<Rule> = new Set(['read']);

  constructor(
    readonly wire: RawWire,
    readonly options: ProbeOptions,
  ) {
    this.id = Math.min(Math.max(1, Math.floor(options.firstId)), MAX_ID);
  }

  /** A new ID, counting up from the first and wrapping after 99999999 (§18). */
  nextId(): string {
    const id = this.id;
    this.id = id >= MAX_ID ? 1 : id + 1;
    return String(id);
  }

  /** `[@ID ]VERB[ key=value]...[ *CRC]`, written canonically (§5), with a new ID and a CRC unless told. */
  line(verb: string, fields: ProbeFields = [], options: LineOptions = {}): string {
    const id = options.id === undefined ? this.nextId() : options.id;
    let text = id === false ? verb : `@${id} ${verb}`;
    for (const [key, value] of fields) text += ` ${key}=${encodeValue(value)}`;
    return options.crc === false ? text : appendCrc(text);
  }

  /** Sends `verb` as `line()` builds it and collects the reply. */
  request(
    verb: string,
    fields: ProbeFields = [],
    options: LineOptions & ProbeExchangeOptions = {},
  ): Promise<ProbeExchange> {
    return this.exchange(this.line(verb, fields, options), options);
  }

  /** Sends `text` and collects its reply. */
  async exchange(text: string, options: ProbeExchangeOptions = {}): Promise<ProbeExchange> {
    const collecting = this.collect(text, options);
    try {
      await this.write(text, options.end ?? '\r\n');
    } catch (error) {
      collecting.catch(() => undefined);
      throw error;
    }
    return collecting;
  }

  /** Writes bytes (one char per byte) without waiting for anything. */
  async write(text: string, end = ''): Promise<void> {
    this.throwIfAborted();
    try {
      await this.wire.send(text, end);
    } catch (error) {
      throw new LinkLost(error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * Collects the reply to `request`, already written (or about to be). Lines already waiting are
   * read first: the first final line ends the reply, whatever its ID, and the ID is then judged.
   */
  collect(request: string, options: ProbeExchangeOptions = {}): Promise<ProbeExchange> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const lines: TspLine[] = [];
    const events: TspLine[] = [];
    return this.watch<ProbeExchange>(
      timeoutMs,
      () =>
        new CheckFailure(`no final line (OK or ERR) within ${timeoutMs} ms (§7: every request gets one)`, {
          sent: request,
          received: lines.map((l) => l.raw.text),
        }),
      (raw, w) => {
        const line = readLine(raw);
        if (line.kind === 'evt') {
          events.push(line);
          this.events.push(line);
        } else lines.push(line);
        // §18: each DATA or EVT line restarts the reply timeout.
        if (line.kind !== 'ok' && line.kind !== 'err') return w.restart();
        const exchange: ProbeExchange = {
          request,
          lines,
          data: lines.filter((l) => l.kind === 'data'),
          final: line,
          events,
        };
        try {
          if (!(options.lax ?? this.lax)) judge(exchange, this.rules);
          w.resolve(exchange);
        } catch (error) {
          w.reject(error as Error);
        }
      },
    );
  }

  /** Waits for an event named `name` (one received earlier and not yet taken counts). */
  waitEvent(name: string, timeoutMs: number): Promise<TspLine> {
    const earlier = this.takeEvent(name);
    if (earlier) return Promise.resolve(earlier);
    return this.watch<TspLine>(
      timeoutMs,
      () => new CheckFailure(`no EVT ${name} within ${timeoutMs} ms`, { expected: `EVT ${name}` }),
      (raw, w) => {
        const line = readLine(raw);
        if (line.kind !== 'evt')
          return w.reject(
            new CheckFailure(`a line came while no request was pending (waiting for EVT ${name})`, {
              expected: `EVT ${name}`,
              got: raw.text,
            }),
          );
        if (line.event === name) w.resolve(line);
        else this.events.push(line);
      },
    );
  }

  /**
   * Listens to the wire until `onLine` settles, the time runs out, the link ends or the check is
   * aborted; everything is let go of exactly once.
   */
  private watch<T>(
    timeoutMs: number,
    timeoutError: () => Error,
    onLine: (raw: ReceivedLine, w: Watch<T>) => void,
  ): Promise<T> {
    const { timers } = this.options;
    const signal = this.signal;
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let timer = timers.setTimeout(() => w.reject(timeoutError()), timeoutMs);
      const onAbort = () => w.reject(this.abortReason());
      const finish = (): boolean => {
        if (done) return false;
        done = true;
        timers.clearTimeout(timer);
        stopListening();
        stopClose();
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const w: Watch<T> = {
        restart: () => {
          if (done) return;
          timers.clearTimeout(timer);
          timer = timers.setTimeout(() => w.reject(timeoutError()), timeoutMs);
        },
        resolve: (value) => {
          if (finish()) resolve(value);
        },
        reject: (error) => {
          if (finish()) reject(error);
        },
      };
      let stopListening: () => void = () => undefined;
      const stopClose = this.wire.onClose((error) => w.reject(new LinkLost(error.message)));
      if (signal?.aborted) return w.reject(this.abortReason());
      signal?.addEventListener('abort', onAbort, { once: true });
      stopListening = this.wire.listen((raw) => {
        if (!done) onLine(raw, w);
        return done;
      });
      // Lines from the backlog may have settled it already.
      if (done) stopListening();
    });
  }

  /** Takes the oldest event named `name` received so far, if any. */
  takeEvent(name: string): TspLine | undefined {
    const index = this.events.findIndex((e) => e.event === name);
    return index < 0 ? undefined : this.events.splice(index, 1)[0];
  }

  /** Every event received and not yet taken, taken. */
  takeEvents(): TspLine[] {
    return this.events.splice(0);
  }

  /** Waits `ms` of real time (a lock running out, a terminal rebooting), or less if the check is aborted. */
  sleep(ms: number): Promise<void> {
    const { timers } = this.options;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        timers.clearTimeout(timer);
        reject(this.abortReason());
      };
      const timer = timers.setTimeout(() => {
        this.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Reads and drops whatever comes until the line has been quiet for `quietMs` (at most
   * `maxMs`): after a failed check, late replies must not be taken for the next check's.
   */
  async settle(quietMs: number, maxMs: number): Promise<void> {
    const { timers } = this.options;
    await new Promise<void>((resolve) => {
      let quiet = timers.setTimeout(done, quietMs);
      const limit = timers.setTimeout(done, maxMs);
      const stopListening = this.wire.listen(() => {
        timers.clearTimeout(quiet);
        quiet = timers.setTimeout(done, quietMs);
        return false;
      });
      const stopClose = this.wire.onClose(done);
      function done(): void {
        timers.clearTimeout(quiet);
        timers.clearTimeout(limit);
        stopListening();
        stopClose();
        resolve();
      }
    });
    this.events.length = 0;
  }

  private throwIfAborted(): void {
    if (this.signal?.aborted) throw this.abortReason();
  }

  private abortReason(): Error {
    const reason = this.signal?.reason;
    return reason instanceof Error ? reason : new CheckFailure('the check ran out of time');
  }
}

/**
 * The rules a reply follows, given the request it answers: the line rules of lines.ts, and the ID
 * echoed as §7 and D43 say and a CRC on every line exactly when the request had one (§6.3), none
 * on a 413, always one on a 460. Only the rule families in `rules` are judged (`read` always).
 */
export function judge(exchange: ProbeExchange, rules: ReadonlySet<Rule>): void {
  const problems: string[] = [];
  const { request, final } = exchange;
  const is413 = final.fields.code === '413';
  const is460 = final.fields.code === '460';
  const wantId = is413 ? undefined : leadingId(request);
  const wantCrc = is413 ? false : is460 || hasCrcToken(request);
  for (const line of [...exchange.lines, ...exchange.events])
    for (const problem of line.problems)
      if (problem.rule === 'read' || rules.has(problem.rule)) problems.push(problem.text);
  for (const line of exchange.lines) {
    if (line.kind === 'other') continue;
    if (rules.has('id') && line.id !== wantId)
      problems.push(
        wantId === undefined
          ? `§7: the reply line carries @${line.id}, but ${is413 ? 'a 413 carries no ID' : 'the request had no ID'}`
          : `§7: the reply line ${line.id === undefined ? 'carries no ID' : `carries @${line.id}`}; the request's ID is @${wantId}`,
      );
    if (rules.has('crc') && line.crc !== wantCrc)
      problems.push(
        wantCrc
          ? `§6.3: the reply line carries no CRC; ${is460 ? 'a 460 always carries one' : 'the request had one'}`
          : `§6.3: the reply line carries a CRC; ${is413 ? 'a 413 never does' : 'the request had none'}`,
      );
  }
  if (problems.length > 0) {
    throw new CheckFailure(problems[0]!, {
      sent: request,
      received: exchange.lines.map((l) => l.raw.text),
      more: problems.slice(1),
    });
  }
}
