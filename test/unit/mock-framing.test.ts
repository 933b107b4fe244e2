/**
 * The mock terminal's framing and fault order before state: 413, 400 (bytes), 460, 404,
 * 400 (arguments); CRC mirroring of replies and events; blank lines; case-insensitive verbs.
 */
import { describe, expect, it } from 'vitest';
import { MockHarness } from '../../src/mock-device/index.js';
import { appendCrc, crc16, formatCrc, parseReply } from '../../src/protocol/index.js';

const HELLO_OK =
  'OK proto=1 model=PB-MOCK sn=PBM0000001 fw=1.0.0 state=factory caps=crc,replay,users,settings,time,diag,reboot,reset';

function setup() {
  const h = new MockHarness();
  return { h, host: h.connect() };
}

describe('mock terminal: framing', () => {
  it('answers HELLO with the default identity, echoing the ID', () => {
    const { host } = setup();
    expect(host.send('HELLO')).toEqual([HELLO_OK]);
    expect(host.send('@42 HELLO proto=2')).toEqual([`@42 ${HELLO_OK}`]);
  });

  it('accepts CR, LF and CRLF, split anywhere, and ignores blank lines', () => {
    const { host } = setup();
    expect(host.write('HEL')).toEqual([]);
    expect(host.write('LO\r')).toEqual([HELLO_OK]);
    expect(host.write('\nHELLO\n\r\n   \r\r')).toEqual([HELLO_OK]);
    expect(host.write('  hello  \r\n')).toEqual([HELLO_OK]);
  });

  it('answers a line over 512 bytes with 413 at its terminator, no ID, no CRC, and keeps going', () => {
    const { host } = setup();
    const long = `@7 HELLO ${'x'.repeat(600)} *0000`;
    expect(host.write(long)).toEqual([]);
    expect(host.write('\r\n')).toEqual([
      `ERR code=413 reason=line-too-long msg="line of ${long.length} bytes"`,
    ]);
    expect(host.send('HELLO')).toEqual([HELLO_OK]);
  });

  it('counts exactly 512 bytes as fitting', () => {
    const { host } = setup();
    const line = `HELLO proto="${'a'.repeat(512 - 'HELLO proto=""'.length)}"`;
    expect(line.length).toBe(512);
    expect(host.send(line)).toEqual([HELLO_OK]);
    expect(host.send(`${line} `)[0]).toMatch(/^ERR code=413/);
  });

  it('answers bytes outside 0x20-0x7E with 400, echoing the ID and mirroring a CRC', () => {
    const { host } = setup();
    expect(host.write('@5 HELLO\x01\r\n')).toEqual([
      '@5 ERR code=400 reason=syntax msg="byte 0x01 at offset 8 is not printable ASCII"',
    ]);
    // A verb the byte breaks is not known to be harmless: no byte, no offset (docs/protocol.md §10).
    expect(host.write('@5 HEL\x01LO\r\n')).toEqual([
      '@5 ERR code=400 reason=syntax msg="a byte outside printable ASCII (0x20-0x7E)"',
    ]);
    const [reply] = host.write(Buffer.concat([Buffer.from('@6 HELLO\xff *1234\r\n', 'latin1')]));
    expect(reply).toMatch(/^@6 ERR code=400 reason=syntax msg="byte 0xFF at offset 8 .*" \*[0-9A-F]{4}$/);
    expect(parseReply(reply!).ok).toBe(true);
  });

  it('answers a bad CRC with 460 carrying a CRC and the ID', () => {
    const { host } = setup();
    const good = appendCrc('@9 HELLO');
    const bad = `${good.slice(0, -4)}${good.endsWith('0000') ? '0001' : '0000'}`;
    const [reply] = host.send(bad);
    expect(reply).toMatch(/^@9 ERR code=460 reason=bad-crc msg=".*" \*[0-9A-F]{4}$/);
    expect(parseReply(reply!).ok).toBe(true);
  });

  it('accepts a lower-case CRC and mirrors CRC mode on replies', () => {
    const { host } = setup();
    const body = '@3 HELLO';
    const lower = `${body} *${formatCrc(crc16(body)).toLowerCase()}`;
    const [reply] = host.send(lower);
    expect(reply).toBe(appendCrc(`@3 ${HELLO_OK}`));
    expect(host.send('HELLO')).toEqual([HELLO_OK]);
  });

  it('covers extra spaces in the CRC as sent', () => {
    const { host } = setup();
    const body = '  @4   HELLO  ';
    expect(host.send(`${body} *${formatCrc(crc16(body))}`)).toEqual([appendCrc(`@4 ${HELLO_OK}`)]);
  });

  it('answers 404 for an unknown verb before argument errors, and 400 for bad arguments', () => {
    const { host } = setup();
    expect(host.send('@1 FOO bar=')).toEqual([
      '@1 ERR code=404 reason=unknown-command msg="unknown command FOO"',
    ]);
    expect(host.send('@2 HELLO bogus=1')).toEqual([
      '@2 ERR code=400 reason=syntax key=bogus msg="HELLO takes no argument bogus"',
    ]);
    expect(host.send('LOGIN user=admin')).toEqual([
      'ERR code=400 reason=syntax key=password msg="LOGIN needs password="',
    ]);
    expect(host.send('HELLO proto=1 proto=1')).toEqual([
      'ERR code=400 reason=syntax key=proto msg="proto given twice"',
    ]);
  });

  it('answers 400 for a malformed ID without echoing it', () => {
    const { host } = setup();
    expect(host.send('@123456789 HELLO')[0]).toMatch(/^ERR code=400 reason=syntax/);
  });

  it('sends events with a CRC when the last answered line had one (413 does not change it)', () => {
    const { h, host } = setup();
    const other = h.connect();
    host.send('HELLO', { crc: true });
    host.write(`${'x'.repeat(600)}\r\n`);
    rebootByCommand(h);
    expect(host.lines()).toEqual([appendCrc('EVT boot sn=PBM0000001')]);
    expect(other.lines()).toEqual(['EVT boot sn=PBM0000001']);
  });

  it('bad-bytes and bad-CRC lines set the CRC mode of events too (D5)', () => {
    const { h, host } = setup();
    const other = h.connect();
    host.write('\x01 *0000\r\n');
    const third = h.connect();
    const good = appendCrc('HELLO');
    third.send(`${good.slice(0, -4)}${good.endsWith('0000') ? '0001' : '0000'}`);
    other.send('HELLO');
    rebootByCommand(h);
    expect(host.lines()).toEqual([appendCrc('EVT boot sn=PBM0000001')]);
    expect(third.lines()).toEqual([appendCrc('EVT boot sn=PBM0000001')]);
    expect(other.lines()).toEqual(['EVT boot sn=PBM0000001']);
  });

  it('D41: a power-up ends what each connection remembered: login, replay cache and event-CRC flag', () => {
    const { h, host } = setup();
    host.send('LOGIN user=admin password=1234', { crc: true });
    expect(host.send('@5 LOGIN user=admin password=bad', { crc: true })).toEqual([
      appendCrc('@5 ERR code=401 reason=bad-credentials remaining=4'),
    ]);
    h.terminal.reboot();
    h.advance(500);
    expect(host.lines()).toEqual(['EVT boot sn=PBM0000001']);
    expect(host.send('STATUS')[0]).toContain(' login=none ');
    // Not replayed: executed again, a second attempt.
    expect(host.send('@5 LOGIN user=admin password=bad', { crc: true })).toEqual([
      appendCrc('@5 ERR code=401 reason=bad-credentials remaining=3'),
    ]);
  });
});

/** REBOOT from an admin on a connection of its own: the event-CRC flags survive it (D5). */
function rebootByCommand(h: MockHarness): void {
  const admin = h.connect();
  admin.send('LOGIN user=admin password=1234');
  admin.send('PASSWD old=1234 new=K7m.Vq29x');
  expect(admin.send('REBOOT')).toEqual(['OK']);
  h.advance(500);
}
