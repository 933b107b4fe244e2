/**
 * At-most-once execution: the per-connection replay cache (16 entries, FIFO, by ID, byte-identical
 * lines), what it stores (every reply but 400, 413, 460 and 503) and what clears it.
 */
import { describe, expect, it } from 'vitest';
import { type HostSession, MockHarness } from '../../src/mock-device/index.js';
import { appendCrc } from '../../src/protocol/index.js';

function setup() {
  const h = new MockHarness();
  return { h, host: h.connect() };
}

function admin(host: HostSession): void {
  host.send('LOGIN user=admin password=1234');
  expect(host.send('PASSWD old=1234 new=Adm1n-Secret')).toEqual(['OK']);
}

function attemptsLeft(host: HostSession): string | undefined {
  return /attempts_left=(\d+)/.exec(host.send('STATUS').join('\n'))?.[1];
}

describe('mock terminal: replay', () => {
  it('a retransmitted wrong LOGIN costs one attempt, once', () => {
    const { host } = setup();
    const line = '@5 LOGIN user=admin password=wrong';
    expect(host.send(line)).toEqual(['@5 ERR code=401 reason=bad-credentials remaining=4']);
    expect(host.send(line)).toEqual(['@5 ERR code=401 reason=bad-credentials remaining=4']);
    expect(host.send(line)).toEqual(['@5 ERR code=401 reason=bad-credentials remaining=4']);
    expect(attemptsLeft(host)).toBe('4');
  });

  it('the same ID with a different line is a new request that replaces the entry', () => {
    const { host } = setup();
    host.send('@5 LOGIN user=admin password=wrong');
    expect(host.send('@5 LOGIN user=admin password=other')).toEqual([
      '@5 ERR code=401 reason=bad-credentials remaining=3',
    ]);
    expect(host.send('@5 LOGIN user=admin password=other')).toEqual([
      '@5 ERR code=401 reason=bad-credentials remaining=3',
    ]);
    expect(host.send('@5 LOGIN user=admin password=wrong')).toEqual([
      '@5 ERR code=401 reason=bad-credentials remaining=2',
    ]);
    // Byte-identical means byte-identical: an extra space is another line.
    expect(host.send('@5  LOGIN user=admin password=wrong')).toEqual([
      '@5 ERR code=401 reason=bad-credentials remaining=1',
    ]);
  });

  it('a PASSWD cannot run twice: the retransmission gets the stored OK', () => {
    const { host } = setup();
    host.send('LOGIN user=admin password=1234');
    expect(host.send('@8 PASSWD old=1234 new=Good-Pass1')).toEqual(['@8 OK']);
    expect(host.send('@8 PASSWD old=1234 new=Good-Pass1')).toEqual(['@8 OK']);
    expect(attemptsLeft(host)).toBe('5');
  });

  it('replays DATA lines exactly, CRC included, whatever changed since', () => {
    const { host } = setup();
    admin(host);
    const first = host.send('@7 USER-LIST', { crc: true });
    expect(first).toEqual([
      appendCrc('@7 DATA id=01 name="Initial account" perms=sale,refund,query,report,settings must_change=1'),
      appendCrc('@7 OK count=1'),
    ]);
    host.send('USER-ADD id=02 name=Bob perms=sale password=Bob-Pass1');
    host.send('LOGOUT');
    expect(host.send('@7 USER-LIST', { crc: true })).toEqual(first);
    expect(host.send('@7 USER-LIST')).toEqual(['ERR code=401 reason=auth-required'].map((l) => `@7 ${l}`));
  });

  it('keeps 16 entries, first in first out', () => {
    const { host } = setup();
    admin(host);
    expect(host.send('@100 GET key=net.mode')).toEqual(['@100 OK key=net.mode value=eth']);
    host.send('@101 SET key=net.mode value=wifi');
    for (let id = 102; id < 115; id++) host.send(`@${id} HELLO`);
    // 15 newer entries: @100 is still there.
    expect(host.send('@100 GET key=net.mode')).toEqual(['@100 OK key=net.mode value=eth']);
    host.send('@115 HELLO');
    host.send('@116 HELLO');
    expect(host.send('@100 GET key=net.mode')).toEqual(['@100 OK key=net.mode value=wifi']);
  });

  it('does not store 400, 460 or 503, and such lines leave the entry as it was', () => {
    const { h, host } = setup();
    host.send('@3 LOGIN user=admin password=bad');
    expect(host.send('@3 LOGIN user=admin')[0]).toMatch(/^@3 ERR code=400/);
    const good = appendCrc('@3 LOGIN user=admin password=bad');
    expect(host.send(`${good.slice(0, -4)}${good.endsWith('0000') ? '0001' : '0000'}`)[0]).toMatch(
      /^@3 ERR code=460/,
    );
    expect(host.send('@3 LOGIN user=admin password=bad')).toEqual([
      '@3 ERR code=401 reason=bad-credentials remaining=4',
    ]);
    h.terminal.reboot();
    // The reboot cleared the cache; the retransmission while down is not executed nor stored.
    expect(host.send('@4 LOGIN user=admin password=bad')).toEqual(['@4 ERR code=503 reason=not-ready']);
    h.advance(500);
    expect(host.send('@4 LOGIN user=admin password=bad')).toEqual([
      'EVT boot sn=PBM0000001',
      '@4 ERR code=401 reason=bad-credentials remaining=3',
    ]);
  });

  it('stores ERR replies of executed requests too (401, 422, 428)', () => {
    const { host } = setup();
    expect(host.send('@1 TIME')).toEqual(['@1 ERR code=401 reason=auth-required']);
    host.send('LOGIN user=admin password=1234');
    expect(host.send('@1 TIME')).toEqual(['@1 ERR code=401 reason=auth-required']);
    expect(host.send('@2 TIME')).toEqual(['@2 ERR code=428 reason=password-change-required']);
  });

  it('is per connection, and cleared by REBOOT and RESET', () => {
    const { h, host } = setup();
    admin(host);
    host.send('@1 GET key=net.mode');
    host.send('SET key=net.mode value=gprs');
    const other = h.connect();
    other.send('LOGIN user=admin password=Adm1n-Secret');
    expect(other.send('@1 GET key=net.mode')).toEqual(['@1 OK key=net.mode value=gprs']);
    expect(host.send('@1 GET key=net.mode')).toEqual(['@1 OK key=net.mode value=eth']);
    host.send('REBOOT');
    h.advance(500);
    host.lines();
    other.lines();
    host.send('LOGIN user=admin password=Adm1n-Secret');
    expect(host.send('@1 GET key=net.mode')).toEqual(['@1 OK key=net.mode value=gprs']);
    host.send('@2 GET key=net.mode');
    host.send('RESET confirm=PBM0000001');
    admin(host);
    expect(host.send('@2 GET key=net.mode')).toEqual(['@2 OK key=net.mode value=eth']);
  });

  it('treats a request with and without CRC as different lines', () => {
    const { host } = setup();
    host.send('@6 LOGIN user=admin password=bad');
    expect(host.send('@6 LOGIN user=admin password=bad', { crc: true })).toEqual([
      appendCrc('@6 ERR code=401 reason=bad-credentials remaining=3'),
    ]);
  });
});
