/**
 * The depot (src/audit/depot.ts): the chains of several stations in one file, each record checked
 * against its station's head as it arrives. Duplicates change nothing, a record past a gap waits
 * for the gap, a forged or contradicting record is refused and kept as evidence, and the depot's
 * report is the union of the stations' own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditStore,
  type ChainRecord,
  chainHash,
  DepotStore,
  GENESIS_HASH,
  isDepotFile,
} from '../../src/audit/index.js';

let dir: string;
const closers: Array<{ close(): void }> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-depot-'));
});
afterEach(() => {
  for (const c of closers.splice(0)) c.close();
  rmSync(dir, { recursive: true, force: true });
});

function clock(start: string): () => Date {
  let t = Date.parse(start);
  return () => {
    t += 1000;
    return new Date(t);
  };
}

/** A station's own trail with `runs` provisioning runs (and a diag run), and its records. */
function station(name: string, runs: number, start = '2026-03-01T08:00:00.000Z') {
  const store = AuditStore.open(join(dir, `${name}.sqlite3`), { now: clock(start) });
  closers.push(store);
  for (let i = 0; i < runs; i++) {
    const runId = store.startRun({
      kind: 'provision',
      port: `mock://${name}${i}`,
      technician: 'ana',
      station: name,
      merchant: '822100052110023',
      terminalNumber: `1002345${i}`,
    });
    store.recordTerminal(runId, { model: 'PBM-1', sn: `${name}-SN${i}`, fw: '1.0' });
    store.recordStep(runId, {
      step: 'bind',
      outcome: 'done',
      detail: 'bound',
      startedAt: '2026-03-01T08:00:00.000Z',
      finishedAt: '2026-03-01T08:00:01.000Z',
    });
    store.finishRun(runId, { outcome: 'provisioned' });
  }
  const diag = store.startRun({ kind: 'diag', port: 'mock://x', technician: 'ana', station: name });
  store.finishRun(diag, { outcome: 'ok' });
  return { store, records: store.recordsAfter(0, 10_000) };
}

function depot(): DepotStore {
  const d = DepotStore.open(join(dir, 'depot.sqlite3'), { now: clock('2026-03-02T00:00:00.000Z') });
  closers.push(d);
  return d;
}

describe('AuditStore.recordsAfter', () => {
  it('gives the records after a seq, in order, exactly as chained, at most limit', () => {
    const { store, records } = station('a', 2);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(store.recordsAfter(3, 2).map((r) => r.seq)).toEqual([4, 5]);
    expect(store.recordsAfter(10, 5)).toEqual([]);
    let prev = GENESIS_HASH;
    for (const r of records) {
      expect(r.prevHash).toBe(prev);
      expect(chainHash(prev, { ...r, runId: r.run })).toBe(r.hash);
      prev = r.hash;
    }
  });
});

describe('DepotStore', () => {
  it('appends in order, ignores duplicates, and keeps each station apart', () => {
    const a = station('bench-a', 1);
    const b = station('bench-b', 1);
    const d = depot();
    for (const r of a.records) expect(d.accept('bench-a', r).kind).toBe('appended');
    expect(d.accept('bench-a', a.records[2]!)).toEqual({ kind: 'duplicate', station: 'bench-a', seq: 3 });
    for (const r of b.records) expect(d.accept('bench-b', r).kind).toBe('appended');
    expect(d.head('bench-a')).toEqual(a.store.head());
    expect(d.head('bench-b')).toEqual(b.store.head());
    expect(d.head('bench-c')).toEqual({ seq: 0, hash: GENESIS_HASH });
    expect(d.verify().map((v) => [v.station, v.ok, v.rows])).toEqual([
      ['bench-a', true, 6],
      ['bench-b', true, 6],
    ]);
    expect(isDepotFile(d.file)).toBe(true);
    expect(isDepotFile(a.store.file)).toBe(false);
  });

  it('holds a record past a gap and lets it through once the gap is filled', () => {
    const { records } = station('a', 1);
    const d = depot();
    expect(d.accept('a', records[3]!)).toEqual({ kind: 'held', station: 'a', seq: 4, missingFrom: 1 });
    expect(d.accept('a', records[2]!)).toEqual({ kind: 'held', station: 'a', seq: 3, missingFrom: 1 });
    expect(d.accept('a', records[3]!).kind).toBe('duplicate');
    expect(d.stations()[0]).toMatchObject({ station: 'a', head: { seq: 0 }, held: 2, missingFrom: 1 });
    expect(d.report()).toEqual([]);
    expect(d.accept('a', records[0]!).kind).toBe('appended');
    const filled = d.accept('a', records[1]!);
    expect(filled.kind === 'appended' && filled.records.map((r) => r.seq)).toEqual([2, 3, 4]);
    expect(d.stations()[0]).toMatchObject({ head: { seq: 4, hash: records[3]!.hash }, held: 0 });
  });

  it('refuses a forged hash, a wrong link and a second record for a seq, and keeps them as evidence', () => {
    const { records } = station('a', 1);
    const d = depot();
    d.accept('a', records[0]!);
    // Someone publishes a record 2 with other content and the original hash: it does not hash.
    const forged: ChainRecord = { ...records[1]!, payload: records[1]!.payload.replace('PBM-1', 'PBM-9') };
    expect(d.accept('a', forged)).toMatchObject({ kind: 'refused', seq: 2, problem: 'hash-mismatch' });
    // A record 2 hashed correctly but chained to something else.
    const relinked = { ...records[1]!, prevHash: 'f'.repeat(64) };
    relinked.hash = chainHash(relinked.prevHash, { ...relinked, runId: relinked.run });
    expect(d.accept('a', relinked)).toMatchObject({ kind: 'refused', problem: 'link-broken' });
    expect(d.head('a').seq).toBe(1);
    expect(d.accept('a', records[1]!).kind).toBe('appended');
    // A well-formed record 2 that chains to record 1 but is not the one the depot holds.
    const other = { ...records[1]!, at: '2030-01-01T00:00:00.000Z' };
    other.hash = chainHash(other.prevHash, { ...other, runId: other.run });
    const conflict = d.accept('a', other);
    expect(conflict).toMatchObject({ kind: 'refused', problem: 'conflict' });
    expect(conflict.kind === 'refused' && conflict.message).toMatch(
      /station a: record 2 .* differs from the record 2 the depot holds/,
    );
    expect(d.refusals().map((r) => [r.seq, r.problem])).toEqual([
      [2, 'hash-mismatch'],
      [2, 'link-broken'],
      [2, 'conflict'],
    ]);
    expect(d.stations()[0]).toMatchObject({ head: { seq: 2 }, refused: 3 });
    expect(d.verify()[0]!.ok).toBe(true);
  });

  it("refuses a station's records from anywhere but where its first came from", () => {
    const { records } = station('a', 1);
    const d = depot();
    expect(d.accept('a', records[0]!, 'posbridge/a').kind).toBe('appended');
    const elsewhere = d.accept('a', records[1]!, 'posbridge/b');
    expect(elsewhere).toMatchObject({ kind: 'refused', problem: 'conflict' });
    expect(elsewhere.kind === 'refused' && elsewhere.message).toMatch(
      /record 2 came from posbridge\/b, but this station's records come from posbridge\/a/,
    );
    expect(d.accept('a', records[1]!, 'posbridge/a').kind).toBe('appended');
    expect(d.stations()[0]).toMatchObject({ source: 'posbridge/a', head: { seq: 2 }, refused: 1 });
  });

  it('refuses a held record that turns out not to chain, and holds what follows it', () => {
    const { records } = station('a', 1);
    const d = depot();
    d.accept('a', records[0]!);
    d.accept('a', { ...records[2]!, hash: 'e'.repeat(64) });
    d.accept('a', records[3]!);
    const filled = d.accept('a', records[1]!);
    expect(filled.kind === 'appended' && filled.records.map((r) => r.seq)).toEqual([2]);
    // Said with the result, so a collector reports it as it happens.
    expect(filled).toMatchObject({
      refused: { seq: 3, problem: 'hash-mismatch', message: expect.stringMatching(/^station a: /) },
    });
    expect(d.refusals().map((r) => [r.seq, r.problem])).toEqual([[3, 'hash-mismatch']]);
    expect(d.stations()[0]).toMatchObject({ head: { seq: 2 }, held: 1, missingFrom: 3 });
    // The genuine record 3 (a replay) lets record 4 through.
    const replay = d.accept('a', records[2]!);
    expect(replay.kind === 'appended' && replay.records.map((r) => r.seq)).toEqual([3, 4]);
  });

  it("reports every station's provisioning runs, each row as the station's own report has it", () => {
    const a = station('bench-a', 2, '2026-03-01T08:00:00.000Z');
    const b = station('bench-b', 3, '2026-03-01T08:00:02.500Z');
    const d = depot();
    // Interleaved arrival, b first and in reverse: order of arrival does not matter.
    for (const r of [...b.records].reverse()) d.accept('bench-b', r);
    for (const r of a.records) d.accept('bench-a', r);
    // The runs are on mock:// ports: the report leaves those out unless asked, in both files alike.
    expect(d.report()).toEqual([]);
    const mocks = { includeMocks: true };
    const union = [...a.store.report(mocks), ...b.store.report(mocks)];
    expect(union.length).toBe(5);
    const byRun = (rows: { runId: string }[]) => [...rows].sort((x, y) => x.runId.localeCompare(y.runId));
    expect(byRun(d.report(mocks))).toEqual(byRun(union));
    const started = d.report(mocks).map((r) => r.started);
    expect(started).toEqual([...started].sort());
    expect(d.report({ ...mocks, since: new Date('2026-03-01T08:00:06.000Z') }).length).toBeLessThan(
      union.length,
    );
    expect(d.history({ sn: 'bench-b-SN1' }).map((r) => r.terminal?.sn)).toEqual(['bench-b-SN1']);
    expect(d.history({ limit: 1 })[0]!.kind).toBe('diag');
  });

  it("refuses to open a station's own trail as a depot, naming the file", () => {
    const { store } = station('a', 1);
    expect(() => DepotStore.open(store.file)).toThrow(/is not a posbridge depot/);
  });
});
