/**
 * A scripted terminal on the far end of an in-memory cable, for session and driver unit tests:
 * records every line the host sends and answers through a script the test sets.
 */
import { createMemoryLink, type MemoryPeer } from '../../src/host/ports/memory.js';
import type { Transport } from '../../src/host/ports/transport.js';
import { type Frame, LINE_END, LineSplitter, type Request, readRequest } from '../../src/protocol/index.js';

import { silentLogger } from '../support/constants.js';

export { silentLogger };

export interface Received {
  /** The line as sent, without terminator. */
  text: string;
  request?: Request;
}

/** What the script answers to one received line: lines to send back (CRLF added). */
export type Script = (line: Received, wire: Wire) => string[] | undefined;

export class Wire {
  readonly transport: Transport;
  readonly peer: MemoryPeer;
  readonly received: Received[] = [];
  script: Script | undefined;
  private readonly splitter = new LineSplitter();

  constructor(name = 'test://terminal') {
    const { transport, peer } = createMemoryLink(name);
    this.transport = transport;
    this.peer = peer;
    peer.onReceive((bytes) => {
      for (const frame of this.splitter.push(bytes)) this.onFrame(frame);
    });
  }

  /** Sends raw text from the terminal (no terminator added). */
  sendRaw(text: string): void {
    this.peer.send(Buffer.from(text, 'latin1'));
  }

  /** Sends lines from the terminal, each with CRLF. */
  send(...lines: string[]): void {
    if (lines.length > 0) this.sendRaw(lines.map((l) => l + LINE_END).join(''));
  }

  /** The lines received so far, as text. */
  get lines(): string[] {
    return this.received.map((r) => r.text);
  }

  /** The last request received. */
  get last(): Received {
    const last = this.received.at(-1);
    if (!last) throw new Error('nothing received');
    return last;
  }

  private onFrame(frame: Frame): void {
    if (frame.kind !== 'line') throw new Error(`host sent a bad frame: ${frame.kind}`);
    const result = readRequest(frame);
    const received: Received = { text: frame.text };
    if (result.ok) received.request = result.request;
    this.received.push(received);
    const answer = this.script?.(received, this);
    if (answer && answer.length > 0) this.send(...answer);
  }
}

/** Lets queued microtasks (in-memory deliveries) run. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
