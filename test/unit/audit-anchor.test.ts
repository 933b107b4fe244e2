/**
 * Anchors and the witness (issue 9 item 7): the SEQ:HASH text form, files of heads, the chain
 * walk against anchors (several per record, one past the end, an emptied trail), the head each
 * finished run leaves, and the witness file that gets every new head once it is committed.
 */
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AuditError,
  AuditStore,
  type AuditStoreOptions,
  AuditWitness,
  type ChainAnchor,
  formatAnchor,
  GENESIS_HASH,
  parseAnchor,
  parseAnchorLines,
  readAnchorFile,
  type SourcedAnchor,
  type StartRunInput,
} from '../../src/audit/index.js';

const H = (c: string) => c.repeat(64);
let dir: string;
let file: string;
const open: Array<{ close(): void }> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-anchor-'));
  file = join(dir, 'audit.sqlite3');
});
afterEach(() => {
  for (const o of open.splice(0)) o.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(options: AuditStoreOptions = {}): AuditStore {
  const store = AuditStore.open(file, options);
  open.push(store);
  return store;
}

const START: StartRunInput = { kind: 'diag', port: 'mock://a', technician: 'ana', station: 'bench-1' };

/** A run of three rows (start, terminal, finish); returns what finishRun gave. */
function run(store: AuditStore, sn = 'SN1'): ChainAnchor {
  const id = store.startRun(START);
  store.recordTerminal(id, { model: 'T100', sn, fw: '1' });
  return store.finishRun(id, { outcome: 'ok' });
}

/** The attacker's cut: delete every row after `keep`, point the head record at the last kept. */
function cut(keep: number): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER events_no_delete');
  db.prepare('DELETE FROM events WHERE seq > ?').run(keep);
  const last = (db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as
    | ChainAnchor
    | undefined) ?? { seq: 0, hash: GENESIS_HASH };
  db.prepare("UPDATE meta SET value = ? WHERE key = 'head'").run(
    JSON.stringify({ seq: last.seq, hash: last.hash }),
  );
  db.close();
}

describe('anchor text', () => {
  it('is SEQ:HASH both ways; the hash is kept lowercase', () => {
    expect(formatAnchor({ seq: 57, hash: H('a') })).toBe(`57:${H('a')}`);
    expect(parseAnchor(`57:${H('A')}`)).toEqual({ seq: 57, hash: H('a') });
    expect(parseAnchor(` 0:${GENESIS_HASH}\n`)).toEqual({ seq: 0, hash: GENESIS_HASH });
  });

  it.each([
    ['57', /expected SEQ:HASH/],
    [`57:${H('a').slice(1)}`, /64 hex digits/],
    [`-1:${H('a')}`, /expected SEQ:HASH/],
    [`57:${H('g')}`, /expected SEQ:HASH/],
    [`0:${H('a')}`, /record 0 is the empty trail/],
  ])('refuses %s, saying why', (text, why) => {
    expect(parseAnchor(text)).toEqual({ problem: expect.stringMatching(why) });
  });

  it('reads a file of heads: comments, blanks and text after a head skipped, problems by line', () => {
    const text = `# heads sent to the acquirer\n\n3:${H('a')} 2026-03-01 run of PB001\r\nnonsense\n9:${H('b')}\n`;
    const lines = parseAnchorLines(text, '/x/heads');
    expect(lines.anchors).toEqual([
      { seq: 3, hash: H('a'), source: '/x/heads line 3' },
      { seq: 9, hash: H('b'), source: '/x/heads line 5' },
    ]);
    expect(lines.problems).toEqual([{ line: 4, message: expect.stringMatching(/"nonsense" is not a head/) }]);
    expect(lines.tornTail).toBeUndefined();
  });

  it('tells a last line cut short (no newline) from a bad line; a whole last head without newline counts', () => {
    const torn = parseAnchorLines(`3:${H('a')}\n4:${H('b').slice(0, 20)}`, 'w');
    expect(torn.anchors.map((a) => a.seq)).toEqual([3]);
    expect(torn.problems).toEqual([]);
    expect(torn.tornTail).toBe(2);
    expect(parseAnchorLines(`3:${H('a')}\n4:${H('b')}`, 'w').anchors.map((a) => a.seq)).toEqual([3, 4]);
    expect(parseAnchorLines(`3:${H('a')}\n4:${H('b').slice(0, 20)}\n`, 'w').problems).toHaveLength(1);
  });
});

describe('verify against anchors', () => {
  it('each run leaves its last row as its head: finishRun returns it, history and report carry it', () => {
    const store = openStore();
    const first = run(store, 'SN1');
    expect(first).toEqual(store.head());
    expect(first.seq).toBe(3);
    const second = run(store, 'SN2');
    expect(second.seq).toBe(6);
    expect(store.history().map((r) => r.auditHead)).toEqual([formatAnchor(second), formatAnchor(first)]);
  });

  it('a cut with the head record rewritten passes alone; its anchor fails, an earlier one still holds', () => {
    const store = openStore();
    const first = run(store);
    const second = run(store);
    cut(first.seq);
    expect(store.verify().ok).toBe(true);
    expect(store.verify({ anchors: [first] }).ok).toBe(true);
    const result = store.verify({ anchors: [first, second] });
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind: 'anchor-mismatch', seq: 6, anchor: second });
    expect(result.problem!.message).toBe(
      `head ${formatAnchor(second)} kept elsewhere is not in the trail, which stops at row 3: row 4..6 deleted and the head record rewritten`,
    );
  });

  it('every anchor naming one record must hold, whatever their order', () => {
    const store = openStore();
    const head = run(store);
    const forged = { seq: head.seq, hash: H('f') };
    for (const anchors of [
      [forged, head],
      [head, forged],
    ]) {
      expect(store.verify({ anchors }).problem).toMatchObject({
        kind: 'anchor-mismatch',
        seq: 3,
        anchor: forged,
      });
    }
  });

  it('names the anchor a rewritten trail contradicts, with where it came from', () => {
    const store = openStore();
    run(store);
    const kept: SourcedAnchor = { seq: 2, hash: H('e'), source: 'witness /mnt/w line 2' };
    const problem = store.verify({ anchors: [kept] }).problem!;
    expect(problem.kind).toBe('anchor-mismatch');
    expect(problem.anchor).toBe(kept);
    expect(problem.message).toMatch(`head 2:${H('e')} kept elsewhere differs from row 2 of the trail`);
  });

  it('an emptied trail (every row deleted, head reset) fails any anchor past record 0', () => {
    const store = openStore();
    const head = run(store);
    cut(0);
    expect(store.verify().ok).toBe(true);
    expect(store.verify({ anchors: [{ seq: 0, hash: GENESIS_HASH }] }).ok).toBe(true);
    expect(store.verify({ anchors: [head] }).problem!.message).toMatch(
      /holds no record: the trail was emptied/,
    );
    expect(store.verify({ anchors: [{ seq: 0, hash: H('1') }] }).problem).toMatchObject({
      kind: 'anchor-mismatch',
      seq: 0,
    });
  });
});

describe('the witness file', () => {
  /** Every row of the trail as SEQ:HASH, in order. */
  const rowsAsHeads = () => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT seq, hash FROM events ORDER BY seq').all() as ChainAnchor[]).map(
        formatAnchor,
      );
    } finally {
      db.close();
    }
  };

  it('gets every new head, one SEQ:HASH line each, in order; created owner-only', () => {
    const path = join(dir, 'heads.witness');
    const witness = AuditWitness.open(path);
    open.push(witness);
    const store = openStore({ witness });
    run(store);
    const last = run(store);
    const lines = readFileSync(path, 'utf8');
    expect(lines).toBe(`${rowsAsHeads().join('\n')}\n`);
    expect(lines.endsWith(`${formatAnchor(last)}\n`)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const read = readAnchorFile(path)!;
    expect(read.anchors.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(store.verify({ anchors: read.anchors }).ok).toBe(true);
  });

  it('appends to what is there, and names only committed rows: a refused append writes no line', () => {
    const path = join(dir, 'heads.witness');
    writeFileSync(path, '# started by hand\n');
    const witness = AuditWitness.open(path);
    open.push(witness);
    const store = openStore({ witness });
    run(store);
    const before = rowsAsHeads();
    const db = new Database(file);
    db.exec('DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 3');
    db.close();
    expect(() => store.startRun(START)).toThrow(/refusing to append/); // the head no longer matches
    expect(readFileSync(path, 'utf8')).toBe(`# started by hand\n${before.join('\n')}\n`);
  });

  it('refuses a missing directory (an unmounted share) and a symbolic link, naming the file', () => {
    const missing = join(dir, 'not-mounted', 'heads');
    expect(() => AuditWitness.open(missing)).toThrow(
      expect.objectContaining({
        code: 'AUDIT_WITNESS_FAILED',
        message: `cannot open the audit witness ${missing}: its directory does not exist`,
      }),
    );
    expect(() => lstatSync(join(dir, 'not-mounted'))).toThrow(/ENOENT/);
    const link = join(dir, 'link');
    symlinkSync(join(dir, 'target'), link);
    expect(() => AuditWitness.open(link)).toThrow(/is a symbolic link/);
    expect(() => lstatSync(join(dir, 'target'))).toThrow(/ENOENT/);
  });

  it('a head that cannot be written (disk full) is reported, and the run goes on', () => {
    const errors: AuditError[] = [];
    const witness = AuditWitness.open('/dev/full', { onError: (e) => errors.push(e) });
    open.push(witness);
    const store = openStore({ witness });
    const head = run(store);
    expect(store.head()).toEqual(head);
    expect(errors).toHaveLength(3);
    expect(errors[2]!.message).toBe(
      `cannot append head ${formatAnchor(head)} to the audit witness /dev/full: ENOSPC`,
    );
    expect(errors[2]!.code).toBe('AUDIT_WITNESS_FAILED');
  });

  it('reading: absent is undefined, a directory is an error naming it', () => {
    expect(readAnchorFile(join(dir, 'none'))).toBeUndefined();
    expect(() => readAnchorFile(dir)).toThrow(`cannot read the heads in ${dir}: it is a directory`);
  });
});
