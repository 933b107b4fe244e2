/**
 * The session's public shapes: its options, a request's arguments and options, a reply and an
 * event (session.ts re-exports them all).
 */
import type { Logger } from 'pino';
import type { Clock, Timers, Verb } from '../protocol/index.js';
import type { Fields, ResendReason } from './exchange.js';
import type { Secret } from './secret.js';
import type { RandomSource } from './timers.js';
import type { WireTrace } from './trace.js';

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
  /**
   * Told of each resend of a request's same bytes, with why (docs/protocol.md §18): the daemon's
   * `posbridge_retransmissions_total`. A listener that throws is logged, never breaks the session.
   */
  onRetransmit?: ((verb: Verb, reason: ResendReason) => void) | undefined;
}

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
