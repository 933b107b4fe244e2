/**
 * docs/protocol.md §19, D47 ("Lengths as written"): whatever a host sends, no line the mock
 * terminal writes is longer than 512 bytes; `msg` and `hint` are at most 120 bytes as written
 * (quotes and escapes included) and printable ASCII; an echoed key (`key=` of a 400 or 422) and
 * `check=` at most 64 bytes as written. Requests are generated with long, quoted and non-ASCII
 * values and keys, against a terminal whose stored values are already as long as allowed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryLink, type MemoryHostEnd, MockTerminal } from '../../src/mock-device/index.js';
import {
  COMMANDS,
  encodeLine,
  MAX_ECHOED_KEY,
  MAX_FREE_TEXT,
  MAX_LINE_BYTES,
  type ValueInput,
  VERBS,
  VirtualClock,
} from '../../src/protocol/index.js';

const RUNS = { numRuns: 300 };
const ADMIN_PW = 'K7m.Vq29x';

/** A terminal provisioned with the longest values it stores, the admin logged in on `host`. */
function longestTerminal(): { terminal: MockTerminal; host: MemoryHostEnd; clock: VirtualClock } {
  const clock = new VirtualClock();
  const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0, rebootMs: 1, clock, timers: clock });
  const { link, host } = createMemoryLink();
  terminal.attach(link);
  const e = '\\xC3\\xA9'; // é: two UTF-8 bytes, eight bytes as written
  for (const line of [
    'LOGIN user=admin password=1234',
    `PASSWD old=1234 new=${ADMIN_PW}`,
    `INIT merchant=104110058120001 terminal=21017745 name="${e.repeat(20)}"`,
    `SET key=net.apn value="${'\\"'.repeat(63)}"`,
    `SET key=net.wifi.ssid value="${e.repeat(16)}"`,
    `SET key=host.addr value=${`${'a'.repeat(63)}.`.repeat(3)}${'b'.repeat(61)}`,
    `USER-ADD id=99 name="${e.repeat(16)}" perms=sale,refund,query,report,settings password=Tz8:wQ4p`,
  ]) {
    host.write(`${line}\r\n`);
  }
  expect(host.readLines().filter((l) => l.startsWith('ERR'))).toEqual([]);
  return { terminal, host, clock };
}

const nonAscii = fc
  .uint8Array({ minLength: 1, maxLength: 200, size: 'max' })
  .map((b) => b.map((x) => x | 0x80));
const valueArb: fc.Arbitrary<ValueInput> = fc.oneof(
  nonAscii,
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('"', '\\', ' ', 'a', '*', '=', 'é'), maxLength: 150 }),
  fc.stringMatching(/^[a-z0-9.,_-]{1,120}$/),
  fc.constantFrom('', 'admin', '01', '1234', ADMIN_PW, 'printer,printer,modem', 'settle.account'),
);
const argNames = [...new Set(VERBS.flatMap((v) => Object.keys(COMMANDS[v].args)))];
const keyArb = fc.oneof(fc.constantFrom(...argNames), fc.stringMatching(/^[a-z][a-z0-9_.]{0,99}$/));

/** A request line as a host writes it (values canonical), of a known verb or not. */
const requestArb = fc
  .record({
    verb: fc.oneof(fc.constantFrom(...VERBS), fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,99}$/)),
    id: fc.option(fc.stringMatching(/^[0-9]{8}$/), { nil: undefined }),
    crc: fc.boolean(),
    fields: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 4 }),
  })
  .map(({ verb, id, crc, fields }) => encodeLine({ id, words: [verb], fields, crc }));

/** Lines that break the grammar where a name is read (keys with quotes, backslashes, upper case). */
const rawLineArb = fc
  .tuple(
    fc.constantFrom('', '@12345678 '),
    fc.constantFrom('HELLO', 'SET', 'FROB'),
    fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 200,
    }),
  )
  .map(([id, verb, token]) => `${id}${verb} ${token}`);

/** The long echoes docs/protocol.md §19 names: a 64-byte non-ASCII key or check with a msg as long as allowed. */
const echoArb = fc
  .tuple(fc.constantFrom('GET', 'SET', 'DIAG'), nonAscii, fc.boolean())
  .map(([verb, bytes, crc]) => {
    const fields: Array<[string, ValueInput]> =
      verb === 'DIAG'
        ? [['checks', bytes]]
        : verb === 'SET'
          ? [
              ['key', bytes],
              ['value', 'x'],
            ]
          : [['key', bytes]];
    return encodeLine({ id: '12345678', words: [verb], fields, crc });
  });

/** `name=TOKEN` as written on the line (a quoted token may hold spaces). */
function writtenFields(line: string): Array<[string, string]> {
  return [...line.matchAll(/(?:^| )([a-z][a-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^ "]+)/g)].map((m) => [
    m[1]!,
    m[2]!,
  ]);
}

/** A written value holds a `\\xHH` escape (a byte outside printable ASCII); `\\\\x` is a backslash and an x. */
function hasByteEscape(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    if (token[i] !== '\\') continue;
    if (token[i + 1] === 'x') return true;
    i++;
  }
  return false;
}

function checkLine(line: string): void {
  expect(line.length, line.slice(0, 80)).toBeLessThanOrEqual(MAX_LINE_BYTES);
  const isErr = / ?ERR code=/.test(line);
  for (const [name, token] of writtenFields(line)) {
    if (name === 'msg' || name === 'hint') {
      expect(token.length, `${name} as written in ${line.slice(0, 80)}`).toBeLessThanOrEqual(MAX_FREE_TEXT);
      expect(hasByteEscape(token), `${name} is printable ASCII: ${token}`).toBe(false);
    }
    if ((isErr && name === 'key') || name === 'check') {
      expect(token.length, `${name} as written in ${line.slice(0, 80)}`).toBeLessThanOrEqual(MAX_ECHOED_KEY);
    }
  }
}

function run(lines: string[]): void {
  const { terminal, host, clock } = longestTerminal();
  const sent = ['STATUS', 'USER-LIST', 'GET key=net.apn', 'GET key=host.addr', 'DIAG', ...lines];
  for (const line of sent) {
    host.write(Buffer.from(`${line}\r\n`, 'latin1'));
    clock.runAll();
  }
  const out = host.readLines();
  expect(out.length).toBeGreaterThanOrEqual(sent.length);
  for (const line of out) checkLine(line);
  terminal.close();
}

describe('every line the mock terminal writes keeps TSP/1 lengths as written', () => {
  it('replies to generated requests, grammar errors and long echoes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(requestArb, rawLineArb, echoArb), { minLength: 1, maxLength: 8 }), run),
      RUNS,
    );
  });

  it('an unknown-key reply with a 64-byte non-ASCII key, and a 400 naming a long key', () => {
    const key = '\\xFF'.repeat(64);
    run([`@12345678 SET key="${key}" value=1`, `@12345678 GET key="${key}"`, `HELLO ${'k'.repeat(400)}=`]);
    const { host } = longestTerminal();
    host.write(`@12345678 GET key="${key}"\r\n`);
    const [reply] = host.readLines();
    expect(reply).toBe(`@12345678 ERR code=422 reason=unknown-key key="${'\\xFF'.repeat(15)}"`);
  });
});
