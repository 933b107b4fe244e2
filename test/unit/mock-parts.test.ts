/** The small parts of the mock terminal on their own: virtual clock, pacer, replay cache, PRNG, bit flips. */
import { describe, expect, it } from 'vitest';
import { flipOneBit } from '../../src/mock-device/faults/index.js';
import { createRandom } from '../../src/mock-device/index.js';
import { Pacer } from '../../src/mock-device/pacer.js';
import { ReplayCache } from '../../src/mock-device/replay-cache.js';
import { VirtualClock } from '../../src/protocol/index.js';

describe('VirtualClock', () => {
  it('runs timers in due order, then creation order, each at its due time', () => {
    const clock = new VirtualClock(1000);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => {
      seen.push(`c@${clock.now()}`);
      clock.setTimeout(() => seen.push(`d@${clock.now()}`), 0);
    }, 20);
    const cancelled = clock.setTimeout(() => seen.push('never'), 5);
    clock.clearTimeout(cancelled);
    clock.advance(15);
    expect(seen).toEqual(['a@1010']);
    expect(clock.now()).toBe(1015);
    clock.advance(100);
    expect(seen).toEqual(['a@1010', 'b@1020', 'c@1020', 'd@1020']);
    expect(clock.now()).toBe(1115);
    expect(clock.pending).toBe(0);
    expect(clock.runNext()).toBe(false);
  });

  it('refuses to spin forever in runAll', () => {
    const clock = new VirtualClock();
    const again = () => clock.setTimeout(again, 1);
    again();
    expect(() => clock.runAll(50)).toThrow(/still busy/);
  });
});

describe('Pacer', () => {
  it('delivers each line when its last bit has left, in order, batching what is due together', () => {
    const clock = new VirtualClock(0);
    const delivered: string[] = [];
    let drains = 0;
    const pacer = new Pacer({
      baud: 1000, // 100 bytes/s: 10 ms a byte
      clock,
      timers: clock,
      deliver: (bytes) => delivered.push(`${clock.now()}:${Buffer.from(bytes).toString()}`),
      onDrain: () => drains++,
    });
    pacer.write(Buffer.from('ab'));
    pacer.write(Buffer.from('c'));
    expect(pacer.backlog).toBe(3);
    clock.advance(19);
    expect(delivered).toEqual([]);
    clock.advance(1);
    expect(delivered).toEqual(['20:ab']);
    clock.advance(100);
    expect(delivered).toEqual(['20:ab', '30:c']);
    expect(pacer.backlog).toBe(0);
    expect(drains).toBe(2);
    // The line was idle: a new line starts now, not where the last one ended.
    pacer.write(Buffer.from('d'));
    clock.advance(10);
    expect(delivered.at(-1)).toBe('130:d');
    pacer.write(Buffer.from('e'));
    pacer.stop();
    clock.advance(100);
    expect(delivered.at(-1)).toBe('130:d');
    expect(clock.pending).toBe(0);
  });

  it('sends at once with baud 0', () => {
    const clock = new VirtualClock(0);
    const delivered: number[] = [];
    const pacer = new Pacer({ baud: 0, clock, timers: clock, deliver: (b) => delivered.push(b.length) });
    pacer.write(Buffer.from('hello'));
    expect(delivered).toEqual([5]);
    expect(clock.pending).toBe(0);
  });
});

describe('ReplayCache', () => {
  it('matches ID and bytes, replaces by ID, evicts the oldest beyond its capacity', () => {
    const cache = new ReplayCache(2);
    cache.store('1', '@1 A', ['r1']);
    cache.store('2', '@2 B', ['r2']);
    expect(cache.lookup('1', '@1 A')).toEqual(['r1']);
    expect(cache.lookup('1', '@1  A')).toBeUndefined();
    cache.store('1', '@1 C', ['r1c']);
    expect(cache.lookup('1', '@1 A')).toBeUndefined();
    cache.store('3', '@3 D', ['r3']);
    expect(cache.lookup('2', '@2 B')).toBeUndefined();
    expect(cache.lookup('1', '@1 C')).toEqual(['r1c']);
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe('randomness', () => {
  it('is the same for the same seed', () => {
    const a = createRandom(99);
    const b = createRandom(99);
    const draws = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(draws);
    for (const x of draws) expect(x >= 0 && x < 1).toBe(true);
    expect(createRandom(1).chance(0)).toBe(false);
  });

  it('a flipped bit never makes a CR or LF', () => {
    const random = createRandom(5);
    for (let code = 0x20; code <= 0x7e; code++) {
      for (let i = 0; i < 16; i++) {
        const flipped = flipOneBit(String.fromCharCode(code), random).charCodeAt(0);
        expect(flipped).not.toBe(code);
        expect([0x0a, 0x0d]).not.toContain(flipped);
      }
    }
  });
});
