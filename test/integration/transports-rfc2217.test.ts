/**
 * rfc2217:// and telnet:// transports against a fake RFC 2217 server in this process
 * (test/support/fake-rfc2217.ts): the handshake on the wire, IAC both ways, refused options,
 * answers that never come (bounded, with timers the test fires), another baud than asked, NVT
 * mode, the server going away. The real ser2net is in test/e2e/ser2net.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isPosbridgeError, type PosbridgeError } from '../../src/host/errors.js';
import { PortRegistry } from '../../src/host/ports/registry.js';
import {
  rfc2217PortFactory,
  type TelnetPortFactoryOptions,
  telnetPortFactory,
} from '../../src/host/ports/telnet/factory.js';
import type { Transport } from '../../src/host/ports/transport.js';
import { type FakeBehaviour, FakeRfc2217Server, ManualTimers } from '../support/fake-rfc2217.js';
import { ByteSink, deadline } from '../support/wait.js';

const IAC = 0xff;
const servers: FakeRfc2217Server[] = [];
const transports: Transport[] = [];

afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  for (const s of servers.splice(0)) await s.close();
});

async function serve(behaviour: FakeBehaviour = {}): Promise<FakeRfc2217Server> {
  const server = await new FakeRfc2217Server(behaviour).listen();
  servers.push(server);
  return server;
}

async function open(
  name: string,
  baudRate = 115200,
  options: TelnetPortFactoryOptions = {},
): Promise<Transport> {
  const factory = name.startsWith('telnet:') ? telnetPortFactory(options) : rfc2217PortFactory(options);
  const transport = await factory.open(name, { baudRate });
  transports.push(transport);
  return transport;
}

async function openError(name: string, options: TelnetPortFactoryOptions = {}, baudRate = 115200) {
  const error = await open(name, baudRate, options).then(
    () => {
      throw new Error(`${name} opened`);
    },
    (e: unknown) => e,
  );
  expect(isPosbridgeError(error), String(error)).toBe(true);
  return error as PosbridgeError;
}

describe('rfc2217://', () => {
  it('negotiates BINARY, SGA and COM-PORT, sets the line 8N1 without flow control, purges, and carries data with IAC escaped both ways', async () => {
    const server = await serve({ beforePurgeAnswer: Buffer.from('stale EVT boot\r\n') });
    const transport = await open(server.url(), 9600);
    const conn = await server.connection();
    expect(conn.negotiations).toEqual(['WILL 0', 'WILL 3', 'WILL 44', 'DO 0', 'DO 3']);
    expect(conn.comPort).toEqual([
      '1:0,0,37,128', // SET-BAUDRATE 9600, network order
      '2:8', // SET-DATASIZE 8
      '3:1', // SET-PARITY none
      '4:1', // SET-STOPSIZE 1
      '5:1', // SET-CONTROL no flow control
      '12:3', // PURGE-DATA both buffers
    ]);

    const received = new ByteSink();
    transport.onData(received.push);
    conn.sendData(Buffer.from([0x41, 0xff, 0x42, 0x0d, 0x0a]));
    await received.waitForLength(5, 'data with a 0xFF');
    // One 0xFF, and the stale bytes sent before the purge answer never reached the session.
    expect([...received.bytes]).toEqual([0x41, 0xff, 0x42, 0x0d, 0x0a]);

    await transport.write(Uint8Array.of(0x31, 0xff, 0x32));
    await conn.raw.waitFor((b) => b.includes(0x32), 'the client data');
    expect([...conn.raw.bytes.subarray(conn.raw.bytes.indexOf(0x31))]).toEqual([0x31, IAC, IAC, 0x32]);
    expect([...conn.data.bytes]).toEqual([0x31, 0xff, 0x32]);
  });

  it('refuses every option it does not want, once, ignores repeats, and answers a signature request', async () => {
    const server = await serve({
      // ser2net's opening, plus options nobody asked for: ECHO, TERMINAL-TYPE (24), NAWS (31), STATUS (5).
      greeting: Buffer.from([
        ...[
          IAC,
          0xfb,
          3,
          IAC,
          0xfd,
          3,
          IAC,
          0xfb,
          1,
          IAC,
          0xfe,
          1,
          IAC,
          0xfd,
          0,
          IAC,
          0xfb,
          0,
          IAC,
          0xfd,
          44,
        ],
        ...[IAC, 0xfd, 24, IAC, 0xfd, 31, IAC, 0xfb, 5, IAC, 0xfd, 3, IAC, 0xfd, 3],
        ...[IAC, 0xfa, 44, 100, IAC, 0xf0],
      ]),
    });
    await open(server.url());
    const conn = await server.connection();
    const refusals = conn.negotiations.filter((n) => /^(DONT|WONT)/.test(n));
    expect(refusals.sort()).toEqual(['DONT 1', 'DONT 5', 'WONT 24', 'WONT 31']);
    // Agreed options were asked once each (no acknowledgement of acknowledgements).
    for (const n of ['WILL 0', 'WILL 3', 'WILL 44', 'DO 0', 'DO 3'])
      expect(conn.negotiations.filter((x) => x === n)).toHaveLength(1);
    expect(conn.comPort).toContain(`0:${[...Buffer.from('posbridge')].join(',')}`);
  });

  it('a server that never answers COM-PORT-OPTION: the wait is bounded by ?timeout, then a clear error', async () => {
    const server = await serve({ silentOn: [44] });
    const timers = new ManualTimers();
    const failing = openError(server.url('rfc2217', '?timeout=2.5'), { timers });
    const conn = await server.connection();
    await conn.waitFor((c) => c.negotiations.includes('WILL 44'), 'our WILL COM-PORT-OPTION');
    await conn.waitFor((c) => c.negotiations.includes('DO 3'), 'our DO SGA');
    await conn.sync();
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([2500]);
    expect(timers.fire(2500)).toBe(1);
    const error = await deadline(failing, 'the open to fail');
    expect(error.code).toBe('PORT_OPEN_FAILED');
    expect(error.message).toContain('did not accept RFC 2217 (COM-PORT-OPTION) within 2.5 s');
    expect(error.hint).toContain(`telnet://127.0.0.1:${server.port}`);
    await deadline(conn.closed, 'the connection to be closed');
  });

  it('a server that refuses COM-PORT-OPTION fails at once, pointing at telnet://', async () => {
    const server = await serve({ clientMay: [0, 3] });
    const error = await openError(server.url());
    expect(error.message).toMatch(/refused RFC 2217 \(COM-PORT-OPTION\): it cannot set the serial line/);
    expect(error.hint).toMatch(/telnet:\/\/127\.0\.0\.1:\d+/);
  });

  it('a server that sets another baud than asked: "the serial server set X baud, not Y", exit 3 class', async () => {
    const server = await serve({ baud: () => 9600 });
    const error = await openError(server.url());
    expect(error.code).toBe('PORT_OPEN_FAILED');
    expect(error.message).toBe(`${server.url()}: the serial server set 9600 baud, not 115200`);
    expect(error.hint).toContain('--baud 9600');
  });

  it('a server that keeps other line settings is refused, naming them', async () => {
    const seven = await serve({ answer: (command, asked) => (command === 2 ? 7 : asked) });
    expect((await openError(seven.url())).message).toMatch(/set 7 data bits, not 8 data bits$/);
    const even = await serve({ answer: (command, asked) => (command === 3 ? 3 : asked) });
    expect((await openError(even.url())).message).toMatch(/set even parity, not none parity$/);
    const rtscts = await serve({ answer: (command, asked) => (command === 5 ? 3 : asked) });
    const flow = await openError(rtscts.url());
    expect(flow.message).toMatch(/kept flow control RTS\/CTS, not none$/);
    expect(flow.hint).toContain('?ign_set_control');
  });

  it('SET-CONTROL never answered: bounded error naming it; ?ign_set_control opens without waiting for it', async () => {
    const server = await serve({ answer: (command, asked) => (command === 5 ? null : asked) });
    const timers = new ManualTimers();
    const failing = openError(server.url('rfc2217', '?timeout=1'), { timers });
    const conn = await server.connection();
    await conn.waitFor((c) => c.comPort.includes('12:3'), 'the line settings');
    // Every other answer has been read; then time runs out.
    await conn.sync();
    expect(timers.fire(1000)).toBe(1);
    const error = await deadline(failing, 'the open to fail');
    expect(error.message).toMatch(/did not answer SET-CONTROL within 1 s$/);
    expect(error.hint).toContain('?ign_set_control');

    const transport = await open(server.url('rfc2217', '?ign_set_control'));
    expect(transport.closed).toBe(false);
  });

  it('a raw TCP port (no Telnet at all) is named as such after the bounded wait', async () => {
    const server = await serve({ silentOn: [0, 3, 44] });
    const timers = new ManualTimers();
    const failing = openError(server.url(), { timers });
    const conn = await server.connection();
    await conn.waitFor((c) => c.negotiations.length === 5, 'our five requests');
    timers.fire();
    const error = await deadline(failing, 'the open to fail');
    expect(error.message).toMatch(/no Telnet negotiation from the server within 3 s$/);
    expect(error.hint).toContain(`use tcp://127.0.0.1:${server.port}`);
  });

  it('a server that refuses BINARY is served in NVT mode: CR NUL both ways', async () => {
    const server = await serve({ serverWill: [3], clientMay: [3, 44] });
    const transport = await open(server.url());
    const conn = await server.connection();
    const received = new ByteSink();
    transport.onData(received.push);
    conn.send(Buffer.from('OK\r\0EVT\r\n'));
    await received.waitForLength(8, 'NVT data');
    expect(received.text).toBe('OK\rEVT\r\n');
    await transport.write(Buffer.from('HELLO\r'));
    await conn.raw.waitFor((b) => b.includes(0x4f) && b.at(-1) === 0, 'CR NUL');
    expect(conn.raw.bytes.subarray(conn.raw.bytes.indexOf(0x48)).toString('latin1')).toBe('HELLO\r\0');
  });

  it('the server closing the connection is an unplug; closing during the handshake is an open failure', async () => {
    const server = await serve();
    const transport = await open(server.url());
    const ended = new Promise<Error | undefined>((resolve) => transport.onClose(resolve));
    (await server.connection()).socket.destroy();
    const error = await deadline(ended, 'the unplug');
    expect(error).toMatchObject({ disconnected: true });
    expect(transport.closed).toBe(true);
    await expect(transport.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'DISCONNECTED' });

    const hangUp = await serve({ silentOn: [44] });
    const failing = openError(hangUp.url());
    const conn = await hangUp.connection();
    await conn.waitFor((c) => c.negotiations.includes('WILL 44'), 'our WILL COM-PORT-OPTION');
    conn.socket.destroy();
    const failure = await deadline(failing, 'the open to fail');
    expect(failure.code).toBe('PORT_OPEN_FAILED');
    expect(failure.message).toMatch(/closed the connection while it was being set up/);
  });

  it('a server that turns us away says why: ser2net\'s "Port already in use" is a busy port', async () => {
    const server = await serve({
      greeting: Buffer.from([IAC, 0xfb, 3, IAC, 0xfd, 0, ...Buffer.from('Port already in use\r\n')]),
    });
    const failing = openError(server.url());
    const conn = await server.connection();
    await conn.waitFor((c) => c.negotiations.length >= 3, 'our requests');
    conn.socket.end();
    const error = await deadline(failing, 'the open to fail');
    expect(error.code).toBe('PORT_BUSY');
    expect(error.message).toBe(
      `port busy: ${server.url()}: the serial server closed the connection while it was being set up (it said: "Port already in use")`,
    );
  });

  it('?poll_modem: a server that stops answering the poll is an unplug', async () => {
    let polls = 0;
    const server = await serve({
      answer: (command, asked) => {
        if (command === 5 && asked === 0) return ++polls === 1 ? 1 : null;
        return asked;
      },
    });
    const timers = new ManualTimers();
    const transport = await open(server.url('rfc2217', '?poll_modem&timeout=2'), 115200, {
      timers,
      pollIntervalMs: 1000,
    });
    const ended = new Promise<Error | undefined>((resolve) => transport.onClose(resolve));
    const conn = await server.connection();
    // First poll: answered, so the next one is scheduled.
    expect(timers.fire(1000)).toBe(1);
    await conn.waitFor((c) => c.comPort.filter((x) => x === '5:0').length === 1, 'the first poll');
    await deadline(
      (async () => {
        while (![...timers.pending.values()].some((t) => t.ms === 1000))
          await new Promise((r) => setImmediate(r));
      })(),
      'the next poll to be scheduled',
    );
    expect(transport.closed).toBe(false);
    // Second poll: no answer within the timeout.
    expect(timers.fire(1000)).toBe(1);
    await conn.waitFor((c) => c.comPort.filter((x) => x === '5:0').length === 2, 'the second poll');
    expect(timers.fire(2000)).toBe(1);
    const error = await deadline(ended, 'the unplug');
    expect(error?.message).toMatch(/stopped answering \(no answer to a poll within 2 s\)/);
    expect(error).toMatchObject({ disconnected: true });
  });

  it('FLOWCONTROL-SUSPEND holds our output until FLOWCONTROL-RESUME', async () => {
    const server = await serve();
    const transport = await open(server.url());
    const conn = await server.connection();
    const received = new ByteSink();
    transport.onData(received.push);
    conn.comPortAnswer(108, []);
    conn.sendData(Buffer.from('mark\n'));
    await received.waitForLength(5, 'the mark after the suspend');
    await transport.write(Buffer.from('held\r\n'));
    conn.sendData(Buffer.from('mark\n'));
    await received.waitForLength(10, 'a second mark');
    expect(conn.data.text).toBe('');
    conn.comPortAnswer(109, []);
    await conn.data.waitForLength(6, 'the held bytes');
    expect(conn.data.text).toBe('held\r\n');
  });
});

describe('telnet://', () => {
  it('negotiates BINARY and SGA only (no COM-PORT-OPTION) and carries data, IAC escaped', async () => {
    const server = await serve({ clientMay: [0, 3] });
    const transport = await open(server.url('telnet'));
    const conn = await server.connection();
    expect(conn.negotiations).toEqual(['WILL 0', 'WILL 3', 'DO 0', 'DO 3']);
    expect(conn.comPort).toEqual([]);
    const received = new ByteSink();
    transport.onData(received.push);
    conn.sendData(Buffer.from([0xff, 0x0a]));
    await received.waitForLength(2, 'data');
    expect([...received.bytes]).toEqual([0xff, 0x0a]);
  });
});

describe('the registry', () => {
  it('opens rfc2217:// and telnet:// by default, whatever the case of the scheme', async () => {
    const registry = new PortRegistry({
      devices: { open: () => Promise.reject(new Error('no devices here')) },
    });
    expect(registry.schemes()).toEqual(['rfc2217', 'tcp', 'telnet']);
    const server = await serve();
    const transport = await registry.open(server.url('RFC2217'));
    transports.push(transport);
    expect(transport.name).toBe(server.url('RFC2217'));
    // One server port has one owner whatever the scheme names it (docs/cli.md, "One owner per
    // terminal"): refused before connecting while the first is open.
    await expect(registry.open(server.url('telnet'))).rejects.toMatchObject({ code: 'PORT_BUSY' });
    expect(server.connections).toHaveLength(1);
    await transport.close();
    const telnet = await registry.open(server.url('telnet'));
    transports.push(telnet);
    expect((await server.connection(1)).negotiations).not.toContain('WILL 44');
  });

  it('a bad option is a usage error before any connection is made', async () => {
    const server = await serve();
    const registry = new PortRegistry();
    const error = await registry.open(server.url('rfc2217', '?baudrate=9600')).catch((e: unknown) => e);
    expect(isPosbridgeError(error, 'USAGE')).toBe(true);
    expect((error as Error).message).toContain('unknown rfc2217:// option "baudrate"');
    expect(server.connections).toHaveLength(0);
  });
});
