/**
 * The daemon's audit forwarder and its PUBACK cursor (docs/fleet.md, "Nothing lost"), with a
 * link whose PUBACKs the test hands out one by one and timers it runs by hand.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChainAnchor, type ChainRecord, GENESIS_HASH } from '../../src/audit/index.js';
import { AckCursorFile } from '../../src/daemon/mqtt/ack-cursor.js';
import { AuditForwarder } from '../../src/daemon/mqtt/audit-forwarder.js';
import type { PublishOptions } from '../../src/daemon/mqtt/link.js';
import type { Timers } from '../../src/protocol/index.js';
import { silentLogger } from './daemon-wire.helper.js';

const record = (seq: number): ChainRecord => ({
  seq,
  at: `2026-12-05T00:00:${String(seq).padStart(2, '0')}.000Z`,
  run: 'run-1',
  type: 'step',
  payload: `{"n":${seq}}`,
  prevHash: seq === 1 ? GENESIS_HASH : `${seq - 1}`.padStart(64, '0'),
  hash: `${seq}`.padStart(64, '0'),
});

class FakeLink {
  connected = true;
  readonly sent: Array<{ seq: number; resolve(): void; reject(error: unknown): void }> = [];
  dropped: string[] = [];

  publish(_topic: string, payload: string, options: PublishOptions): Promise<void> {
    expect(options).toEqual({ qos: 1, retain: false });
    const { seq } = JSON.parse(payload) as { seq: number };
    return new Promise((resolve, reject) => this.sent.push({ seq, resolve, reject }));
  }

  drop(reason: string): void {
    this.dropped.push(reason);
  }

  /** PUBACKs for these seqs (their latest send), then lets the promise callbacks run. */
  async ack(...seqs: number[]): Promise<void> {
    for (const seq of seqs) this.sent.findLast((s) => s.seq === seq)!.resolve();
    await Promise.resolve();
    await Promise.resolve();
  }
}

class ManualTimers implements Timers {
  private next = 0;
  readonly pending = new Map<number, () => void>();
  setTimeout(callback: () => void, _ms: number): number {
    this.next += 1;
    this.pending.set(this.next, callback);
    return this.next;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  runAll(): void {
    for (const [id, callback] of [...this.pending]) {
      this.pending.delete(id);
      callback();
    }
  }
}

function rig(stored: number, start: ChainAnchor = { seq: 0, hash: GENESIS_HASH }) {
  const records = Array.from({ length: stored }, (_, i) => record(i + 1));
  const link = new FakeLink();
  const timers = new ManualTimers();
  const saved: ChainAnchor[] = [];
  const forwarder = new AuditForwarder({
    feed: { recordsAfter: (seq, limit) => records.filter((r) => r.seq > seq).slice(0, limit) },
    link,
    topic: 'posbridge/a/audit',
    station: 'a',
    cursor: { load: () => start, save: (anchor) => saved.push(anchor) },
    timers,
    logger: silentLogger,
    window: 4,
  });
  return { records, link, timers, saved, forwarder };
}

describe('AuditForwarder', () => {
  it('after a lost link, what was in flight goes again, in order, before anything newer', async () => {
    const { records, link, forwarder } = rig(3);
    forwarder.up();
    expect(link.sent.map((s) => s.seq)).toEqual([1, 2, 3]);
    await link.ack(1);
    link.connected = false;
    forwarder.down();
    records.push(record(4));
    forwarder.poke(); // nothing goes while down
    expect(link.sent).toHaveLength(3);
    link.connected = true;
    forwarder.up();
    expect(link.sent.slice(3).map((s) => s.seq)).toEqual([2, 3, 4]);
    expect(forwarder.acknowledged.seq).toBe(1);
  });

  it('moves the acknowledged seq only over an unbroken run of PUBACKs', async () => {
    const { link, forwarder } = rig(3);
    forwarder.up();
    await link.ack(2, 3);
    expect(forwarder.acknowledged.seq).toBe(0);
    await link.ack(1);
    expect(forwarder.acknowledged).toEqual({ seq: 3, hash: record(3).hash });
  });

  it('keeps at most `window` records awaiting a PUBACK, and sends on as they come back', async () => {
    const { link, forwarder } = rig(10);
    forwarder.up();
    expect(link.sent.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
    await link.ack(1, 2);
    expect(link.sent.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a record the broker refuses closes the link and is sent again, never skipped', async () => {
    const { link, forwarder } = rig(2);
    forwarder.up();
    link.sent[0]!.reject(Object.assign(new Error('Not authorized'), { code: 135 }));
    await link.ack(2);
    expect(link.dropped).toEqual(['audit record 1 refused']);
    expect(forwarder.acknowledged.seq).toBe(0);
    forwarder.down();
    forwarder.up();
    expect(link.sent.slice(2).map((s) => s.seq)).toEqual([1, 2]);
  });

  it('a restarted daemon starts right after the cursor; the cursor is saved only with what was acknowledged', async () => {
    const { link, timers, saved, forwarder } = rig(5, { seq: 3, hash: record(3).hash });
    forwarder.up();
    expect(link.sent.map((s) => s.seq)).toEqual([4, 5]);
    await link.ack(5);
    timers.runAll();
    expect(saved).toEqual([{ seq: 3, hash: record(3).hash }]);
    await link.ack(4);
    forwarder.flush();
    expect(saved.at(-1)).toEqual({ seq: 5, hash: record(5).hash });
  });

  it('a replay request sends again from the seq asked for', async () => {
    const { link, forwarder } = rig(3);
    forwarder.up();
    await link.ack(1, 2, 3);
    forwarder.replay(2);
    expect(link.sent.slice(3).map((s) => s.seq)).toEqual([2, 3]);
    forwarder.replay(9); // beyond what was sent: nothing
    expect(link.sent).toHaveLength(5);
  });
});

describe('AckCursorFile', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const at = (seq: number) => (seq <= 5 ? record(seq) : undefined);

  it('starts after the saved record when broker, prefix and record are the same; from 1 otherwise', () => {
    dir = mkdtempSync(join(tmpdir(), 'posbridge-cursor-'));
    const file = join(dir, 'audit.sqlite3.mqtt-acked');
    const identity = { broker: 'mqtt://b:1883', prefix: 'posbridge/a' };
    new AckCursorFile(file, identity, silentLogger).save({ seq: 4, hash: record(4).hash });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      v: 1,
      ...identity,
      seq: 4,
      hash: record(4).hash,
    });
    expect(new AckCursorFile(file, identity, silentLogger).load(at)).toEqual({
      seq: 4,
      hash: record(4).hash,
    });
    const start = { seq: 0, hash: GENESIS_HASH };
    expect(new AckCursorFile(file, { ...identity, broker: 'mqtt://c:1883' }, silentLogger).load(at)).toEqual(
      start,
    );
    expect(new AckCursorFile(file, { ...identity, prefix: 'posbridge/b' }, silentLogger).load(at)).toEqual(
      start,
    );
    // A new trail: record 4 there has another hash.
    expect(
      new AckCursorFile(file, identity, silentLogger).load((seq) => ({
        ...record(seq),
        hash: 'e'.repeat(64),
      })),
    ).toEqual(start);
    expect(new AckCursorFile(join(dir, 'none'), identity, silentLogger).load(at)).toEqual(start);
  });
});
