import { describe, expect, it } from 'vitest';
import {
  Exchange,
  type ExchangeAction,
  type ExchangeConfig,
  retransmitWaitMs,
} from '../../src/host/exchange.js';

const config = (over: Partial<ExchangeConfig> = {}): ExchangeConfig => ({
  timeoutMs: 1000,
  maxRetransmits: 2,
  busyRetries: 2,
  busyBackoffMs: (n) => 100 * n,
  ...over,
});

const types = (actions: ExchangeAction[]) =>
  actions.map((a) => (a.type === 'send' ? `send:${a.resend ?? 'first'}` : a.type));
const failure = (actions: ExchangeAction[]) =>
  actions.find((a) => a.type === 'fail') as Extract<ExchangeAction, { type: 'fail' }>;

function started(over: Partial<ExchangeConfig> = {}) {
  const ex = new Exchange(config(over));
  expect(types(ex.handle({ type: 'start' }))).toEqual(['send:first', 'arm']);
  return ex;
}

describe('Exchange transitions', () => {
  it('idle -> awaiting -> done on OK', () => {
    const ex = started();
    expect(ex.phase).toBe('awaiting');
    const actions = ex.handle({ type: 'ok', fields: { a: '1' } });
    expect(actions).toEqual([{ type: 'disarm' }, { type: 'resolve', fields: { a: '1' }, data: [] }]);
    expect(ex.phase).toBe('done');
    expect(ex.handle({ type: 'timeout' })).toEqual([]);
  });

  it('timeouts retransmit up to the bound, then fail with timeout', () => {
    const ex = started();
    expect(types(ex.handle({ type: 'timeout' }))).toEqual(['send:timeout', 'arm']);
    expect(types(ex.handle({ type: 'timeout' }))).toEqual(['send:timeout', 'arm']);
    const last = ex.handle({ type: 'timeout' });
    expect(failure(last).reason).toBe('timeout');
    expect(ex.sends).toBe(3);
  });

  it('damaged lines retransmit; once exhausted they wait for a pending replay, then fail with their kind', () => {
    const ex = started({ maxRetransmits: 1 });
    expect(types(ex.handle({ type: 'damaged', kind: 'bad-crc', detail: 'x' }))).toEqual([
      'send:bad-crc',
      'arm',
    ]);
    expect(types(ex.handle({ type: 'damaged', kind: 'bad-crc', detail: 'x' }))).toEqual(['arm']);
    expect(failure(ex.handle({ type: 'timeout' })).reason).toBe('bad-crc');

    const saved = started({ maxRetransmits: 1 });
    saved.handle({ type: 'damaged', kind: 'unreadable', detail: 'x' });
    saved.handle({ type: 'damaged', kind: 'unreadable', detail: 'x' });
    expect(types(saved.handle({ type: 'ok', fields: {} }))).toEqual(['disarm', 'resolve']);
  });

  it('400/460 resend; exhausted, the ERR is reported as refused with its fields', () => {
    const ex = started({ maxRetransmits: 1 });
    expect(types(ex.handle({ type: 'err', fields: { code: '460', reason: 'bad-crc' } }))).toEqual([
      'send:not-read',
      'arm',
    ]);
    expect(types(ex.handle({ type: 'err', fields: { code: '460', reason: 'bad-crc' } }))).toEqual(['arm']);
    const fail = failure(ex.handle({ type: 'timeout' }));
    expect(fail.reason).toBe('refused');
    expect(fail.fields).toEqual({ code: '460', reason: 'bad-crc' });
  });

  it('a 413 (no ID: the answer to the line just sent) ends the exchange at once, not resent (D50)', () => {
    const ex = started();
    const fail = failure(ex.handle({ type: 'err', fields: { code: '413', reason: 'line-too-long' } }));
    expect(fail.reason).toBe('refused');
    expect(fail.fields).toEqual({ code: '413', reason: 'line-too-long' });
    expect(ex.sends).toBe(1);
  });

  it('other ERRs end the exchange at once', () => {
    const ex = started();
    const fail = failure(
      ex.handle({ type: 'err', fields: { code: '423', reason: 'locked', retry_after: '30' } }),
    );
    expect(fail.reason).toBe('refused');
    expect(ex.sends).toBe(1);
  });

  it('503 -> backoff -> resend; bounded', () => {
    const ex = started();
    expect(ex.handle({ type: 'err', fields: { code: '503', reason: 'busy' } })).toEqual([
      { type: 'disarm' },
      { type: 'backoff', ms: 100 },
    ]);
    expect(ex.phase).toBe('backoff');
    expect(ex.handle({ type: 'timeout' })).toEqual([]);
    expect(types(ex.handle({ type: 'backoff-elapsed' }))).toEqual(['send:busy', 'arm']);
    expect(ex.handle({ type: 'err', fields: { code: '503', reason: 'busy' } })[1]).toEqual({
      type: 'backoff',
      ms: 200,
    });
    ex.handle({ type: 'backoff-elapsed' });
    expect(failure(ex.handle({ type: 'err', fields: { code: '503', reason: 'busy' } })).reason).toBe('busy');
  });

  it('EVT boot while awaiting: no resend afterwards (reboot-lost), but a late reply still counts', () => {
    const ex = started();
    expect(types(ex.handle({ type: 'event', name: 'boot' }))).toEqual(['arm']);
    expect(failure(ex.handle({ type: 'timeout' })).reason).toBe('reboot-lost');

    const other = started();
    other.handle({ type: 'event', name: 'boot' });
    expect(types(other.handle({ type: 'ok', fields: {} }))).toEqual(['disarm', 'resolve']);
  });

  it('EVT boot during a backoff resends at once if nothing of ours may have run', () => {
    const ex = started();
    ex.handle({ type: 'err', fields: { code: '503', reason: 'not-ready' } });
    expect(types(ex.handle({ type: 'event', name: 'boot' }))).toEqual(['disarm', 'send:busy', 'arm']);
  });

  it('EVT boot during a backoff fails if an earlier line may have run (no double execution)', () => {
    const ex = started();
    ex.handle({ type: 'timeout' }); // the first line may have run, its reply lost
    ex.handle({ type: 'err', fields: { code: '503', reason: 'not-ready' } });
    expect(failure(ex.handle({ type: 'event', name: 'boot' })).reason).toBe('reboot-lost');
  });

  it('a "not run" answer after EVT boot makes resending safe again', () => {
    const ex = started();
    ex.handle({ type: 'event', name: 'boot' });
    expect(types(ex.handle({ type: 'err', fields: { code: '460', reason: 'bad-crc' } }))).toEqual([
      'send:not-read',
      'arm',
    ]);
  });

  it('other events restart the reply timer', () => {
    const ex = started();
    expect(ex.handle({ type: 'event', name: 'state' })).toEqual([{ type: 'arm', ms: 1000 }]);
  });

  it('an OK with fewer DATA lines than announced is not accepted; the replay completes it', () => {
    const ex = started({ expectedData: (ok) => Number(ok.count) });
    ex.handle({ type: 'data', fields: { id: '01' } });
    expect(types(ex.handle({ type: 'ok', fields: { count: '2' } }))).toEqual(['send:incomplete', 'arm']);
    ex.handle({ type: 'data', fields: { id: '01' } });
    ex.handle({ type: 'data', fields: { id: '02' } });
    const done = ex.handle({ type: 'ok', fields: { count: '2' } });
    expect(done[1]).toEqual({ type: 'resolve', fields: { count: '2' }, data: [{ id: '01' }, { id: '02' }] });
  });

  it('after a retransmission, the original reply finishing first is complete and accepted', () => {
    const ex = started({ expectedData: (ok) => Number(ok.count) });
    ex.handle({ type: 'data', fields: { id: '01' } });
    ex.handle({ type: 'timeout' }); // resend while the original is still under way
    ex.handle({ type: 'data', fields: { id: '02' } });
    // Original OK: only D2 collected since the resend -> incomplete, wait for the replay.
    expect(types(ex.handle({ type: 'ok', fields: { count: '2' } }))).toEqual(['arm']);
    ex.handle({ type: 'data', fields: { id: '01' } }); // the replay
    ex.handle({ type: 'data', fields: { id: '02' } });
    expect(types(ex.handle({ type: 'ok', fields: { count: '2' } }))).toEqual(['disarm', 'resolve']);
  });

  it('disconnect and close end the exchange in any phase', () => {
    const ex = started();
    expect(failure(ex.handle({ type: 'disconnected', detail: 'unplugged' })).reason).toBe('disconnected');
    const backoff = started();
    backoff.handle({ type: 'err', fields: { code: '503', reason: 'busy' } });
    expect(failure(backoff.handle({ type: 'closed', detail: 'bye' })).reason).toBe('closed');
  });
});

describe('Exchange: the reply wait backs off at each timeout (issue 9, item 8)', () => {
  const arms = (actions: ExchangeAction[]) =>
    actions.filter((a) => a.type === 'arm').map((a) => (a as { ms: number }).ms);

  it('each timeout resends and waits as retransmitWaitMs says; DATA and EVT restart that longer wait', () => {
    const ex = started({ maxRetransmits: 3, retransmitWaitMs: (n) => 1000 * 2 ** n });
    expect(arms(ex.handle({ type: 'timeout' }))).toEqual([2000]);
    expect(arms(ex.handle({ type: 'event', name: 'state' }))).toEqual([2000]);
    expect(arms(ex.handle({ type: 'timeout' }))).toEqual([4000]);
    expect(arms(ex.handle({ type: 'data', fields: { id: '01' } }))).toEqual([4000]);
    expect(arms(ex.handle({ type: 'timeout' }))).toEqual([8000]);
    const fail = failure(ex.handle({ type: 'timeout' }));
    expect(fail.reason).toBe('timeout');
    expect(fail.detail).toContain('no reply within 8000 ms');
    expect(ex.timeouts).toBe(3);
  });

  it('a resend for a damaged line or a "not read" answer keeps the wait (the terminal did answer)', () => {
    const ex = started({ maxRetransmits: 3, retransmitWaitMs: (n) => 1000 * 2 ** n });
    expect(arms(ex.handle({ type: 'damaged', kind: 'bad-crc', detail: 'x' }))).toEqual([1000]);
    expect(arms(ex.handle({ type: 'err', fields: { code: '460', reason: 'bad-crc' } }))).toEqual([1000]);
    expect(arms(ex.handle({ type: 'timeout' }))).toEqual([2000]);
  });
});

describe('retransmitWaitMs', () => {
  const none = () => 0;
  it('doubles at each timeout up to 4 x the reply timeout', () => {
    expect([1, 2, 3, 4].map((n) => retransmitWaitMs(100, n, 8000, none))).toEqual([200, 400, 400, 400]);
    expect([1, 2, 3].map((n) => retransmitWaitMs(2000, n, 8000, none))).toEqual([4000, 8000, 8000]);
  });

  it('is capped at maxMs, but never below the reply timeout itself (a slow DIAG)', () => {
    expect([1, 2, 3].map((n) => retransmitWaitMs(5000, n, 8000, none))).toEqual([8000, 8000, 8000]);
    expect([1, 2, 3].map((n) => retransmitWaitMs(15_000, n, 8000, none))).toEqual([15_000, 15_000, 15_000]);
  });

  it('adds a jitter of up to an eighth, from the random source given', () => {
    expect(retransmitWaitMs(1000, 1, 8000, () => 0.5)).toBe(2125);
    expect(retransmitWaitMs(1000, 2, 8000, () => 0.999_999)).toBe(4499);
    const draws: number[] = [];
    for (let i = 0; i < 200; i++) draws.push(retransmitWaitMs(1000, 1, 8000, Math.random));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...draws)).toBeLessThan(2250);
  });
});
