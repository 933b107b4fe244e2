/**
 * A small RFC 2217 serial server in the test process, for the protocol corners a real ser2net
 * will not show on demand: IAC in data, options it refuses, answers that never come, another baud
 * than asked, NVT mode, flow-control suspend. It parses the Telnet stream with its own few lines
 * (not posbridge's codec, so a bug there cannot hide behind the same bug here) and records what
 * the client sent, in order.
 */
import net from 'node:net';
import type { Timers } from '../../src/protocol/index.js';
import { ByteSink, deadline } from './wait.js';

const IAC = 0xff;
const SB = 0xfa;
const SE = 0xf0;
const VERBS: Record<number, string> = { 251: 'WILL', 252: 'WONT', 253: 'DO', 254: 'DONT' };
const VERB_BYTE: Record<string, number> = { WILL: 0xfb, WONT: 0xfc, DO: 0xfd, DONT: 0xfe };

export type Received =
  | { type: 'negotiate'; text: string }
  /** `SB 44 1 0.1.194.0` style: option, then the payload bytes unescaped. */
  | { type: 'sb'; option: number; payload: number[] };

export interface FakeBehaviour {
  /** Sent on connect, raw (ser2net opens with its own WILL/DO). Default: nothing. */
  greeting?: Buffer;
  /** Options the server does (answers DO x with WILL x). Default BINARY, SGA. */
  serverWill?: number[];
  /** Options it lets the client do (answers WILL x with DO x). Default BINARY, SGA, COM-PORT. */
  clientMay?: number[];
  /** Options it never answers at all. */
  silentOn?: number[];
  /** The baud rate it answers to SET-BAUDRATE (default the one asked); null: no answer. */
  baud?: (asked: number) => number | null;
  /** Its answer to SET-DATASIZE/PARITY/STOPSIZE/CONTROL: default the value asked; null: none. */
  answer?: (command: number, asked: number) => number | null;
  /** Raw bytes sent just before the PURGE-DATA answer (stale data the purge throws away). */
  beforePurgeAnswer?: Buffer;
  /** Data bytes are escaped (IAC doubled) when sent with sendData. Default true. */
  telnet?: boolean;
}

export class FakeConnection {
  readonly received: Received[] = [];
  /** Data bytes the client sent (IAC IAC undone), as a waitable sink. */
  readonly data = new ByteSink();
  /** Every raw byte the client sent. */
  readonly raw = new ByteSink();
  readonly closed: Promise<void>;
  private waiters: Array<() => void> = [];
  private state: 'data' | 'iac' | 'verb' | 'sb' | 'sb-iac' = 'data';
  private verb = '';
  private syncs = 0;
  private sb: number[] = [];

  constructor(
    readonly socket: net.Socket,
    private readonly behaviour: FakeBehaviour,
  ) {
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      for (const byte of chunk) this.byte(byte);
      for (const wake of this.waiters.splice(0)) wake();
    });
    if (behaviour.greeting) socket.write(behaviour.greeting);
  }

  /** Negotiations received, as `WILL 0`, `DO 3`... */
  get negotiations(): string[] {
    return this.received.flatMap((r) => (r.type === 'negotiate' ? [r.text] : []));
  }

  /** COM-PORT-OPTION commands received, as `1:0,1,194,0`. */
  get comPort(): string[] {
    return this.received.flatMap((r) =>
      r.type === 'sb' && r.option === 44 ? [`${r.payload[0]}:${r.payload.slice(1).join(',')}`] : [],
    );
  }

  /** Sends raw bytes. */
  send(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.from(bytes));
  }

  /** Sends data as a Telnet server must (IAC doubled). */
  sendData(bytes: Buffer): void {
    const out: number[] = [];
    for (const b of bytes) {
      out.push(b);
      if (b === IAC && this.behaviour.telnet !== false) out.push(IAC);
    }
    this.send(out);
  }

  negotiate(verb: 'WILL' | 'WONT' | 'DO' | 'DONT', option: number): void {
    this.send([IAC, VERB_BYTE[verb]!, option]);
  }

  /** `IAC SB 44 command value IAC SE`, 0xFF in the value doubled. */
  comPortAnswer(command: number, value: number[]): void {
    const escaped = value.flatMap((b) => (b === IAC ? [IAC, IAC] : [b]));
    this.send([IAC, SB, 44, command, ...escaped, IAC, SE]);
  }

  /**
   * Returns once the client has read everything sent so far: asks it to DO an option nobody
   * wants and waits for its WONT (a client answers in stream order).
   */
  async sync(): Promise<void> {
    const option = 200 + (this.syncs++ % 50);
    const before = this.negotiations.filter((n) => n === `WONT ${option}`).length;
    this.negotiate('DO', option);
    await this.waitFor(
      (c) => c.negotiations.filter((n) => n === `WONT ${option}`).length > before,
      `the client to refuse option ${option}`,
    );
  }

  async waitFor(test: (c: FakeConnection) => boolean, what: string): Promise<void> {
    const check = async (): Promise<void> => {
      while (!test(this)) await new Promise<void>((wake) => this.waiters.push(wake));
    };
    await deadline(check(), `${what} (received ${JSON.stringify(this.received)})`);
  }

  private byte(b: number): void {
    switch (this.state) {
      case 'data':
        if (b === IAC) this.state = 'iac';
        else this.data.push(Uint8Array.of(b));
        return;
      case 'iac':
        this.state = 'data';
        if (b === IAC) this.data.push(Uint8Array.of(IAC));
        else if (VERBS[b]) {
          this.verb = VERBS[b]!;
          this.state = 'verb';
        } else if (b === SB) {
          this.sb = [];
          this.state = 'sb';
        }
        return;
      case 'verb':
        this.state = 'data';
        this.received.push({ type: 'negotiate', text: `${this.verb} ${b}` });
        this.onNegotiate(this.verb, b);
        return;
      case 'sb':
        if (b === IAC) this.state = 'sb-iac';
        else this.sb.push(b);
        return;
      case 'sb-iac':
        if (b === IAC) {
          this.sb.push(IAC);
          this.state = 'sb';
        } else {
          this.state = 'data';
          const [option, ...payload] = this.sb;
          this.received.push({ type: 'sb', option: option!, payload });
          if (option === 44) this.onComPort(payload);
        }
    }
  }

  private onNegotiate(verb: string, option: number): void {
    const b = this.behaviour;
    if (b.silentOn?.includes(option)) return;
    if (verb === 'DO') this.negotiate((b.serverWill ?? [0, 3]).includes(option) ? 'WILL' : 'WONT', option);
    if (verb === 'WILL') this.negotiate((b.clientMay ?? [0, 3, 44]).includes(option) ? 'DO' : 'DONT', option);
  }

  private onComPort(payload: number[]): void {
    const b = this.behaviour;
    if (b.silentOn?.includes(44)) return;
    const [command, ...value] = payload;
    if (command === 1) {
      const asked = Buffer.from(value).readUInt32BE(0);
      const baud = b.baud ? b.baud(asked) : asked;
      if (baud === null) return;
      const out = Buffer.alloc(4);
      out.writeUInt32BE(baud, 0);
      this.comPortAnswer(101, [...out]);
      return;
    }
    if (command === 12 && b.beforePurgeAnswer) this.send(b.beforePurgeAnswer);
    if (command === undefined || command > 12 || command === 0) return;
    const answer = b.answer ? b.answer(command, value[0] ?? 0) : (value[0] ?? 0);
    if (answer !== null) this.comPortAnswer(command + 100, [answer]);
  }
}

export class FakeRfc2217Server {
  readonly connections: FakeConnection[] = [];
  private readonly server: net.Server;
  private waiters: Array<() => void> = [];
  port = 0;

  constructor(private readonly behaviour: FakeBehaviour = {}) {
    this.server = net.createServer((socket) => {
      this.connections.push(new FakeConnection(socket, this.behaviour));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  url(scheme = 'rfc2217', query = ''): string {
    return `${scheme}://127.0.0.1:${this.port}${query}`;
  }

  /** The n-th connection (0-based), once it has arrived. */
  async connection(n = 0): Promise<FakeConnection> {
    const check = async (): Promise<FakeConnection> => {
      while (this.connections.length <= n) await new Promise<void>((wake) => this.waiters.push(wake));
      return this.connections[n]!;
    };
    return deadline(check(), `connection ${n} to the fake RFC 2217 server`);
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Timers that fire only when the test says so: a bounded wait is tested without waiting. */
export class ManualTimers implements Timers {
  private next = 1;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Runs every pending timer of `ms` (all of them if omitted); returns how many ran. */
  fire(ms?: number): number {
    let count = 0;
    for (const [id, timer] of [...this.pending]) {
      if (ms !== undefined && timer.ms !== ms) continue;
      this.pending.delete(id);
      timer.callback();
      count++;
    }
    return count;
  }
}
