/**
 * Work the session does not do on the hot path (issue 12): no masked copy of each line for a debug
 * log nobody reads, and one reply timer per request however many DATA lines restart it.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Secret } from '../../src/host/secret.js';
import { Session, type SessionOptions } from '../../src/host/session.js';
import type { Timers } from '../../src/protocol/index.js';
import { encodeData, encodeOk } from '../../src/protocol/index.js';
import { flush, type Received, Wire } from './daemon-wire.helper.js';

const ok = (r: Received, fields: Array<[string, string | number]> = []) =>
  encodeOk({ id: r.request?.id, crc: true }, fields);
const data = (r: Received, fields: Array<[string, string | number]>) =>
  encodeData({ id: r.request?.id, crc: true }, fields);

function loggerAt(level: string) {
  const logged: string[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, logged };
}

function open(options: Partial<SessionOptions> & Pick<SessionOptions, 'logger'>) {
  const wire = new Wire();
  const session = new Session(wire.transport, { random: () => 0, ...options });
  wire.script = (r) => [ok(r, [['user', 'admin']])];
  return { wire, session };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Session: logging at disabled levels costs nothing', () => {
  it('at info, no debug call is made for the lines sent and received (their masking is not built)', async () => {
    const { logger } = loggerAt('info');
    const debug = vi.fn();
    logger.debug = debug;
    const { session } = open({ logger });
    await session.request('LOGIN', { user: 'admin', password: new Secret('Not-Logged-1') });
    expect(debug).not.toHaveBeenCalled();
  });

  it('at debug, both lines are still logged, masked', async () => {
    const { logger, logged } = loggerAt('debug');
    const { session } = open({ logger });
    await session.request('LOGIN', { user: 'admin', password: new Secret('Not-Logged-1') });
    const lines = logged.map((l) => JSON.parse(l) as { msg: string; line?: string });
    expect(lines.filter((l) => l.msg === '>').map((l) => l.line)).toEqual([
      expect.stringMatching(/^@1 LOGIN user=admin password="\*\*\*" \*[0-9A-F]{4}$/),
    ]);
    expect(lines.filter((l) => l.msg === '<').map((l) => l.line)).toEqual([
      expect.stringMatching(/^@1 OK user=admin \*[0-9A-F]{4}$/),
    ]);
    expect(logged.join('')).not.toContain('Not-Logged-1');
  });
});

describe('Session: one reply timer per request', () => {
  it('a DIAG whose DATA lines each restart the timer makes one timer, which still runs from the last line', async () => {
    let made = 0;
    const timers: Timers = {
      setTimeout: (callback, ms) => {
        made++;
        return globalThis.setTimeout(callback, ms);
      },
      clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    const { logger } = loggerAt('silent');
    const { wire, session } = open({ logger, timers, slowTimeoutMs: 1000 });
    wire.script = undefined;
    void session.request('DIAG').catch(() => undefined);
    await flush();
    const r = wire.last;
    for (let i = 0; i < 12; i++) {
      await vi.advanceTimersByTimeAsync(900);
      wire.send(
        data(r, [
          ['check', `c${i}`],
          ['status', 'pass'],
        ]),
      );
      await flush();
    }
    expect(made).toBe(1);
    // Restarted by the last DATA line: nothing resent 999 ms after it, the retransmission at 1000.
    await vi.advanceTimersByTimeAsync(999);
    expect(wire.lines).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(wire.lines).toHaveLength(2);
    expect(wire.lines[1]).toBe(wire.lines[0]);
    await session.close();
  });
});
