/**
 * The mock terminal behind its transports, on real timers: the in-process serialport binding
 * driven through SerialPortStream (as the daemon drives a `mock://` port), and TCP.
 */
import { once } from 'node:events';
import net from 'node:net';
import { SerialPortStream } from '@serialport/stream';
import { afterEach, describe, expect, it } from 'vitest';
import { MockTerminal, type MockTerminalOptions } from '../../src/mock-device/index.js';
import {
  createInProcessBinding,
  listenTcp,
  type TcpListener,
} from '../../src/mock-device/transports/index.js';
import { appendCrc } from '../../src/protocol/index.js';
import { deadline } from '../support/wait.js';

const PATH = 'mock://pos';

/** A TSP/1 host: writes lines, collects replies up to the final line, keeps events aside. */
class LineClient {
  readonly events: string[] = [];
  private buffer = '';
  private lines: string[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly stream: {
      write(data: string): unknown;
      on(event: 'data', cb: (b: Buffer) => void): unknown;
    },
  ) {
    stream.on('data', (chunk) => {
      this.buffer += chunk.toString('latin1');
      const parts = this.buffer.split('\r\n');
      this.buffer = parts.pop()!;
      for (const line of parts) (line.startsWith('EVT ') ? this.events : this.lines).push(line);
      for (const wake of this.waiters) wake();
    });
  }

  /** Sends `line` and resolves with its reply lines (events aside); fails after the safety timeout. */
  async request(line: string, crc = false): Promise<string[]> {
    const reply = await this.send(line, crc, 5000);
    if (!reply) throw new Error(`no reply to ${line}`);
    return reply;
  }

  /** Sends `line`; undefined when no final line came within `ms` (a lost reply). */
  async send(line: string, crc: boolean, ms: number): Promise<string[] | undefined> {
    this.stream.write(`${crc ? appendCrc(line) : line}\r\n`);
    const id = /^@(\d+) /.exec(line)?.[1];
    const final = new RegExp(`^${id ? `@${id} ` : ''}(OK|ERR)\\b`);
    const at = await this.until(() => this.lines.findIndex((l) => final.test(l)), ms);
    // A reply that came late for an earlier request (after its retransmission was answered) is
    // left behind in the buffer: it is not part of this reply.
    return at < 0 ? undefined : this.lines.splice(0, at + 1).filter((l) => !id || l.startsWith(`@${id} `));
  }

  async event(name: string): Promise<string> {
    const at = await this.until(() => this.events.findIndex((e) => e.startsWith(`EVT ${name}`)), 5000);
    if (at < 0) throw new Error(`no EVT ${name}`);
    return this.events.splice(at, 1)[0]!;
  }

  private until(find: () => number, ms: number): Promise<number> {
    return new Promise((resolve) => {
      const check = () => {
        const at = find();
        if (at < 0) return;
        done(at);
      };
      const done = (at: number) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(at);
      };
      const timer = setTimeout(() => done(-1), ms);
      this.waiters.add(check);
      check();
    });
  }
}

let terminal: MockTerminal | undefined;
afterEach(() => {
  terminal?.close();
  terminal = undefined;
});

async function plugIn(options: MockTerminalOptions = {}) {
  terminal = new MockTerminal({ diagTimeScale: 0.02, rebootMs: 50, ...options });
  const current = terminal;
  const binding = createInProcessBinding((path) =>
    path === PATH ? (link) => current.attach(link) : undefined,
  );
  const stream = new SerialPortStream({ binding, path: PATH, baudRate: 115200 });
  stream.on('error', () => {});
  await deadline(once(stream, 'open'), 'the port to open');
  return { binding, stream, client: new LineClient(stream) };
}

describe('mock terminal over the in-process binding', () => {
  it('runs a whole provisioning, with IDs and CRCs', async () => {
    const { stream, client } = await plugIn();
    expect((await client.request('@1 HELLO', true))[0]).toBe(
      appendCrc(
        '@1 OK proto=1 model=PB-MOCK sn=PBM0000001 fw=1.0.0 state=factory caps=crc,replay,users,settings,time,diag,reboot,reset',
      ),
    );
    expect(await client.request('@2 LOGIN user=admin password=1234', true)).toEqual([
      appendCrc('@2 OK user=admin must_change=1'),
    ]);
    expect(await client.request('@3 PASSWD old=1234 new=Good-Pass1', true)).toEqual([appendCrc('@3 OK')]);
    expect(await client.request('@4 INIT merchant=123456789012345 terminal=12345678', true)).toEqual([
      appendCrc('@4 OK state=initialized changed=1'),
    ]);
    expect(await client.event('state')).toBe(appendCrc('EVT state state=initialized'));
    await client.request('@5 TIME utc=2025-04-01T10:00:00Z', true);
    await client.request('@6 SET key=host.addr value=acq.example.com', true);
    const diag = await client.request('@7 DIAG', true);
    expect(diag).toHaveLength(13);
    expect(diag.at(-1)).toBe(appendCrc('@7 OK pass=12 warn=0 fail=0'));
    expect(await client.request('@8 REBOOT', true)).toEqual([appendCrc('@8 OK')]);
    expect(await client.event('boot')).toBe(appendCrc('EVT boot sn=PBM0000001'));
    expect((await client.request('STATUS'))[0]).toBe(
      'OK state=initialized login=none must_change=0 locked=0 attempts_left=5 tamper=0 factory_pw=01 merchant=123456789012345 terminal=12345678 name=""',
    );
    stream.close();
    await deadline(once(stream, 'close'), 'close');
    expect(terminal!.connectionCount).toBe(0);
  });

  it('paces replies at the line rate (10 bits per byte)', async () => {
    const { stream, client } = await plugIn({ baud: 9600 });
    const started = performance.now();
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push(...(await client.request('HELLO')));
    const elapsed = performance.now() - started;
    const bytes = replies.reduce((n, l) => n + l.length + 2, 0);
    expect(elapsed).toBeGreaterThanOrEqual((bytes * 10 * 1000) / 9600 - 5);
    stream.close();
  });

  it('a pulled cable (silent-after) is a disconnect for the host; plugging in again works', async () => {
    const { binding, stream } = await plugIn({ faults: 'silent-after:tx=10' });
    const closed = once(stream, 'close');
    stream.write('HELLO\r\n');
    const [error] = (await deadline(closed, 'the disconnect')) as [Error & { disconnected?: boolean }];
    expect(error?.disconnected).toBe(true);
    const again = new SerialPortStream({ binding, path: PATH, baudRate: 115200 });
    await deadline(once(again, 'open'), 'the port to open again');
    expect((await new LineClient(again).request('HELLO'))[0]).toMatch(/^OK proto=1/);
    again.close();
  });

  it('unplugging the host ends the connection and its login', async () => {
    const { binding, client } = await plugIn();
    await client.request('LOGIN user=admin password=1234');
    expect(terminal!.connectionCount).toBe(1);
    binding.unplug(PATH);
    await deadline(
      (async () => {
        while (terminal!.connectionCount > 0) await new Promise((r) => setTimeout(r, 1));
      })(),
      'the terminal to see the unplug',
    );
  });
});

describe('mock terminal over TCP', () => {
  let tcp: TcpListener | undefined;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await tcp?.close();
    tcp = undefined;
  });

  async function serve(options: MockTerminalOptions = {}) {
    terminal = new MockTerminal({ rebootMs: 50, ...options });
    const current = terminal;
    tcp = await listenTcp({ port: 0 }, (link) => current.attach(link));
  }

  async function connect(): Promise<{ socket: net.Socket; client: LineClient }> {
    const socket = net.connect(tcp!.address.port, tcp!.address.host);
    socket.on('error', () => {});
    sockets.push(socket);
    await deadline(once(socket, 'connect'), 'the TCP connection');
    return { socket, client: new LineClient(socket) };
  }

  it('serves several connections of one terminal; events reach them all', async () => {
    await serve();
    const a = await connect();
    const b = await connect();
    await a.client.request('LOGIN user=admin password=1234');
    await a.client.request('PASSWD old=1234 new=Good-Pass1');
    await b.client.request('LOGIN user=admin password=Good-Pass1');
    await a.client.request('INIT merchant=123456789012345 terminal=12345678');
    expect(await b.client.event('state')).toBe('EVT state state=initialized');
    for (let i = 0; i < 5; i++) await b.client.request(`@${10 + i} LOGIN user=01 password=wrong`);
    expect(await a.client.event('lockout')).toBe('EVT lockout retry_after=300');
    expect(await b.client.event('lockout')).toBe('EVT lockout retry_after=300');
    // b's admin login failed over (a failed LOGIN keeps it): still logged in; a RESET from a ends it.
    expect(await a.client.request('RESET confirm=PBM0000001')).toEqual(['OK']);
    expect(await b.client.event('state')).toBe('EVT state state=factory');
    expect(await b.client.request('GET key=net.mode')).toEqual(['ERR code=401 reason=auth-required']);
    expect(terminal!.connectionCount).toBe(2);
  });

  it('a lost reply is recovered by retransmitting the same line (at-most-once)', async () => {
    await serve({ faults: 'drop:p=0.5', seed: 4 });
    const { socket, client } = await connect();
    let line = '@1 LOGIN user=admin password=1234';
    const send = async (request: string): Promise<string[]> => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const reply = await client.send(request, false, 50);
        if (reply) return reply;
      }
      throw new Error(`no reply to ${request}`);
    };
    expect(await send(line)).toEqual(['@1 OK user=admin must_change=1']);
    line = '@2 PASSWD old=1234 new=Good-Pass1';
    expect(await send(line)).toEqual(['@2 OK']);
    expect(await send('@3 STATUS')).toEqual([
      '@3 OK state=factory login=admin must_change=0 locked=0 attempts_left=5 tamper=0 factory_pw=01',
    ]);
    socket.destroy();
  });

  it('closing the terminal ends every connection', async () => {
    await serve();
    const { socket, client } = await connect();
    await client.request('HELLO');
    const ended = once(socket, 'close');
    terminal!.close();
    await deadline(ended, 'the socket to close');
  });
});
