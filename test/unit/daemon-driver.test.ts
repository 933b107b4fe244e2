import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DiagResult, TerminalDriver } from '../../src/host/driver.js';
import { isPosbridgeError, isTerminalError } from '../../src/host/errors.js';
import { memoryPortFactory } from '../../src/host/ports/memory.js';
import { PortRegistry } from '../../src/host/ports/registry.js';
import { Secret } from '../../src/host/secret.js';
import { Session } from '../../src/host/session.js';
import { createMemoryTrace } from '../../src/host/trace.js';
import { encodeData, encodeErr, encodeEvent, encodeOk, type FieldList } from '../../src/protocol/index.js';
import { flush, type Received, silentLogger, Wire } from './daemon-wire.helper.js';

const ok = (r: Received, fields: FieldList = []) => encodeOk({ id: r.request?.id, crc: true }, fields);
const data = (r: Received, fields: FieldList) => encodeData({ id: r.request?.id, crc: true }, fields);
const err = (r: Received, code: number, reason: Parameters<typeof encodeErr>[2], extra: FieldList = []) =>
  encodeErr({ id: r.request?.id, crc: true }, code, reason, extra);
const arg = (r: Received, key: string) => {
  const value = r.request?.args.get(key);
  return value === undefined ? undefined : Buffer.from(value).toString('utf8');
};

function open(rebootTimeoutMs = 10_000) {
  const wire = new Wire();
  const session = new Session(wire.transport, { logger: silentLogger, random: () => 0 });
  const driver = new TerminalDriver(session, { rebootTimeoutMs });
  return { wire, driver };
}

describe('TerminalDriver: reply parsing', () => {
  it('hello()', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [
      ok(r, [
        ['proto', 1],
        ['model', 'PB-100'],
        ['sn', 'PB00012345'],
        ['fw', '1.2.3'],
        ['state', 'factory'],
        ['caps', 'crc,replay,users'],
        ['future_key', 'ignored'],
      ]),
    ];
    expect(await driver.hello()).toEqual({
      proto: 1,
      model: 'PB-100',
      sn: 'PB00012345',
      fw: '1.2.3',
      state: 'factory',
      caps: ['crc', 'replay', 'users'],
    });
    expect(wire.last.request?.verb).toBe('HELLO');
    expect(arg(wire.last, 'proto')).toBe('1');
  });

  it('status() in factory state, and once initialized', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [
      ok(r, [
        ['state', 'factory'],
        ['login', 'none'],
        ['must_change', 0],
        ['locked', 0],
        ['attempts_left', 5],
        ['tamper', 0],
        ['factory_pw', 'admin,01'],
      ]),
    ];
    expect(await driver.status()).toEqual({
      state: 'factory',
      login: 'none',
      mustChange: false,
      locked: false,
      attemptsLeft: 5,
      tamper: false,
      factoryPw: ['admin', '01'],
    });
    wire.script = (r) => [
      ok(r, [
        ['state', 'initialized'],
        ['login', 'admin'],
        ['must_change', 1],
        ['locked', 0],
        ['tamper', 1],
        ['factory_pw', 'none'],
        ['merchant', '123456789012345'],
        ['terminal', '12345678'],
        ['name', 'Café Nord'],
      ]),
    ];
    expect(await driver.status()).toEqual({
      state: 'initialized',
      login: 'admin',
      mustChange: true,
      locked: false,
      tamper: true,
      factoryPw: [],
      merchant: '123456789012345',
      terminal: '12345678',
      name: 'Café Nord',
    });
  });

  it('rejects replies that do not fit TSP/1 with BAD_REPLY', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [
      ok(r, [
        ['state', 'weird'],
        ['login', 'none'],
      ]),
    ];
    await expect(driver.status()).rejects.toMatchObject({ code: 'BAD_REPLY' });
    wire.script = (r) => [
      ok(r, [
        ['user', 'admin'],
        ['must_change', 'yes'],
      ]),
    ];
    await expect(driver.login('admin', new Secret('Abcdef-1'))).rejects.toMatchObject({ code: 'BAD_REPLY' });
  });

  it('login(), logout(), init(), get(), set(), time()', async () => {
    const { wire, driver } = open();
    wire.script = (r) => {
      switch (r.request?.verb) {
        case 'LOGIN':
          return [
            ok(r, [
              ['user', arg(r, 'user')!],
              ['must_change', 1],
            ]),
          ];
        case 'INIT':
          return [
            ok(r, [
              ['state', 'initialized'],
              ['changed', 1],
            ]),
          ];
        case 'GET':
          return [
            ok(r, [
              ['key', arg(r, 'key')!],
              ['value', 'eth'],
            ]),
          ];
        case 'SET':
          return [
            ok(r, [
              ['key', arg(r, 'key')!],
              ['value', arg(r, 'key') === 'settle.account' ? '****4931' : arg(r, 'value')!],
            ]),
          ];
        case 'TIME':
          return [ok(r, [['utc', arg(r, 'utc') ?? '2024-01-02T03:04:05Z']])];
        default:
          return [ok(r)];
      }
    };
    expect(await driver.login('admin', new Secret('1234'))).toEqual({ user: 'admin', mustChange: true });
    expect(arg(wire.last, 'password')).toBe('1234');
    await driver.logout();
    expect(await driver.init({ merchant: '123456789012345', terminal: '12345678', name: 'Shop 1' })).toEqual({
      state: 'initialized',
      changed: true,
    });
    expect(arg(wire.last, 'name')).toBe('Shop 1');
    expect(await driver.get('net.mode')).toBe('eth');
    expect(await driver.set('host.port', '443')).toBe('443');
    expect(await driver.set('settle.account', 'DE44500105175407324931')).toBe('****4931');
    expect((await driver.time()).toISOString()).toBe('2024-01-02T03:04:05.000Z');
    const when = new Date(Date.UTC(2025, 0, 31, 23, 59, 58, 999));
    expect((await driver.time(when)).toISOString()).toBe('2025-01-31T23:59:58.000Z');
    expect(arg(wire.last, 'utc')).toBe('2025-01-31T23:59:58Z');
  });

  it('operators: userAdd/userSet/userDel/userList', async () => {
    const { wire, driver } = open();
    wire.script = (r) => {
      if (r.request?.verb !== 'USER-LIST') return [ok(r)];
      return [
        data(r, [
          ['id', '01'],
          ['name', 'Initial account'],
          ['perms', 'sale,refund,query,report,settings'],
          ['must_change', 1],
        ]),
        data(r, [
          ['id', '02'],
          ['name', 'Ann'],
          ['perms', 'sale'],
          ['must_change', 0],
        ]),
        ok(r, [['count', 2]]),
      ];
    };
    await driver.userAdd({
      id: '02',
      name: 'Ann',
      perms: ['refund', 'sale'],
      password: new Secret('Op-pass-77'),
    });
    expect(arg(wire.last, 'perms')).toBe('sale,refund');
    await driver.userSet({ id: '02', perms: ['query'] });
    expect(wire.last.request?.args.has('name')).toBe(false);
    await driver.userDel('02');
    expect(await driver.userList()).toEqual([
      {
        id: '01',
        name: 'Initial account',
        perms: ['sale', 'refund', 'query', 'report', 'settings'],
        mustChange: true,
      },
      { id: '02', name: 'Ann', perms: ['sale'], mustChange: false },
    ]);
  });

  it('diag() reports each check once as it arrives and sums up', async () => {
    const { wire, driver } = open();
    wire.script = (r) => {
      const lines = [
        data(r, [
          ['check', 'power'],
          ['status', 'pass'],
          ['ms', 20],
        ]),
        data(r, [
          ['check', 'printer'],
          ['status', 'fail'],
          ['code', 'paper_out'],
          ['hint', 'Load a new roll'],
          ['ms', 50],
        ]),
        ok(r, [
          ['pass', 1],
          ['warn', 0],
          ['fail', 1],
        ]),
      ];
      // The first OK is damaged: the session resends and the terminal replays every line.
      if (wire.received.length === 1) lines[2] = lines[2]!.replace('fail=1', 'fail=9');
      return lines;
    };
    const seen: DiagResult[] = [];
    const summary = await driver.diag(['power', 'printer'], (result) => seen.push(result));
    expect(arg(wire.last, 'checks')).toBe('power,printer');
    expect(wire.received).toHaveLength(2);
    expect(seen.map((s) => s.check)).toEqual(['power', 'printer']);
    expect(summary).toEqual({
      results: [
        { check: 'power', status: 'pass', ms: 20 },
        { check: 'printer', status: 'fail', code: 'paper_out', hint: 'Load a new roll', ms: 50 },
      ],
      pass: 1,
      warn: 0,
      fail: 1,
    });
  });

  it('diag() takes DATA lines without ms= (D51: a terminal SHOULD send it, receivers do not need it)', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [
      data(r, [
        ['check', 'keys'],
        ['status', 'pass'],
      ]),
      ok(r, [
        ['pass', 1],
        ['warn', 0],
        ['fail', 0],
      ]),
    ];
    const summary = await driver.diag(['keys']);
    expect(summary.results).toEqual([{ check: 'keys', status: 'pass' }]);
  });

  it('reset(sn) sends confirm', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [ok(r)];
    await driver.reset('PB00012345');
    expect(arg(wire.last, 'confirm')).toBe('PB00012345');
  });
});

describe('TerminalDriver: refusals', () => {
  it('an ERR becomes a TerminalError with remaining / retryAfter, and LOGIN is never repeated', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [err(r, 401, 'bad-credentials', [['remaining', 1]])];
    const e = await driver.login('admin', new Secret('Wrong-pw1')).catch((x) => x);
    expect(isTerminalError(e, 401)).toBe(true);
    expect(e.remaining).toBe(1);
    expect(wire.received).toHaveLength(1);

    wire.script = (r) => [err(r, 423, 'locked', [['retry_after', 297]])];
    const locked = await driver
      .passwd({ old: new Secret('Old-pw-1'), new: new Secret('New-pw-22') })
      .catch((x) => x);
    expect(isTerminalError(locked, 423)).toBe(true);
    expect(locked.retryAfter).toBe(297);
    expect(wire.received).toHaveLength(2);
  });

  it('checks values before the wire: nothing is sent for a bad one', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [ok(r)];
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => driver.passwd({ old: new Secret('Old-pw-1'), new: new Secret('123456') }), 'WEAK_PASSWORD'],
      [() => driver.passwd({ old: new Secret('Same-pw-1'), new: new Secret('Same-pw-1') }), 'WEAK_PASSWORD'],
      [() => driver.passwd({ new: new Secret('Good-pw-1') }), 'USAGE'],
      [() => driver.login('root', new Secret('x')), 'INVALID_VALUE'],
      [() => driver.login('admin', new Secret('')), 'INVALID_VALUE'],
      [() => driver.init({ merchant: '1234', terminal: '12345678' }), 'INVALID_VALUE'],
      [() => driver.init({ merchant: '123456789012345', terminal: '1234567' }), 'INVALID_VALUE'],
      [
        () => driver.init({ merchant: '123456789012345', terminal: '12345678', name: 'x'.repeat(41) }),
        'INVALID_VALUE',
      ],
      [() => driver.set('host.port', '70000'), 'INVALID_VALUE'],
      [() => driver.set('net.mode', 'carrier-pigeon'), 'INVALID_VALUE'],
      [
        () => driver.userAdd({ id: '1', name: 'A', perms: ['sale'], password: new Secret('Op-pass-77') }),
        'INVALID_VALUE',
      ],
      [
        () => driver.userAdd({ id: '02', name: 'A', perms: ['fly'], password: new Secret('Op-pass-77') }),
        'INVALID_VALUE',
      ],
      [
        () => driver.userAdd({ id: '02', name: 'A', perms: [], password: new Secret('Op-pass-77') }),
        'INVALID_VALUE',
      ],
      [
        () => driver.userAdd({ id: '02', name: 'A', perms: ['sale'], password: new Secret('aaaaaa') }),
        'WEAK_PASSWORD',
      ],
      [() => driver.userDel('100'), 'INVALID_VALUE'],
      [() => driver.diag([]), 'INVALID_VALUE'],
      [() => driver.diag(['power', 'power']), 'INVALID_VALUE'],
      [() => driver.time(new Date(Number.NaN)), 'INVALID_VALUE'],
      // docs/protocol.md D48: hosts never send a time outside 2000-2099, nor an IPv4 part with a leading zero.
      [() => driver.time(new Date(0)), 'INVALID_VALUE'],
      [() => driver.time(new Date(Date.UTC(2100, 0, 1))), 'INVALID_VALUE'],
      [() => driver.set('host.addr', '10.0.0.010'), 'INVALID_VALUE'],
      [() => driver.reset(''), 'INVALID_VALUE'],
    ];
    for (const [call, code] of cases) {
      const e = await call().catch((x) => x);
      expect(isPosbridgeError(e, code as never), `${code}: ${e}`).toBe(true);
    }
    await flush();
    expect(wire.received).toHaveLength(0);
  });

  it('the admin sets an operator password without old; the policy still applies', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [ok(r)];
    await driver.passwd({ user: '02', new: new Secret('Op-new-pw9'), old: new Secret('ignored') });
    expect(wire.last.request?.args.has('old')).toBe(false);
    expect(arg(wire.last, 'user')).toBe('02');
  });

  it('a secret setting travels masked in the trace even when given as a string', async () => {
    const trace = createMemoryTrace();
    const wire = new Wire();
    const driver = new TerminalDriver(new Session(wire.transport, { logger: silentLogger, trace }));
    wire.script = (r) => [
      ok(r, [
        ['key', 'settle.account'],
        ['value', '****4931'],
      ]),
    ];
    await driver.set('settle.account', 'DE44500105175407324931');
    expect(trace.text()).not.toContain('DE44500105175407324931');
  });
});

describe('TerminalDriver: reboot()', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves once EVT boot arrives after the OK', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [ok(r)];
    let done = false;
    const rebooting = driver.reboot().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(done).toBe(false);
    wire.send(encodeEvent('boot', [['sn', 'PB1']], true));
    await rebooting;
    expect(wire.received).toHaveLength(1);
  });

  it('counts a lost OK followed by EVT boot as success, without sending REBOOT again', async () => {
    const { wire, driver } = open();
    wire.script = () => [];
    const rebooting = driver.reboot();
    await vi.advanceTimersByTimeAsync(500);
    wire.send(encodeEvent('boot', [], true));
    await vi.advanceTimersByTimeAsync(10_000);
    await rebooting;
    expect(wire.received).toHaveLength(1);
  });

  it('fails with TIMEOUT when the terminal does not come back in time', async () => {
    const { wire, driver } = open(3000);
    wire.script = (r) => [ok(r)];
    const rebooting = driver.reboot().catch((e) => e);
    await vi.advanceTimersByTimeAsync(3000);
    expect(await rebooting).toMatchObject({ code: 'TIMEOUT' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails with DISCONNECTED when the link goes away while it waits', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [ok(r)];
    const rebooting = driver.reboot().catch((e) => e);
    await vi.advanceTimersByTimeAsync(100);
    wire.peer.close();
    expect(await rebooting).toMatchObject({ code: 'DISCONNECTED' });
  });
});

describe('TerminalDriver.open', () => {
  it('opens through the registry (a registered scheme) and closes the transport', async () => {
    const peers: string[] = [];
    const registry = new PortRegistry().register(
      'mock',
      memoryPortFactory((name, peer) => {
        peers.push(name);
        peer.onReceive(() => {});
      }),
    );
    const driver = await TerminalDriver.open('mock://bench?diag-fail=printer:paper_out', {
      registry,
      logger: silentLogger,
    });
    expect(peers).toEqual(['mock://bench?diag-fail=printer:paper_out']);
    expect(driver.name).toBe('mock://bench?diag-fail=printer:paper_out');
    const closes: string[] = [];
    driver.onClose((e) => closes.push(e.code));
    await driver.close();
    expect(closes).toEqual(['CLOSED']);
  });

  it('passes on the open error', async () => {
    const registry = new PortRegistry();
    await expect(TerminalDriver.open('nope://x', { registry, logger: silentLogger })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});
