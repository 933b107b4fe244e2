/** Fault injection: the --fault grammar and each fault as a behaviour, with fixed seeds. */
import { describe, expect, it } from 'vitest';
import {
  createFaultBehaviours,
  type FaultSpec,
  formatFault,
  type HostSession,
  type MockBehaviour,
  MockConfigError,
  MockHarness,
  type MockTerminalOptions,
  parseFaultSpec,
  VIOLATION_NAMES,
} from '../../src/mock-device/index.js';
import { appendCrc, parseReply } from '../../src/protocol/index.js';

function setup(options: MockTerminalOptions = {}) {
  const h = new MockHarness(options);
  return { h, host: h.connect() };
}

function admin(host: HostSession): void {
  host.send('LOGIN user=admin password=1234');
  host.send('PASSWD old=1234 new=Adm1n-Secret');
}

describe('fault grammar', () => {
  it('parses every fault with its parameters and defaults', () => {
    expect(
      parseFaultSpec(
        'corrupt:p=0.01; drop:p=0.05;delay:ms=200;silent-after:bytes=4000;reboot-at:n=3;busy:ms=2000;spurious-evt:p=0.1',
      ),
    ).toEqual([
      { kind: 'corrupt', p: 0.01 },
      { kind: 'drop', p: 0.05 },
      { kind: 'delay', ms: 200, p: 1 },
      { kind: 'silent-after', bytes: 4000, direction: 'both' },
      { kind: 'reboot-at', n: 3, execute: true },
      { kind: 'busy', ms: 2000, n: 1 },
      { kind: 'spurious-evt', p: 0.1, name: 'noise' },
    ]);
    expect(
      parseFaultSpec('silent-after:rx=10;silent-after:tx=20;reboot-at:n=2,exec=0;busy:ms=5,n=4'),
    ).toEqual([
      { kind: 'silent-after', bytes: 10, direction: 'in' },
      { kind: 'silent-after', bytes: 20, direction: 'out' },
      { kind: 'reboot-at', n: 2, execute: false },
      { kind: 'busy', ms: 5, n: 4 },
    ]);
    expect(parseFaultSpec('delay:ms=5,p=0.5;spurious-evt:p=1,name=heartbeat')).toEqual([
      { kind: 'delay', ms: 5, p: 0.5 },
      { kind: 'spurious-evt', p: 1, name: 'heartbeat' },
    ]);
    expect(parseFaultSpec('')).toEqual([]);
    expect(parseFaultSpec(' ; ')).toEqual([]);
  });

  it('round-trips through formatFault', () => {
    const spec =
      'corrupt:p=0.01;delay:ms=5,p=0.5;silent-after:tx=20;reboot-at:n=2,exec=0;busy:ms=5,n=4;spurious-evt:p=1,name=x';
    expect(parseFaultSpec(spec).map(formatFault).join(';')).toBe(spec);
  });

  it('names the problem', () => {
    const error = (spec: string) => {
      try {
        parseFaultSpec(spec);
      } catch (e) {
        expect(e).toBeInstanceOf(MockConfigError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(error('explode:p=1')).toBe(
      'fault "explode:p=1": unknown fault "explode" (known: corrupt, drop, delay, silent-after, reboot-at, busy, spurious-evt, violate)',
    );
    expect(error('drop')).toBe('fault "drop": needs p=');
    expect(error('drop:p=1.5')).toBe('fault "drop:p=1.5": p=1.5 is not a probability from 0 to 1');
    expect(error('drop:q=1')).toBe('fault "drop:q=1": unknown parameter "q" (known: p)');
    expect(error('drop:p=1,p=1')).toBe('fault "drop:p=1,p=1": parameter p given twice');
    expect(error('drop:p')).toBe('fault "drop:p": "p" is not key=value');
    expect(error('delay:ms=-1')).toMatch(/ms=-1 is not a whole number/);
    expect(error('reboot-at:n=0')).toMatch(/n=0 is not a whole number of at least 1/);
    expect(error('silent-after:rx=1,tx=2')).toMatch(/needs exactly one of bytes=, rx=, tx=/);
    expect(error('silent-after')).toMatch(/needs exactly one of/);
    expect(error('spurious-evt:p=1,name=a b')).toMatch(/name=a b is not a word/);
    expect(error('violate')).toBe('fault "violate": needs rule=');
    expect(error('violate:rule=be-nice')).toMatch(/rule=be-nice is not one of no-crc-data, crc-never, /);
  });

  it('parses the protocol violations, each a behaviour that names its rule', () => {
    expect(parseFaultSpec('violate:rule=no-replay;violate:rule=crc-never')).toEqual([
      { kind: 'violate', rule: 'no-replay' },
      { kind: 'violate', rule: 'crc-never' },
    ]);
    const behaviours = createFaultBehaviours(
      VIOLATION_NAMES.map((rule) => `violate:rule=${rule}`).join(';'),
      1,
    );
    expect(behaviours.map((b) => b.violates)).toEqual(VIOLATION_NAMES);
    expect(behaviours.map((b) => b.name)).toEqual(VIOLATION_NAMES.map((rule) => `violate:rule=${rule}`));
    expect(VIOLATION_NAMES.length).toBeGreaterThanOrEqual(15);
  });

  it('checks faults built in TypeScript too', () => {
    expect(() => createFaultBehaviours([{ kind: 'drop', p: 2 }], 1)).toThrow(/not a probability/);
    expect(() => createFaultBehaviours([{ kind: 'busy', ms: 0, n: 1 }], 1)).toThrow(/ms=0/);
    const specs: FaultSpec[] = [{ kind: 'reboot-at', n: 2, execute: false }];
    expect(createFaultBehaviours(specs, 1).map((b) => b.name)).toEqual(['reboot-at:n=2,exec=0']);
  });
});

describe('faults', () => {
  it('corrupt: flips one bit of one byte per hit line, never making a CR or LF, same seed same damage', () => {
    const run = (seed: number) => {
      const { host } = setup({ faults: 'corrupt:p=1', seed });
      return host.send('HELLO', { crc: true });
    };
    const clean = setup().host.send('HELLO', { crc: true })[0]!;
    const [damaged] = run(7);
    expect(run(7)).toEqual([damaged]);
    expect(run(8)).not.toEqual([damaged]);
    expect(damaged).toHaveLength(clean.length);
    const diff = [...clean].filter((c, i) => damaged!.charCodeAt(i) !== c.charCodeAt(0));
    expect(diff).toHaveLength(1);
    const parsed = parseReply(damaged!);
    expect(parsed.ok && parsed.reply.crc).toBeFalsy();
  });

  it('corrupt: a probability hits about that share of lines', () => {
    const { host } = setup({ faults: 'corrupt:p=0.25', seed: 3 });
    const clean =
      'OK proto=1 model=PB-MOCK sn=PBM0000001 fw=1.0.0 state=factory caps=crc,replay,users,settings,time,diag,reboot,reset';
    let hit = 0;
    for (let i = 0; i < 400; i++) if (host.send('HELLO')[0] !== clean) hit++;
    expect(hit).toBeGreaterThan(60);
    expect(hit).toBeLessThan(140);
  });

  it('drop: the command runs and its reply is kept for replay; the retransmission gets it', () => {
    const { h, host } = setup({ faults: 'drop:p=1' });
    expect(host.send('@1 LOGIN user=admin password=1234')).toEqual([]);
    expect(host.send('@2 PASSWD old=1234 new=Good-Pass1')).toEqual([]);
    // The host retransmits: replayed (not run again: no wrong-old failure), and lost again (p=1).
    expect(host.send('@2 PASSWD old=1234 new=Good-Pass1')).toEqual([]);
    const state = h.terminal.snapshot();
    expect(state.admin.mustChange).toBe(false);
    expect(state.lockout.failures).toBe(0);
    h.terminal.removeBehaviour(h.terminal.behaviours[0]!);
    expect(host.send('@2 PASSWD old=1234 new=Good-Pass1')).toEqual(['@2 OK']);
  });

  it('drop: with a seed, some replies are lost and a retransmission recovers each exactly once', () => {
    const { h, host } = setup({ faults: 'drop:p=0.5', seed: 11 });
    const lost: number[] = [];
    for (let id = 1; id <= 20; id++) {
      const send = () =>
        host.send(`@${id} LOGIN user=01 password=wrong${id % 2}`).filter((l) => !l.startsWith('EVT'));
      let reply = send();
      if (reply.length === 0) lost.push(id);
      for (let tries = 0; reply.length === 0 && tries < 50; tries++) reply = send();
      expect(reply[0]).toMatch(new RegExp(`^@${id} ERR code=(401|423)`));
    }
    expect(lost.length).toBeGreaterThan(3);
    expect(lost.length).toBeLessThan(17);
    // 20 requests, each executed once: 5 failures locked, 15 got 423 (not counted).
    expect(h.terminal.snapshot().lockout.failures).toBe(5);
  });

  it('delay: replies wait, in order; events are not delayed', () => {
    const { h, host } = setup({ faults: 'delay:ms=200' });
    expect(host.send('@1 HELLO')).toEqual([]);
    expect(host.send('@2 STATUS')).toEqual([]);
    h.advance(199);
    expect(host.lines()).toEqual([]);
    h.advance(1);
    expect(host.lines().map((l) => l.slice(0, 5))).toEqual(['@1 OK', '@2 OK']);
    h.terminal.reboot();
    h.advance(500);
    expect(host.lines()).toEqual(['EVT boot sn=PBM0000001']);
  });

  it('delay with p<1 never lets a later reply overtake an earlier one', () => {
    const { h, host } = setup({ faults: 'delay:ms=100,p=0.5', seed: 5 });
    for (let id = 1; id <= 30; id++) host.send(`@${id} HELLO`);
    h.advance(10_000);
    const ids = host.lines().map((l) => Number(/^@(\d+)/.exec(l)?.[1]));
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('silent-after: bytes: the cable is pulled after exactly N bytes, once per mock', () => {
    const { h, host } = setup({ faults: 'silent-after:bytes=30' });
    // 7 bytes in, then the reply is cut at byte 30 of the connection's traffic.
    const received = host.send('HELLO');
    expect(received).toEqual([]);
    expect(host.end.read()).toBe('OK proto=1 model=PB-MOCK s'.slice(0, 23));
    expect(host.closed).toBe(true);
    expect(h.terminal.connectionCount).toBe(0);
    const again = h.connect();
    expect(again.send('HELLO')[0]).toMatch(/^OK proto=1/);
  });

  it('silent-after: rx: a request that arrives executes, its reply never leaves', () => {
    const { h, host } = setup({ faults: 'silent-after:rx=38' });
    // LOGIN line is 31 bytes + CRLF = 33; the PASSWD arrives cut after 5 more bytes.
    expect(host.send('LOGIN user=admin password=1234')).toEqual(['OK user=admin must_change=1']);
    expect(host.send('PASSWD old=1234 new=Good-Pass1')).toEqual([]);
    expect(host.closed).toBe(true);
    expect(h.terminal.snapshot().admin.mustChange).toBe(true);
  });

  it('silent-after: tx: counts only what the terminal sends', () => {
    const { host } = setup({ faults: 'silent-after:tx=200' });
    host.send('HELLO');
    expect(host.closed).toBe(false);
    host.send('HELLO');
    expect(host.closed).toBe(true);
  });

  it('reboot-at: the Nth request runs, its reply is never sent, EVT boot follows', () => {
    const { h, host } = setup({ faults: 'reboot-at:n=2' });
    host.send('LOGIN user=admin password=1234');
    expect(host.send('@7 PASSWD old=1234 new=Good-Pass1')).toEqual([]);
    expect(h.terminal.isDown).toBe(true);
    expect(host.send('@7 PASSWD old=1234 new=Good-Pass1')).toEqual(['@7 ERR code=503 reason=not-ready']);
    h.advance(500);
    expect(host.lines()).toEqual(['EVT boot sn=PBM0000001']);
    // It ran: the factory password is gone; the login is gone too.
    expect(host.send('STATUS')[0]).toContain(
      ' login=none must_change=0 locked=0 attempts_left=5 tamper=0 factory_pw=01',
    );
    expect(host.send('@7 PASSWD old=1234 new=Good-Pass1')).toEqual(['@7 ERR code=401 reason=auth-required']);
  });

  it('reboot-at with exec=0: the Nth request does not run', () => {
    const { h, host } = setup({ faults: 'reboot-at:n=2,exec=0' });
    host.send('LOGIN user=admin password=1234');
    expect(host.send('PASSWD old=1234 new=Good-Pass1')).toEqual([]);
    h.advance(500);
    expect(host.send('STATUS')).toEqual([
      'EVT boot sn=PBM0000001',
      'OK state=factory login=none must_change=0 locked=0 attempts_left=5 tamper=0 factory_pw=admin,01',
    ]);
  });

  it('busy: from the Nth request, for ms, requests get 503 busy and do not run', () => {
    const { h, host } = setup({ faults: 'busy:ms=2000,n=2' });
    expect(host.send('@1 HELLO')[0]).toMatch(/^@1 OK/);
    expect(host.send('@2 LOGIN user=admin password=wrong')).toEqual(['@2 ERR code=503 reason=busy']);
    h.advance(1999);
    expect(host.send('@2 LOGIN user=admin password=wrong')).toEqual(['@2 ERR code=503 reason=busy']);
    h.advance(1);
    expect(host.send('@2 LOGIN user=admin password=wrong')).toEqual([
      '@2 ERR code=401 reason=bad-credentials remaining=4',
    ]);
    h.advance(10_000);
    expect(host.send('HELLO')[0]).toMatch(/^OK/);
  });

  it("spurious-evt: unknown events between lines, in the connection's CRC mode", () => {
    const { host } = setup({ faults: 'spurious-evt:p=1' });
    admin(host);
    host.lines();
    expect(host.send('@1 USER-LIST', { crc: true })).toEqual([
      appendCrc('EVT noise seq=3'),
      appendCrc('@1 DATA id=01 name="Initial account" perms=sale,refund,query,report,settings must_change=1'),
      appendCrc('EVT noise seq=4'),
      appendCrc('@1 OK count=1'),
    ]);
  });

  it('composes: several faults from one spec, and a test behaviour placed first', () => {
    const seen: string[] = [];
    const spy: MockBehaviour = {
      name: 'spy',
      onRequest(info) {
        seen.push(`${info.seq}:${info.request.verb}`);
        return info.request.verb === 'STATUS' ? { busy: true } : undefined;
      },
    };
    const { h, host } = setup({ faults: 'delay:ms=10;spurious-evt:p=1,name=tick', behaviours: [spy] });
    host.send('HELLO');
    host.send('STATUS');
    h.advance(10);
    expect(host.lines()).toEqual([
      'EVT tick seq=1',
      expect.stringMatching(/^OK proto=1/),
      'EVT tick seq=2',
      'ERR code=503 reason=busy',
    ]);
    expect(seen).toEqual(['1:HELLO', '2:STATUS']);
    h.terminal.removeBehaviour(spy);
    host.send('STATUS');
    h.advance(10);
    expect(host.lines()[1]).toMatch(/^OK state=factory/);
  });
});

describe('pacing and robustness', () => {
  it('paces output at 10 bits per byte, in order', () => {
    const { h, host } = setup({ baud: 9600 });
    const reply =
      'OK proto=1 model=PB-MOCK sn=PBM0000001 fw=1.0.0 state=factory caps=crc,replay,users,settings,time,diag,reboot,reset';
    const ms = ((reply.length + 2) * 10 * 1000) / 9600;
    expect(host.send('HELLO')).toEqual([]);
    h.advance(Math.ceil(ms) - 1);
    expect(host.lines()).toEqual([]);
    h.advance(1);
    expect(host.lines()).toEqual([reply]);
    host.send('HELLO');
    host.send('STATUS');
    h.advance(Math.ceil(ms));
    expect(host.lines()).toEqual([reply]);
    h.advance(200);
    expect(host.lines()[0]).toMatch(/^OK state=factory/);
  });

  it('a flood cannot grow memory without bound: input beyond the backlog is dropped (overrun)', () => {
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (_: object, m: string) => void warnings.push(m),
    };
    const { h, host } = setup({ baud: 115200, logger });
    const flood = Buffer.from('HELLO\r\n'.repeat(150_000));
    host.write(flood);
    h.clock.runAll();
    const replies = host.lines();
    expect(replies.length).toBeGreaterThan(1000);
    expect(replies.length).toBeLessThan(150_000 / 5);
    expect(warnings).toEqual(['input overrun: the host sends faster than the terminal answers']);
    expect(host.send('HELLO')).toEqual([]);
    h.clock.runAll();
    expect(host.lines()).toHaveLength(1);
  });

  it('survives random bytes: every reply is a well-formed line', () => {
    const { h, host } = setup();
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    const lines: string[] = [];
    const alphabet = Buffer.from('@0123456789 *=",\\xAZaz-HELLOSTATUSLOGINuser=password\r\n\x00\xff\t');
    for (let round = 0; round < 200; round++) {
      const chunk = Buffer.alloc(1 + (random() % 700));
      for (let i = 0; i < chunk.length; i++)
        chunk[i] = random() % 5 === 0 ? random() & 0xff : alphabet[random() % alphabet.length]!;
      lines.push(...host.write(chunk));
    }
    lines.push(...host.write('\r\n'));
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) expect(parseReply(line).ok, line).toBe(true);
    expect(h.terminal.isDown).toBe(false);
    expect(host.send('HELLO')[0]).toMatch(/^OK proto=1/);
  });
});

describe('a behaviour that throws', () => {
  it('is logged and ignored at every hook', () => {
    const errors: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (f: object, m: string) => void errors.push(`${m} ${(f as { behaviour?: string }).behaviour}`),
    };
    const broken: MockBehaviour = {
      name: 'broken',
      onRequest() {
        throw new Error('request');
      },
      onLine() {
        throw new Error('line');
      },
      onBytes() {
        throw new Error('bytes');
      },
      onClose() {
        throw new Error('close');
      },
    };
    const { h, host } = setup({ behaviours: [broken], logger, baud: 9600 });
    host.send('HELLO');
    h.terminal.reboot();
    h.clock.runAll();
    expect(host.lines()).toEqual([expect.stringMatching(/^OK proto=1/), 'EVT boot sn=PBM0000001']);
    host.close();
    expect(new Set(errors)).toEqual(new Set(['behaviour failed broken']));
  });
});
