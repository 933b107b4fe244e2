/**
 * The session tells who listens of each retransmission (docs/protocol.md §18), where it sends the
 * same bytes again: the daemon counts them in `posbridge_retransmissions_total`. A first send is
 * not one; a listener that throws does not break the request.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isPosbridgeError } from '../../src/host/errors.js';
import type { ResendReason } from '../../src/host/session.js';
import { Session } from '../../src/host/session.js';
import { encodeErr, encodeOk, type Verb } from '../../src/protocol/index.js';
import { type Received, silentLogger, Wire } from './daemon-wire.helper.js';

const ok = (r: Received) => encodeOk({ id: r.request?.id, crc: true }, []);

function open(options: { timeoutMs?: number; onRetransmit?: (verb: Verb, reason: ResendReason) => void }) {
  const wire = new Wire();
  const heard: Array<[Verb, ResendReason]> = [];
  const session = new Session(wire.transport, {
    logger: silentLogger,
    random: () => 0,
    timeoutMs: options.timeoutMs ?? 100,
    busyBackoffMs: 10,
    onRetransmit: options.onRetransmit ?? ((verb, reason) => heard.push([verb, reason])),
  });
  return { wire, session, heard };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Session: each retransmission is told, with its verb and reason', () => {
  it('a reply that never came: one retransmission, told once; an answered request tells nothing', async () => {
    const { wire, session, heard } = open({});
    wire.script = (r) => [ok(r)];
    await session.request('STATUS');
    expect(heard).toEqual([]);

    let calls = 0;
    wire.script = (r) => (++calls === 2 ? [ok(r)] : []);
    const reply = session.request('HELLO', { proto: 1 });
    await vi.advanceTimersByTimeAsync(100);
    await reply;
    expect(wire.lines.slice(1)).toHaveLength(2);
    expect(heard).toEqual([['HELLO', 'timeout']]);
  });

  it('a terminal that never answers: every retransmission is told, then TIMEOUT', async () => {
    const { wire, session, heard } = open({});
    wire.script = () => [];
    const failed = session.request('STATUS').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(5000);
    expect(isPosbridgeError(await failed, 'TIMEOUT')).toBe(true);
    expect(wire.lines).toHaveLength(4);
    expect(heard).toEqual([
      ['STATUS', 'timeout'],
      ['STATUS', 'timeout'],
      ['STATUS', 'timeout'],
    ]);
  });

  it('a 503 busy resend is told as busy', async () => {
    const { wire, session, heard } = open({});
    let calls = 0;
    wire.script = (r) =>
      ++calls === 1 ? [encodeErr({ id: r.request?.id, crc: true }, 503, 'busy', [])] : [ok(r)];
    const reply = session.request('STATUS');
    await vi.advanceTimersByTimeAsync(10);
    await reply;
    expect(heard).toEqual([['STATUS', 'busy']]);
  });

  it('a listener that throws does not break the request', async () => {
    let told = 0;
    const { wire, session } = open({
      onRetransmit: () => {
        told++;
        throw new Error('metrics broke');
      },
    });
    let calls = 0;
    wire.script = (r) => (++calls === 2 ? [ok(r)] : []);
    const reply = session.request('STATUS');
    await vi.advanceTimersByTimeAsync(100);
    await expect(reply).resolves.toMatchObject({ verb: 'STATUS' });
    expect(told).toBe(1);
  });
});
