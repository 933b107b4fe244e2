/**
 * The mock terminal is an engine plus behaviours (the zwave-js MockController pattern): the
 * engine implements TSP/1 faithfully, and behaviours, consulted in order at a few hooks, bend it
 * the way a real cable or terminal misbehaves. Every fault of --fault is one behaviour; a test can
 * put its own first. A hook that has nothing to say returns undefined.
 */
import type { Request } from '../protocol/index.js';
import type { Violation } from './faults/violate.js';

/** What a behaviour may know about a connection. */
export interface ConnectionInfo {
  /** Unique per terminal, from 1. */
  readonly id: number;
  /** The link's label (`tcp 127.0.0.1:53122`). */
  readonly label: string;
  /** Lines to this connection carry a CRC (the last line answered had one). */
  readonly crc: boolean;
}

export interface RequestInfo {
  readonly connection: ConnectionInfo;
  readonly request: Request;
  /** 1-based count of the requests this terminal has read, all connections, this one included. */
  readonly seq: number;
  /** Host clock, epoch ms. */
  readonly now: number;
}

/** What to do with one request. Merged over behaviours: the first busy or reboot wins, delays add up. */
export interface RequestPlan {
  /** Answer `ERR code=503 reason=busy` instead of executing. */
  busy?: boolean;
  /**
   * Reboot in the middle of this request; its reply is never sent. `after`: the command has run
   * (its changes are stored) when the terminal goes down; `before`: it has not.
   */
  reboot?: 'before' | 'after';
  /** Execute, but never send the reply (it is still stored for replay: the lost-reply case). */
  dropReply?: boolean;
  /** Hold the reply's lines this long before they go to the wire (order is kept). */
  delayMs?: number;
}

export interface OutgoingLine {
  /** Without the terminator. */
  text: string;
  kind: 'reply' | 'event';
}

export type Direction = 'in' | 'out';

export interface MockBehaviour {
  /** For logs: `corrupt:p=0.01`. */
  readonly name: string;
  /**
   * A rule of docs/protocol.md this behaviour breaks on purpose (`violate:rule=NAME`, for testing
   * hosts and conformance suites); the engine consults it where that rule is decided.
   */
  readonly violates?: Violation;
  /** A request was read (and the terminal is up): how to treat it. */
  onRequest?(info: RequestInfo): RequestPlan | undefined;
  /** A line is about to be written (after replay storage): the lines to write instead. */
  onLine?(connection: ConnectionInfo, line: OutgoingLine): OutgoingLine[] | undefined;
  /**
   * `count` bytes are about to cross the cable (`in`: host to terminal). Return how many of them
   * pass before the cable is pulled (the link is then closed); undefined lets them all pass.
   */
  onBytes?(connection: ConnectionInfo, direction: Direction, count: number): number | undefined;
  /** A connection ended. */
  onClose?(connection: ConnectionInfo): void;
}
