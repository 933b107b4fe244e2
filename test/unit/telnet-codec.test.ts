/**
 * The pure Telnet / RFC 2217 layer (src/host/ports/telnet/): codec, option negotiation, COM-PORT
 * subnegotiations, port names. The property tests cut the stream at arbitrary places, as TCP does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPosbridgeError } from '../../src/host/errors.js';
import {
  DO,
  DONT,
  escapeData,
  IAC,
  MAX_SUBNEGOTIATION,
  negotiation,
  SB,
  SE,
  subnegotiation,
  TelnetDecoder,
  type TelnetEvent,
  TelnetOption,
  WILL,
  WONT,
} from '../../src/host/ports/telnet/codec.js';
import {
  ComPortCommand,
  describeSetting,
  parseServerComPort,
  purgeData,
  setBaudRate,
  setControl,
} from '../../src/host/ports/telnet/com-port.js';
import { OptionNegotiator } from '../../src/host/ports/telnet/negotiation.js';
import { parseTelnetPortName } from '../../src/host/ports/telnet/url.js';

const RUNS = { numRuns: 500 };
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const ascii = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'latin1'));

/** Decodes `chunks` in order and returns the events, adjacent data runs merged. */
function decodeAll(chunks: Uint8Array[], binary = true): TelnetEvent[] {
  const decoder = new TelnetDecoder();
  decoder.binary = binary;
  const events: TelnetEvent[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk, (event) => {
      const last = events.at(-1);
      if (event.type === 'data' && last?.type === 'data') {
        events[events.length - 1] = { type: 'data', bytes: Uint8Array.from([...last.bytes, ...event.bytes]) };
      } else {
        events.push(event);
      }
    });
  }
  return events;
}

/** `whole` cut at the given offsets (sorted, deduplicated, inside the range). */
function cut(whole: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (whole.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(whole.subarray(start, point));
    start = point;
  }
  chunks.push(whole.subarray(start));
  return chunks;
}

const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const dataOf = (events: TelnetEvent[]): number[] =>
  events.flatMap((e) => (e.type === 'data' ? [...e.bytes] : []));

describe('Telnet codec', () => {
  it('doubles IAC in data and undoes it', () => {
    expect([...escapeData(bytes(1, 0xff, 2, 0xff, 0xff), true)]).toEqual([
      1, 0xff, 0xff, 2, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(dataOf(decodeAll([bytes(1, IAC, IAC, 2)]))).toEqual([1, 0xff, 2]);
    // Nothing to escape: the same bytes come back (no copy needed).
    const plain = ascii('HELLO\r\n');
    expect(escapeData(plain, true)).toBe(plain);
  });

  it('reads negotiations, subnegotiations (IAC doubled inside) and other commands in stream order', () => {
    const wire = concat([
      ascii('A'),
      negotiation('WILL', TelnetOption.BINARY),
      ascii('B'),
      bytes(IAC, SB, 44, 101, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, IAC, SE),
      bytes(IAC, 0xf1), // NOP
      negotiation('DONT', TelnetOption.ECHO),
      ascii('C'),
    ]);
    expect(decodeAll([wire])).toEqual([
      { type: 'data', bytes: ascii('A') },
      { type: 'negotiate', verb: 'WILL', option: 0 },
      { type: 'data', bytes: ascii('B') },
      { type: 'subnegotiation', option: 44, payload: bytes(101, 0, 0, 0xff, 0xff) },
      { type: 'command', command: 0xf1 },
      { type: 'negotiate', verb: 'DONT', option: 1 },
      { type: 'data', bytes: ascii('C') },
    ]);
  });

  it('outside BINARY mode: CR NUL is CR, and a bare CR is sent as CR NUL (RFC 854)', () => {
    expect([...escapeData(ascii('A\rB\r\n\r'), false)]).toEqual([...ascii('A\r\0B\r\n\r\0')]);
    expect(dataOf(decodeAll([ascii('A\r'), bytes(0), ascii('B\r\n')], false))).toEqual([
      ...ascii('A\rB\r\n'),
    ]);
    // In BINARY mode a NUL after CR is data.
    expect(dataOf(decodeAll([ascii('A\r'), bytes(0)], true))).toEqual([...ascii('A\r'), 0]);
  });

  it('switches mode at the event that changes it, not at the chunk boundary', () => {
    const decoder = new TelnetDecoder();
    const data: number[] = [];
    decoder.push(concat([ascii('\r'), bytes(0), negotiation('WILL', 0), ascii('\r'), bytes(0)]), (event) => {
      if (event.type === 'negotiate') decoder.binary = true;
      if (event.type === 'data') data.push(...event.bytes);
    });
    expect(data).toEqual([0x0d, 0x0d, 0]);
  });

  it('drops an over-long subnegotiation and reads on after its IAC SE', () => {
    const long = new Uint8Array(MAX_SUBNEGOTIATION + 10).fill(0x41);
    const events = decodeAll([concat([bytes(IAC, SB, 44), long, bytes(IAC, SE), ascii('OK')])]);
    expect(events).toEqual([
      { type: 'overflow', option: 44 },
      { type: 'data', bytes: ascii('OK') },
    ]);
  });

  it('ends a subnegotiation that lacks IAC SE at the next command instead of swallowing the stream', () => {
    const events = decodeAll([concat([bytes(IAC, SB, 44, 105, 1), negotiation('WILL', 3), ascii('X')])]);
    expect(events).toEqual([
      { type: 'subnegotiation', option: 44, payload: bytes(105, 1) },
      { type: 'negotiate', verb: 'WILL', option: 3 },
      { type: 'data', bytes: ascii('X') },
    ]);
  });

  it('property: escape then decode gives the data back, however TCP cuts it (both modes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        (data, offsets, binary) => {
          const wire = escapeData(data, binary);
          expect(dataOf(decodeAll(cut(wire, offsets), binary))).toEqual([...data]);
        },
      ),
      RUNS,
    );
  });

  it('property: data, negotiations and subnegotiations interleaved come out in order, cut anywhere', () => {
    const event = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => ({ type: 'data' as const, bytes: b })),
      fc.record({
        type: fc.constant('negotiate' as const),
        verb: fc.constantFrom('WILL' as const, 'WONT' as const, 'DO' as const, 'DONT' as const),
        option: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        type: fc.constant('subnegotiation' as const),
        option: fc.integer({ min: 0, max: 255 }),
        payload: fc.uint8Array({ maxLength: 40 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (events, offsets) => {
          const wire = concat(
            events.map((e) =>
              e.type === 'data'
                ? escapeData(e.bytes, true)
                : e.type === 'negotiate'
                  ? negotiation(e.verb, e.option)
                  : subnegotiation(e.option, e.payload),
            ),
          );
          const expected: TelnetEvent[] = [];
          for (const e of events) {
            const last = expected.at(-1);
            if (e.type === 'data' && last?.type === 'data') {
              expected[expected.length - 1] = {
                type: 'data',
                bytes: Uint8Array.from([...last.bytes, ...e.bytes]),
              };
            } else {
              expected.push(e);
            }
          }
          expect(decodeAll(cut(wire, offsets))).toEqual(expected);
        },
      ),
      RUNS,
    );
  });
});

describe('option negotiation (RFC 1143)', () => {
  const wants = { local: [0, 3, 44], remote: [0, 3] };

  it('opens with WILL for our options and DO for the peer’s, and goes quiet once answered', () => {
    const n = new OptionNegotiator(wants);
    expect(n.start()).toEqual([
      { verb: 'WILL', option: 0 },
      { verb: 'WILL', option: 3 },
      { verb: 'WILL', option: 44 },
      { verb: 'DO', option: 0 },
      { verb: 'DO', option: 3 },
    ]);
    expect(n.settled('local', 0)).toBe(false);
    // Answers to our requests need no reply.
    expect(n.receive('DO', 0)).toEqual({ change: { side: 'local', option: 0, enabled: true } });
    expect(n.receive('WILL', 0)).toEqual({ change: { side: 'remote', option: 0, enabled: true } });
    expect(n.enabled('local', 0) && n.enabled('remote', 0)).toBe(true);
    // A repeat of an agreed option (ser2net sends DO SGA twice) gets nothing: no loop.
    expect(n.receive('DO', 3)).toEqual({ change: { side: 'local', option: 3, enabled: true } });
    expect(n.receive('DO', 3)).toEqual({});
  });

  it('refuses every option it does not want, once, and ignores refusals of what is off', () => {
    const n = new OptionNegotiator(wants);
    n.start();
    expect(n.receive('WILL', TelnetOption.ECHO)).toEqual({ reply: { verb: 'DONT', option: 1 } });
    expect(n.receive('DO', 24)).toEqual({ reply: { verb: 'WONT', option: 24 } }); // terminal type
    expect(n.receive('DONT', TelnetOption.ECHO)).toEqual({});
    expect(n.receive('WONT', 24)).toEqual({});
  });

  it('a refused request settles without a reply; a peer turning an option off is acknowledged', () => {
    const n = new OptionNegotiator(wants);
    n.start();
    expect(n.receive('DONT', 44)).toEqual({});
    expect(n.settled('local', 44)).toBe(true);
    expect(n.enabled('local', 44)).toBe(false);
    n.receive('WILL', 0);
    expect(n.receive('WONT', 0)).toEqual({
      change: { side: 'remote', option: 0, enabled: false },
      reply: { verb: 'DONT', option: 0 },
    });
    expect(n.receive('WONT', 0)).toEqual({});
  });

  it('property: two negotiators facing each other settle with a bounded number of messages', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 50 }), { maxLength: 6 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 50 }), { maxLength: 6 }),
        (serverLocal, serverRemote) => {
          const client = new OptionNegotiator(wants);
          const server = new OptionNegotiator({ local: serverLocal, remote: serverRemote });
          const toServer = client.start();
          const toClient = server.start();
          let messages = 0;
          while (toServer.length > 0 || toClient.length > 0) {
            messages++;
            expect(messages).toBeLessThan(100);
            const m = toServer.shift();
            if (m) {
              const step = server.receive(m.verb, m.option);
              if (step.reply) toClient.push(step.reply);
            }
            const r = toClient.shift();
            if (r) {
              const step = client.receive(r.verb, r.option);
              if (step.reply) toServer.push(step.reply);
            }
          }
          for (const option of [0, 3, 44]) {
            expect(client.settled('local', option)).toBe(true);
            expect(client.enabled('local', option)).toBe(serverRemote.includes(option));
          }
          for (const option of [0, 3]) {
            expect(client.enabled('remote', option)).toBe(serverLocal.includes(option));
          }
        },
      ),
      RUNS,
    );
  });
});

describe('RFC 2217 COM-PORT-OPTION', () => {
  it('builds the client subnegotiations, IAC doubled inside the value', () => {
    expect([...setBaudRate(115200)]).toEqual([IAC, SB, 44, 1, 0x00, 0x01, 0xc2, 0x00, IAC, SE]);
    // 0x0000FFFF: both 0xFF bytes travel doubled.
    expect([...setBaudRate(65535)]).toEqual([IAC, SB, 44, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, IAC, SE]);
    expect([...setControl(1)]).toEqual([IAC, SB, 44, ComPortCommand.SET_CONTROL, 1, IAC, SE]);
    expect([...purgeData(3)]).toEqual([IAC, SB, 44, 12, 3, IAC, SE]);
  });

  it('reads the server answers (command + 100), and calls a malformed one unknown', () => {
    expect(parseServerComPort(bytes(101, 0, 1, 0xc2, 0))).toEqual({ kind: 'baud', value: 115200 });
    expect(parseServerComPort(bytes(102, 8))).toEqual({ kind: 'datasize', value: 8 });
    expect(parseServerComPort(bytes(103, 1))).toEqual({ kind: 'parity', value: 1 });
    expect(parseServerComPort(bytes(104, 1))).toEqual({ kind: 'stopsize', value: 1 });
    expect(parseServerComPort(bytes(105, 1))).toEqual({ kind: 'control', value: 1 });
    expect(parseServerComPort(bytes(107, 0x30))).toEqual({ kind: 'modemstate', value: 0x30 });
    expect(parseServerComPort(bytes(108))).toEqual({ kind: 'flow-suspend' });
    expect(parseServerComPort(bytes(109))).toEqual({ kind: 'flow-resume' });
    expect(parseServerComPort(bytes(112, 3))).toEqual({ kind: 'purge', value: 3 });
    expect(parseServerComPort(bytes(100, ...ascii('ser2net')))).toEqual({
      kind: 'signature',
      text: 'ser2net',
    });
    expect(parseServerComPort(bytes(101, 0, 1))).toMatchObject({ kind: 'unknown', command: 101 });
    expect(parseServerComPort(bytes(1, 8))).toMatchObject({ kind: 'unknown', command: 1 });
    expect(parseServerComPort(bytes())).toMatchObject({ kind: 'unknown' });
  });

  it('names settings for people', () => {
    expect(describeSetting('baud', 9600)).toBe('9600 baud');
    expect(describeSetting('parity', 3)).toBe('even parity');
    expect(describeSetting('stopsize', 3)).toBe('1.5 stop bits');
    expect(describeSetting('control', 3)).toBe('flow control RTS/CTS');
  });

  it('codec constants are the RFC 854 bytes', () => {
    expect([IAC, WILL, WONT, DO, DONT, SB, SE]).toEqual([255, 251, 252, 253, 254, 250, 240]);
  });
});

describe('rfc2217:// and telnet:// port names', () => {
  it('reads host, port and pyserial options', () => {
    expect(parseTelnetPortName('rfc2217://Ser2Net.local:4001')).toEqual({
      scheme: 'rfc2217',
      host: 'ser2net.local',
      port: 4001,
      address: 'ser2net.local:4001',
      timeoutMs: 3000,
      ignSetControl: false,
      pollModem: false,
    });
    expect(
      parseTelnetPortName('RFC2217://[::1]:2217/?ign_set_control&poll_modem&timeout=0.5&logging=debug'),
    ).toEqual({
      scheme: 'rfc2217',
      host: '::1',
      port: 2217,
      address: '[::1]:2217',
      timeoutMs: 500,
      ignSetControl: true,
      pollModem: true,
      logging: 'debug',
    });
    expect(parseTelnetPortName('telnet://10.0.0.7:23?timeout=5')).toMatchObject({
      scheme: 'telnet',
      address: '10.0.0.7:23',
      timeoutMs: 5000,
    });
  });

  it('an unknown or misused option is a usage error naming it', () => {
    const error = (name: string) => {
      try {
        parseTelnetPortName(name);
      } catch (e) {
        expect(isPosbridgeError(e, 'USAGE'), String(e)).toBe(true);
        return e as Error;
      }
      throw new Error(`${name} was accepted`);
    };
    expect(error('rfc2217://h:1?baudrate=9600').message).toMatch(/unknown rfc2217:\/\/ option "baudrate"/);
    expect(error('telnet://h:1?ign_set_control').message).toMatch(/RFC 2217 option: use rfc2217:\/\//);
    expect(error('rfc2217://h:1?timeout=0').message).toMatch(/timeout must be/);
    expect(error('rfc2217://h:1?timeout=abc').message).toMatch(/timeout must be/);
    expect(error('rfc2217://h:1?timeout=61').message).toMatch(/at most 60/);
    expect(error('rfc2217://h:1?logging=loud').message).toMatch(
      /logging must be one of debug, info, warning, error/,
    );
    expect(error('rfc2217://h:1?poll_modem=1').message).toMatch(/takes no value/);
    for (const bad of [
      'rfc2217://host',
      'rfc2217://host:0',
      'rfc2217://host:70000',
      'rfc2217://:80',
      'rfc2217://h:1/x',
    ]) {
      expect(error(bad).message).toMatch(/not a rfc2217:\/\/ port name/);
    }
  });
});
