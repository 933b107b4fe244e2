import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { isPosbridgeError, isTerminalError, PosbridgeError } from '../../src/host/errors.js';
import { Secret } from '../../src/host/secret.js';
import { MAX_REQUEST_ID, Session, type SessionOptions, type TerminalEvent } from '../../src/host/session.js';
import { createFileTrace, createMemoryTrace } from '../../src/host/trace.js';
import { appendCrc, encodeData, encodeErr, encodeEvent, encodeOk } from '../../src/protocol/index.js';
import { flush, type Received, silentLogger, Wire } from './daemon-wire.helper.js';

const ok = (r: Received, fields: Array<[string, string | number]> = []) =>
  encodeOk({ id: r.request?.id, crc: true }, fields);
const data = (r: Received, fields: Array<[string, string | number]>) =>
  encodeData({ id: r.request?.id, crc: true }, fields);
const err = (
  r: Received,
  code: number,
  reason: Parameters<typeof encodeErr>[2],
  extra: Array<[string, string | number]> = [],
) => encodeErr({ id: r.request?.id, crc: true }, code, reason, extra);
const evt = (name: string, fields: Array<[string, string]> = []) => encodeEvent(name, fields, true);

function open(options: Partial<SessionOptions> = {}) {
  const wire = new Wire();
  const session = new Session(wire.transport, { logger: silentLogger, random: () => 0, ...options });
  return { wire, session };
}

/** Captures a promise's rejection without leaving it unhandled while timers advance. */
function settle<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(state, { value, done: true }),
    (error) => Object.assign(state, { error, done: true }),
  );
  return state;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Session: requests and correlation', () => {
  it('sends each request with an ID, a CRC and CRLF, and resolves with the OK fields', async () => {
    const { wire, session } = open();
    wire.script = (r) => [
      ok(r, [
        ['proto', 1],
        ['sn', 'PB1'],
      ]),
    ];
    const reply = await session.request('HELLO', { proto: 1 });
    expect(wire.lines).toEqual([appendCrc('@1 HELLO proto=1')]);
    expect(reply).toEqual({ id: '1', verb: 'HELLO', fields: { proto: '1', sn: 'PB1' }, data: [] });
  });

  it('starts IDs from the random source and wraps within 1..99999999', async () => {
    const { wire, session } = open({ random: () => 0.9999999999 });
    wire.script = (r) => [ok(r)];
    await session.request('LOGOUT');
    await session.request('LOGOUT');
    expect(wire.received.map((r) => r.request?.id)).toEqual([String(MAX_REQUEST_ID), '1']);

    const other = open({ random: () => 0.5 });
    other.wire.script = (r) => [ok(r)];
    await other.session.request('LOGOUT');
    expect(other.wire.last.request?.id).toBe('50000000');
  });

  it('keeps one request in flight and sends the queue in order', async () => {
    const { wire, session } = open();
    const first = session.request('STATUS');
    const second = session.request('LOGOUT');
    const third = session.request('HELLO');
    await flush();
    expect(wire.lines).toHaveLength(1);
    wire.script = (r) => [ok(r, [['n', r.request!.verb]])];
    wire.send(ok(wire.last, [['n', 'STATUS']]));
    expect((await first).fields.n).toBe('STATUS');
    expect((await second).fields.n).toBe('LOGOUT');
    expect((await third).fields.n).toBe('HELLO');
    expect(wire.received.map((r) => r.request?.verb)).toEqual(['STATUS', 'LOGOUT', 'HELLO']);
    expect(wire.received.map((r) => r.request?.id)).toEqual(['1', '2', '3']);
  });

  it('ignores replies to other IDs', async () => {
    const { wire, session } = open();
    wire.script = (r) => [encodeOk({ id: '4242', crc: true }, [['stale', '1']]), ok(r, [['mine', '1']])];
    const reply = await session.request('STATUS');
    expect(reply.fields).toEqual({ mine: '1' });
  });

  it('collects DATA lines and dispatches EVT lines that arrive between them', async () => {
    const { wire, session } = open();
    const order: string[] = [];
    session.onEvent((e) => order.push(`evt ${e.name} ${e.fields.state}`));
    wire.script = (r) => [
      data(r, [['id', '01']]),
      evt('state', [['state', 'initialized']]),
      data(r, [['id', '02']]),
      ok(r, [['count', 2]]),
    ];
    const reply = await session.request('USER-LIST', {}, { onData: (d) => order.push(`data ${d.id}`) });
    expect(reply.data).toEqual([{ id: '01' }, { id: '02' }]);
    expect(order).toEqual(['data 01', 'evt state initialized', 'data 02']);
  });

  it('dispatches events when nothing is in flight, and survives a throwing listener', async () => {
    const { wire, session } = open();
    const events: TerminalEvent[] = [];
    session.onEvent(() => {
      throw new Error('listener bug');
    });
    const off = session.onEvent((e) => events.push(e));
    wire.send(evt('lockout', [['retry_after', '300']]));
    await flush();
    off();
    wire.send(evt('boot'));
    await flush();
    expect(events.map((e) => [e.name, e.fields])).toEqual([['lockout', { retry_after: '300' }]]);
  });

  it('rejects an ERR with a TerminalError holding every field, and sends it once', async () => {
    const { wire, session } = open();
    wire.script = (r) => [err(r, 401, 'bad-credentials', [['remaining', 2]])];
    const error = await session
      .request('LOGIN', { user: 'admin', password: new Secret('wrong-one') })
      .catch((e) => e);
    expect(isTerminalError(error, 401, 'bad-credentials')).toBe(true);
    expect(error.remaining).toBe(2);
    expect(error.fields).toEqual({ code: '401', reason: 'bad-credentials', remaining: '2' });
    expect(String(error.message)).not.toContain('wrong-one');
    expect(wire.lines).toHaveLength(1);
  });

  it('checks arguments against the command table and the 512-byte limit before sending', async () => {
    const { wire, session } = open();
    await expect(session.request('GET', {})).rejects.toMatchObject({ code: 'USAGE' });
    await expect(session.request('GET', { key: 'a', bogus: 'x' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(session.request('SET', { key: 'net.apn', value: 'x'.repeat(600) })).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    });
    await flush();
    expect(wire.lines).toEqual([]);
  });
});

describe('Session: retransmission (same ID, same bytes)', () => {
  it('retransmits the identical line after a timeout, then succeeds', async () => {
    const { wire, session } = open({ timeoutMs: 1000 });
    let calls = 0;
    wire.script = (r) => (++calls === 2 ? [ok(r)] : []);
    const result = settle(session.request('LOGIN', { user: 'admin', password: new Secret('s3cret-Pw') }));
    await vi.advanceTimersByTimeAsync(999);
    expect(wire.lines).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(wire.lines).toHaveLength(2);
    expect(wire.lines[1]).toBe(wire.lines[0]);
    expect(result.done && result.value).toBeTruthy();
  });

  it('gives up after the bounded retransmissions with TIMEOUT (exit 3), the wait doubling at each', async () => {
    const { wire, session } = open({ timeoutMs: 500, maxRetransmits: 3 });
    const result = settle(session.request('STATUS'));
    await flush();
    const sentAt: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 200 && !result.done; i++) {
      const before = wire.lines.length;
      await vi.advanceTimersByTimeAsync(50);
      if (wire.lines.length > before) sentAt.push(Date.now() - start);
    }
    // Waits of 500, 1000, 2000 and 2000 ms (4 x the timeout at most); random 0: no jitter.
    expect([0, ...sentAt]).toEqual([0, 500, 1500, 3500]);
    expect(Date.now() - start).toBe(5500);
    expect(wire.lines).toHaveLength(4);
    expect(new Set(wire.lines).size).toBe(1);
    expect(result.error).toBeInstanceOf(PosbridgeError);
    expect((result.error as PosbridgeError).code).toBe('TIMEOUT');
    expect(exitCodeFor(result.error)).toBe(3);
  });

  it('draws the jitter of each longer wait from the injected random source', async () => {
    // The first draw picks the first ID; the next ones, one per timeout, the jitter.
    const draws = [0, 0.5, 0.25, 0];
    const { wire, session } = open({ timeoutMs: 400, maxRetransmits: 3, random: () => draws.shift() ?? 0 });
    const result = settle(session.request('STATUS'));
    await flush();
    const sentAt: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 1000 && !result.done; i++) {
      const before = wire.lines.length;
      await vi.advanceTimersByTimeAsync(10);
      if (wire.lines.length > before) sentAt.push(Date.now() - start);
    }
    // 400, then 800 + 50 (0.5 x 800/8), 1600 + 50 (0.25 x 1600/8), 1600 + 0.
    expect(sentAt).toEqual([400, 1250, 2900]);
    expect(Date.now() - start).toBe(4500);
    expect(isPosbridgeError(result.error, 'TIMEOUT')).toBe(true);
  });

  it('a terminal slower than the timeout never piles up replays: one resend per request at most', async () => {
    // A serial terminal answers one line at a time, each 150 ms after it starts on it, replays
    // included; the reply timeout is 100 ms. Without backoff each request drew a resend every
    // 100 ms, whose replays queued in front of the next request until the third request ran out
    // of resends (TIMEOUT). With it: one resend, answered within the longer wait.
    const { wire, session } = open({ timeoutMs: 100, maxRetransmits: 3, random: () => 0.5 });
    const queue: Received[] = [];
    let busy = false;
    let deepest = 0;
    const next = (): void => {
      const line = queue.shift();
      busy = line !== undefined;
      if (!line) return;
      setTimeout(() => {
        wire.send(ok(line, [['n', line.request!.id!]]));
        next();
      }, 150);
    };
    wire.script = (r) => {
      queue.push(r);
      deepest = Math.max(deepest, queue.length);
      if (!busy) next();
      return [];
    };
    const results: Array<ReturnType<typeof settle>> = [];
    for (let i = 0; i < 20; i++) results.push(settle(session.request('STATUS')));
    for (let i = 0; i < 400 && !results.every((r) => r.done); i++) await vi.advanceTimersByTimeAsync(50);
    expect(results.map((r) => (r.error as PosbridgeError | undefined)?.code ?? 'ok')).toEqual(
      Array(20).fill('ok'),
    );
    const sends = new Map<string, number>();
    for (const r of wire.received) sends.set(r.request!.id!, (sends.get(r.request!.id!) ?? 0) + 1);
    expect(Math.max(...sends.values())).toBe(2);
    // The terminal's backlog stays flat: the previous request's replay and the new request.
    expect(deepest).toBeLessThanOrEqual(2);
  });

  it('uses the slow timeout for DIAG, restarted by every DATA and EVT line', async () => {
    const { wire, session } = open({ timeoutMs: 100, slowTimeoutMs: 1000 });
    const result = settle(session.request('DIAG'));
    await flush();
    const r = wire.last;
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(900);
      wire.send(
        data(r, [
          ['check', `c${i}`],
          ['status', 'pass'],
        ]),
      );
      await vi.advanceTimersByTimeAsync(900);
      wire.send(evt('heartbeat'));
    }
    wire.send(
      ok(r, [
        ['pass', 3],
        ['warn', 0],
        ['fail', 0],
      ]),
    );
    await flush();
    expect(wire.lines).toHaveLength(1);
    expect(result.value?.data).toHaveLength(3);
  });

  it('retransmits at once when the reply fails its CRC', async () => {
    const { wire, session } = open();
    let calls = 0;
    wire.script = (r) => {
      if (++calls > 1) return [ok(r, [['fine', '1']])];
      const good = ok(r, [['fine', '1']]);
      return [`${good.slice(0, -4)}${good.endsWith('0000') ? '1111' : '0000'}`];
    };
    const reply = await session.request('STATUS');
    expect(reply.fields).toEqual({ fine: '1' });
    expect(wire.lines).toHaveLength(2);
    expect(wire.lines[1]).toBe(wire.lines[0]);
  });

  it('retransmits when an unreadable line arrives, or a reply line lacks its CRC', async () => {
    const { wire, session } = open();
    let calls = 0;
    wire.script = (r) => {
      calls++;
      if (calls === 1) return ['\x00\xff garbage'];
      if (calls === 2) return [`@${r.request?.id} OK`];
      return [ok(r)];
    };
    await session.request('LOGOUT');
    expect(wire.lines).toHaveLength(3);
  });

  it('takes an ID-less 413 as the answer to the line it just sent: TerminalError 413, not resent (D50)', async () => {
    const { wire, session } = open();
    wire.script = () => [encodeErr({ crc: false }, 413, 'line-too-long', [['msg', 'line of 513 bytes']])];
    const state = settle(session.request('LOGOUT'));
    await flush(50);
    expect(wire.lines).toHaveLength(1);
    expect(state.done).toBe(true);
    expect(isTerminalError(state.error, 413, 'line-too-long')).toBe(true);
    expect(exitCodeFor(state.error)).toBe(1);
  });

  it('completes a DIAG from the replay when the OK line was damaged (no duplicate DATA)', async () => {
    const { wire, session } = open();
    let calls = 0;
    wire.script = (r) => {
      const lines = [
        data(r, [
          ['check', 'power'],
          ['status', 'pass'],
        ]),
        data(r, [
          ['check', 'clock'],
          ['status', 'warn'],
          ['code', 'not_set'],
        ]),
        ok(r, [
          ['pass', 1],
          ['warn', 1],
          ['fail', 0],
        ]),
      ];
      if (++calls === 1) lines[2] = lines[2]!.replace('pass=1', 'pass=7'); // CRC no longer matches
      return lines;
    };
    const seen: string[] = [];
    const reply = await session.request('DIAG', {}, { onData: (d) => seen.push(d.check!) });
    expect(wire.lines).toHaveLength(2);
    expect(reply.data.map((d) => d.check)).toEqual(['power', 'clock']);
    expect(seen).toEqual(['power', 'clock', 'power', 'clock']);
  });

  it('does not accept an OK that lost a DATA line: resends and takes the replay', async () => {
    const { wire, session } = open();
    let calls = 0;
    wire.script = (r) => {
      const lines = [data(r, [['id', '01']]), data(r, [['id', '02']]), ok(r, [['count', 2]])];
      if (++calls === 1) lines.splice(1, 1); // a DATA line vanished without a trace
      return lines;
    };
    const reply = await session.request('USER-LIST');
    expect(wire.lines).toHaveLength(2);
    expect(reply.data.map((d) => d.id)).toEqual(['01', '02']);
  });

  it('takes the original reply when it was only slow, ignoring the replay that follows', async () => {
    const { wire, session } = open({ timeoutMs: 100 });
    const result = settle(session.request('STATUS'));
    await vi.advanceTimersByTimeAsync(100);
    expect(wire.lines).toHaveLength(2);
    const r = wire.last;
    wire.send(ok(r, [['n', '1']]), ok(r, [['n', '1']]));
    await flush();
    expect(result.value?.fields).toEqual({ n: '1' });
    // The second (replayed) OK is not taken as the reply to the next request.
    const next = settle(session.request('LOGOUT'));
    await flush();
    expect(next.done).toBe(false);
    wire.send(ok(wire.last));
    await flush();
    expect(next.done).toBe(true);
  });
});

describe('Session: 503 busy / not-ready', () => {
  it('resends after a backoff and succeeds', async () => {
    const { wire, session } = open({ busyBackoffMs: 200 });
    let calls = 0;
    wire.script = (r) => (++calls === 1 ? [err(r, 503, 'busy')] : [ok(r)]);
    const result = settle(session.request('STATUS'));
    await vi.advanceTimersByTimeAsync(199);
    expect(wire.lines).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(wire.lines).toHaveLength(2);
    expect(wire.lines[1]).toBe(wire.lines[0]);
    expect(result.done).toBe(true);
    expect(result.error).toBeUndefined();
  });

  it('backs off exponentially up to a cap, and gives up with the 503 (exit 3)', async () => {
    const { wire, session } = open({ busyRetries: 4, busyBackoffMs: 100, busyBackoffMaxMs: 300 });
    wire.script = (r) => [err(r, 503, 'not-ready')];
    const result = settle(session.request('STATUS'));
    await flush();
    expect(wire.lines).toHaveLength(1);
    const times: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 40 && !result.done; i++) {
      const before = wire.lines.length;
      await vi.advanceTimersByTimeAsync(50);
      if (wire.lines.length > before) times.push(Date.now() - start);
    }
    expect(times).toEqual([100, 300, 600, 900]);
    expect(wire.lines).toHaveLength(5);
    expect(isTerminalError(result.error, 503)).toBe(true);
    expect(exitCodeFor(result.error)).toBe(3);
  });

  it('resends at once when EVT boot ends the not-ready window', async () => {
    const { wire, session } = open({ busyBackoffMs: 5000 });
    let calls = 0;
    wire.script = (r) => (++calls === 1 ? [err(r, 503, 'not-ready'), evt('boot')] : [ok(r)]);
    const reply = await session.request('STATUS');
    expect(reply.id).toBe('1');
    expect(wire.lines).toHaveLength(2);
  });
});

describe('Session: reboot and disconnect', () => {
  it('never resends a request that may have run before EVT boot: REBOOTED (exit 3)', async () => {
    const { wire, session } = open({ timeoutMs: 1000 });
    wire.script = () => [evt('boot')];
    const result = settle(
      session.request('PASSWD', { old: new Secret('Old-pass1'), new: new Secret('New-pass2') }),
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(wire.lines).toHaveLength(1);
    expect(isPosbridgeError(result.error, 'REBOOTED')).toBe(true);
    expect(exitCodeFor(result.error)).toBe(3);
  });

  it('still takes the reply when it arrives after EVT boot', async () => {
    const { wire, session } = open();
    wire.script = (r) => [
      evt('boot'),
      ok(r, [
        ['user', 'admin'],
        ['must_change', 0],
      ]),
    ];
    const reply = await session.request('LOGIN', { user: 'admin', password: new Secret('Right-pw1') });
    expect(reply.fields.user).toBe('admin');
  });

  it('fails the pending AND the queued requests at once when the link goes away', async () => {
    const { wire, session } = open();
    const closes: PosbridgeError[] = [];
    session.onClose((e) => closes.push(e));
    const pending = settle(session.request('STATUS'));
    const queued = settle(session.request('LOGOUT'));
    await flush();
    wire.peer.close();
    await flush();
    expect(isPosbridgeError(pending.error, 'DISCONNECTED')).toBe(true);
    expect(isPosbridgeError(queued.error, 'DISCONNECTED')).toBe(true);
    expect(exitCodeFor(pending.error)).toBe(3);
    expect(closes.map((e) => e.code)).toEqual(['DISCONNECTED']);
    expect(session.closed).toBe(true);
    // Nothing hangs afterwards, nothing is resent, later requests fail at once.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(wire.lines).toHaveLength(1);
    await expect(session.request('HELLO')).rejects.toMatchObject({ code: 'DISCONNECTED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() fails everything pending with CLOSED and closes the transport', async () => {
    const { wire, session } = open();
    const pending = settle(session.request('STATUS'));
    await flush();
    await session.close();
    expect(isPosbridgeError(pending.error, 'CLOSED')).toBe(true);
    expect(wire.transport.closed).toBe(true);
    await session.close();
  });
});

describe('Session: trace and logs never hold a secret', () => {
  it('writes both directions, timestamped, with passwords and the settlement account masked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posbridge-trace-'));
    const path = join(dir, 'wire.trace');
    const trace = createFileTrace(path);
    const logged: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk, _encoding, done) {
          logged.push(String(chunk));
          done();
        },
      }),
    );
    const { wire, session } = open({
      trace,
      logger,
      clock: { now: () => Date.UTC(2024, 4, 1, 9, 30, 0, 123) },
    });
    wire.script = (r) => {
      if (r.request?.verb === 'SET')
        return [
          ok(r, [
            ['key', 'settle.account'],
            ['value', '****6789'],
          ]),
        ];
      if (wire.received.length === 1) return ['@1 ERR code=400 password=Tr4ce-Secret! garbage \x01'];
      return [
        ok(r, [
          ['user', 'admin'],
          ['must_change', 0],
        ]),
      ];
    };
    await session.request('LOGIN', { user: 'admin', password: new Secret('Tr4ce-Secret!') });
    await session.request('SET', { key: 'settle.account', value: new Secret('DE44500105175407324931') });
    await trace.close();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('Tr4ce-Secret!');
    expect(text).not.toContain('DE44500105175407324931');
    expect(logged.join('')).not.toContain('Tr4ce-Secret!');
    expect(logged.join('')).not.toContain('DE44500105175407324931');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^2024-05-01T09:30:00\.123Z > @1 LOGIN user=admin password="\*\*\*" \*[0-9A-F]{4}$/,
    );
    expect(lines[1]).toMatch(/^2024-05-01T09:30:00\.123Z < @1 ERR code=400 password=\*\*\* garbage \\x01$/);
    expect(lines.filter((l) => l.includes(' > '))).toHaveLength(3);
    expect(text).toContain('SET key=settle.account value="***"');
    expect(text).toContain('< @2 OK key=settle.account value="****6789"');
  });

  it('records in memory through the same masking', async () => {
    const trace = createMemoryTrace();
    const { wire, session } = open({ trace });
    wire.script = (r) => [ok(r)];
    await session.request('USER-ADD', {
      id: '02',
      name: 'Ann',
      perms: 'sale',
      password: new Secret('Op-pass-77'),
    });
    expect(trace.text()).not.toContain('Op-pass-77');
    expect(trace.records.map((r) => r.direction)).toEqual(['>', '<']);
  });
});
