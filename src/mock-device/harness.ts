/**
 * A mock terminal on a virtual clock with in-memory cables: the quickest way to drive TSP/1 in a
 * test. Unpaced (baud 0) and DIAG instant (diagTimeScale 0) unless the options say otherwise, so
 * every reply is there as soon as `send` returns.
 *
 *   const h = new MockHarness();
 *   const host = h.connect();
 *   host.send('HELLO'); // -> ['OK proto=1 model=PB-MOCK ...']
 */
import { appendCrc, LINE_END, VirtualClock } from '../protocol/index.js';
import { createMemoryLink, type MemoryHostEnd } from './memory-link.js';
import type { MockTerminalOptions } from './options.js';
import { MockTerminal } from './terminal.js';

export class HostSession {
  constructor(readonly end: MemoryHostEnd) {}

  /** Writes `line` + CRLF (with ` *CRC` appended when `crc`) and returns the lines received since. */
  send(line: string, options: { crc?: boolean } = {}): string[] {
    this.end.write((options.crc ? appendCrc(line) : line) + LINE_END);
    return this.end.readLines();
  }

  /** Raw bytes or text, no terminator added; returns the lines received since. */
  write(data: string | Uint8Array): string[] {
    this.end.write(data);
    return this.end.readLines();
  }

  /** Lines received and not read yet. */
  lines(): string[] {
    return this.end.readLines();
  }

  close(): void {
    this.end.close();
  }

  get closed(): boolean {
    return this.end.closed;
  }
}

export class MockHarness {
  readonly clock: VirtualClock;
  readonly terminal: MockTerminal;
  private count = 0;

  constructor(options: MockTerminalOptions = {}, clock = new VirtualClock()) {
    this.clock = clock;
    this.terminal = new MockTerminal({
      baud: 0,
      diagTimeScale: 0,
      ...options,
      clock,
      timers: clock,
    });
  }

  connect(label = `memory ${++this.count}`): HostSession {
    const { link, host } = createMemoryLink(label);
    this.terminal.attach(link);
    return new HostSession(host);
  }

  /** Moves the virtual clock (timers due on the way run). */
  advance(ms: number): void {
    this.clock.advance(ms);
  }
}
