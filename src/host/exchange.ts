/**
 * One request's exchange with the terminal, as a state machine without I/O: events in (a reply
 * line, a damaged line, a timeout, an event from the terminal), actions out (send, arm a timer,
 * resolve, fail with a typed reason). The session runs it; tests drive its transitions directly.
 *
 * The problems it solves (TSP/1, "IDs and at-most-once"):
 * - A lost or damaged reply is recovered by retransmitting the SAME line with the SAME ID: the
 *   terminal replays its stored reply instead of executing twice, so even a LOGIN or PASSWD is safe
 *   to resend. Retransmissions are bounded.
 * - A replayed reply repeats the DATA lines too (D22), and the original reply may still be under
 *   way when the retransmission goes out. The terminal answers one line at a time, so replies
 *   never interleave: the DATA lines of one reply are those between two final lines. So a
 *   retransmission and every final line start the DATA collection afresh, and an OK whose
 *   announced count (DIAG pass+warn+fail, USER-LIST count) does not match the DATA lines collected
 *   is incomplete (a line of it was lost or damaged): it is dropped and the replay of a
 *   retransmission already sent (or, if none is on its way, a new one) completes it.
 * - 503 busy/not-ready is never stored for replay (the request did not run): resend after a
 *   backoff, bounded. 400/460 mean the terminal did not read our line: resend at once; but a
 *   400 that names a `key=` read it intact and refused an argument, which no resend changes, and
 *   a 413 says the line was too long, which it would be again: both end the exchange.
 * - Once the resends are used up, a damaged line does not end the exchange: the replay asked for
 *   by an earlier resend may still arrive whole. Only the timer running out does.
 * - After `EVT boot` the terminal's replay cache is gone: a request that may have run before the
 *   boot is never resent (it could run twice: a PASSWD would then cost a login attempt, a REBOOT
 *   reboot twice). It fails with `reboot-lost` unless its reply still arrives. A request the
 *   terminal only ever answered "not run" (503, 400, 413, 460) is resent as usual.
 * - Every DATA or EVT line restarts the reply timer (a slow DIAG is not a dead line).
 * - A timeout is answered by a retransmission and a longer wait (docs/protocol.md §18): a terminal
 *   slower than the timeout then answers within the next wait instead of getting a resend every
 *   timeout, each of which it would execute or replay in front of the next request's reply.
 */

import { ERR_REPLY } from '../protocol/index.js';

export type Fields = Record<string, string>;

/** A reply wait after timeouts grows to at most this many times the reply timeout. */
const RETRANSMIT_WAIT_MAX_FACTOR = 4;
/** Jitter added to a reply wait after a timeout: up to this fraction of it. */
const RETRANSMIT_JITTER = 1 / 8;

/**
 * The reply wait after the n-th timeout of a request whose reply timeout is `timeoutMs`: doubled
 * at each timeout, capped at min(4 x timeoutMs, maxMs) but never below timeoutMs, plus a jitter of
 * up to an eighth drawn from `random` (docs/protocol.md §18). Doubling lets a terminal that is
 * slower than the timeout answer before the next resend, so its replays never pile up in front of
 * the next request; the cap bounds the total wait for a terminal that has gone silent.
 */
export function retransmitWaitMs(
  timeoutMs: number,
  timeouts: number,
  maxMs: number,
  random: () => number,
): number {
  const cap = Math.max(timeoutMs, Math.min(RETRANSMIT_WAIT_MAX_FACTOR * timeoutMs, maxMs));
  const base = Math.min(cap, timeoutMs * 2 ** timeouts);
  return base + Math.floor(random() * base * RETRANSMIT_JITTER);
}

/** Why an exchange failed. */
export type ExchangeFailureReason =
  /** No reply, even after the bounded retransmissions. */
  | 'timeout'
  /** Reply lines kept failing their CRC. */
  | 'bad-crc'
  /** Reply lines kept being unreadable. */
  | 'unreadable'
  /** OK kept arriving with fewer DATA lines than it announced. */
  | 'incomplete'
  /** The terminal answered ERR (also 400/413/460 once resending did not help). */
  | 'refused'
  /** 503 after the bounded backoff retries. */
  | 'busy'
  /** The terminal restarted with the request in flight; not resent (its replay cache is gone). */
  | 'reboot-lost'
  /** The link went away. */
  | 'disconnected'
  /** The session was closed by its owner. */
  | 'closed';

/** Why a line was sent again. */
export type ResendReason = 'timeout' | 'bad-crc' | 'unreadable' | 'incomplete' | 'not-read' | 'busy';

export type DamageKind = 'bad-crc' | 'unreadable';

export type ExchangeEvent =
  | { type: 'start' }
  /** A DATA line for this request. */
  | { type: 'data'; fields: Fields }
  | { type: 'ok'; fields: Fields }
  /** An ERR for this request, or an ERR 400/413/460 without ID (our line was not read). */
  | { type: 'err'; fields: Fields }
  /** A line that may belong to this request but cannot be trusted. */
  | { type: 'damaged'; kind: DamageKind; detail: string }
  /** An EVT line (any name); `boot` also means the replay cache is gone. */
  | { type: 'event'; name: string }
  | { type: 'timeout' }
  | { type: 'backoff-elapsed' }
  | { type: 'disconnected'; detail: string }
  | { type: 'closed'; detail: string };

export type ExchangeAction =
  | { type: 'send'; resend?: ResendReason }
  /** (Re)start the reply timer. */
  | { type: 'arm'; ms: number }
  /** Start the backoff timer; `backoff-elapsed` follows. */
  | { type: 'backoff'; ms: number }
  | { type: 'disarm' }
  /** A DATA line was accepted (a replay may deliver a line again: consumers dedupe). */
  | { type: 'data'; fields: Fields }
  /**
   * The reply. `rebooted`: EVT boot arrived after the line went out, so the reply may come from
   * before the restart: its effects on the terminal's stored state stand, but whatever it says
   * about the connection (a LOGIN's login) is gone.
   */
  | { type: 'resolve'; fields: Fields; data: Fields[]; rebooted?: true }
  | { type: 'fail'; reason: ExchangeFailureReason; detail: string; fields?: Fields };

export interface ExchangeConfig {
  /** Reply timeout, restarted by every DATA or EVT line. */
  timeoutMs: number;
  /**
   * The reply wait after the n-th timeout (n from 1), which replaces timeoutMs from the resend on
   * (the session doubles it, capped, with jitter). Absent: timeoutMs throughout.
   */
  retransmitWaitMs?: ((timeouts: number) => number) | undefined;
  /** Retransmissions after the first send (timeouts, damaged lines, 400/413/460, incomplete). */
  maxRetransmits: number;
  /** Resends after a 503. */
  busyRetries: number;
  /** Backoff before the n-th resend after a 503 (n from 1). */
  busyBackoffMs(attempt: number): number;
  /** How many DATA lines an OK announces, when the command says (DIAG, USER-LIST). */
  expectedData?: ((ok: Fields) => number | undefined) | undefined;
}

export type ExchangePhase = 'idle' | 'awaiting' | 'backoff' | 'done';

/** Replies meaning "your line was not read or not run": resending is safe and needed. */
const NOT_READ_CODES = new Set([400, 413, 460]);

export class Exchange {
  phase: ExchangePhase = 'idle';
  /** Lines sent, the first one included. */
  sends = 0;
  retransmits = 0;
  busyRetries = 0;
  /** Timeouts so far: each one lengthens the reply wait (retransmitWaitMs). */
  timeouts = 0;
  /** The reply wait in force: timeoutMs until the first timeout. */
  private waitMs: number;
  private data: Fields[] = [];
  /** A retransmission went out whose reply (a full replay) may still come. */
  private awaitingReplay = false;
  /** EVT boot arrived after our line went out: resending could execute it twice. */
  private rebootLost = false;
  /**
   * A line of this request went out and got neither a reply nor a "not run" answer (503, 400,
   * 413, 460): the terminal may have executed it. Until the terminal restarts its replay cache
   * covers that; after EVT boot nothing does.
   */
  private outcomeUnknown = false;
  /** What went wrong last once no resend was left (reported if nothing good arrives). */
  private lastProblem:
    | { reason: ExchangeFailureReason; detail: string; fields: Fields | undefined }
    | undefined;

  constructor(private readonly config: ExchangeConfig) {
    this.waitMs = config.timeoutMs;
  }

  handle(event: ExchangeEvent): ExchangeAction[] {
    if (this.phase === 'done') return [];
    switch (event.type) {
      case 'start':
        if (this.phase !== 'idle') return [];
        this.phase = 'awaiting';
        return this.send();
      case 'data':
        return this.phase === 'awaiting' ? this.onData(event.fields) : [];
      case 'ok':
        return this.phase === 'awaiting' ? this.onOk(event.fields) : [];
      case 'err':
        return this.phase === 'awaiting' ? this.onErr(event.fields) : [];
      case 'damaged':
        return this.phase === 'awaiting' ? this.resend(event.kind, event.detail) : [];
      case 'event':
        return this.onEvent(event.name);
      case 'timeout':
        return this.phase === 'awaiting' ? this.resend('timeout', `no reply within ${this.waitMs} ms`) : [];
      case 'backoff-elapsed':
        return this.phase === 'backoff' ? this.resendAfterBackoff() : [];
      case 'disconnected':
        return this.finish('disconnected', event.detail);
      case 'closed':
        return this.finish('closed', event.detail);
    }
  }

  private send(resend?: ResendReason): ExchangeAction[] {
    this.sends++;
    this.data = [];
    return [resend === undefined ? { type: 'send' } : { type: 'send', resend }, this.arm()];
  }

  private arm(): ExchangeAction {
    return { type: 'arm', ms: this.waitMs };
  }

  private onData(fields: Fields): ExchangeAction[] {
    this.data.push(fields);
    return [{ type: 'data', fields }, this.arm()];
  }

  private onOk(fields: Fields): ExchangeAction[] {
    const expected = this.config.expectedData?.(fields);
    if (expected !== undefined && expected !== this.data.length) {
      const detail = `OK announced ${expected} DATA line(s), ${this.data.length} arrived`;
      this.data = [];
      // The original reply ended; the replay of a retransmission already sent will complete it.
      if (this.awaitingReplay) return [this.arm()];
      return this.resend('incomplete', detail);
    }
    return this.finishWith({
      type: 'resolve',
      fields,
      data: this.data,
      ...(this.rebootLost && { rebooted: true as const }),
    });
  }

  private onErr(fields: Fields): ExchangeAction[] {
    const err = ERR_REPLY.decode(fields);
    // An ERR that does not read (no code=, ...): nothing says the line was not run; not resent.
    if (!err.ok) return this.finish('refused', `terminal answered ERR ${err.problem.message}`, fields);
    const { code, reason, key } = err.value;
    // A "not run" answer to the line in flight: if no earlier line may have run, a restart since
    // it went out does not matter (nothing to replay, nothing to run twice).
    if ((code === 503 || NOT_READ_CODES.has(code)) && !this.outcomeUnknown) this.rebootLost = false;
    if (code === 503) {
      if (this.busyRetries >= this.config.busyRetries) {
        return this.finish('busy', `still ${reason} after ${this.busyRetries} retries`, fields);
      }
      this.busyRetries++;
      this.phase = 'backoff';
      return [{ type: 'disarm' }, { type: 'backoff', ms: this.config.busyBackoffMs(this.busyRetries) }];
    }
    // A 400 naming a key= read our line (its CRC passed: in TSP/1's fault order 460 comes before
    // the 400 of arguments) and refused an argument, e.g. PASSWD user=NN without old= once the
    // login is gone (D31): the same bytes would get the same answer. An ID-less 413 answers the
    // line just sent (docs/protocol.md D50): resent, it would be too long again.
    const readAndRefused = (code === 400 && key !== undefined) || code === 413;
    if (NOT_READ_CODES.has(code) && !readAndRefused)
      return this.resend('not-read', `terminal answered ${code}`, fields);
    return this.finish('refused', `terminal answered ${code} ${reason}`, fields);
  }

  private onEvent(name: string): ExchangeAction[] {
    if (this.phase === 'awaiting') {
      if (name === 'boot') this.rebootLost = true;
      return [this.arm()];
    }
    if (this.phase === 'backoff' && name === 'boot') {
      if (this.outcomeUnknown) {
        return this.finish(
          'reboot-lost',
          'the terminal restarted while the request may have run; not resent',
        );
      }
      // The terminal is back and nothing of ours ran: no need to wait out the backoff.
      return [{ type: 'disarm' }, ...this.resendAfterBackoff()];
    }
    return [];
  }

  private resendAfterBackoff(): ExchangeAction[] {
    this.phase = 'awaiting';
    this.awaitingReplay = false;
    return this.send('busy');
  }

  private resend(reason: Exclude<ResendReason, 'busy'>, detail: string, fields?: Fields): ExchangeAction[] {
    if (this.rebootLost) {
      return this.finish(
        'reboot-lost',
        `the terminal restarted before answering (${detail}); not resent, its outcome is unknown`,
      );
    }
    if (this.retransmits >= this.config.maxRetransmits) {
      if (reason !== 'timeout') {
        // No more resends, but the replay asked for by an earlier one may still come whole:
        // wait for it until the timer runs out.
        this.lastProblem = { reason: reason === 'not-read' ? 'refused' : reason, detail, fields };
        this.data = [];
        return [this.arm()];
      }
      const sent = `sent ${this.sends} time(s)`;
      const last = this.lastProblem;
      if (last) return this.finish(last.reason, `${last.detail}; then ${detail}; ${sent}`, last.fields);
      return this.finish('timeout', `${detail}, ${sent}`);
    }
    this.retransmits++;
    if (reason === 'timeout') {
      this.timeouts++;
      this.waitMs = this.config.retransmitWaitMs?.(this.timeouts) ?? this.config.timeoutMs;
    }
    this.awaitingReplay = true;
    if (reason !== 'not-read') this.outcomeUnknown = true;
    return this.send(reason);
  }

  private finish(reason: ExchangeFailureReason, detail: string, fields?: Fields): ExchangeAction[] {
    return this.finishWith(
      fields === undefined ? { type: 'fail', reason, detail } : { type: 'fail', reason, detail, fields },
    );
  }

  private finishWith(action: ExchangeAction): ExchangeAction[] {
    this.phase = 'done';
    return [{ type: 'disarm' }, action];
  }
}
