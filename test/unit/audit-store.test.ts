/**
 * The audit trail: appends, the hash chain and what it detects, queries, the secret scrub,
 * typed errors naming the file.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditError,
  AuditStore,
  type AuditStoreOptions,
  assertNoSecrets,
  defaultAuditPath,
  GENESIS_HASH,
  type StartRunInput,
} from '../../src/audit/index.js';
import { Secret } from '../../src/host/secret.js';
import type { StepRecord } from '../../src/host/workflow/report.js';

let dir: string;
let file: string;
const open: AuditStore[] = [];

/** A clock that moves one second per reading, from a fixed start. */
function steppingClock(start = '2025-03-01T08:00:00.000Z'): () => Date {
  let t = Date.parse(start);
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}

function openStore(options: AuditStoreOptions = {}): AuditStore {
  const store = AuditStore.open(file, { now: steppingClock(), ...options });
  open.push(store);
  return store;
}

/** A raw connection, as someone with the sqlite3 shell would have. */
function raw<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const START: StartRunInput = {
  kind: 'provision',
  port: 'mock://a',
  technician: 'ana',
  station: 'bench-1',
  merchant: '123456789012345',
  terminalNumber: '12345678',
};

function step(name: StepRecord['step'], outcome: StepRecord['outcome'] = 'done', detail = ''): StepRecord {
  return {
    step: name,
    outcome,
    detail,
    startedAt: '2025-03-01T08:00:00.000Z',
    finishedAt: '2025-03-01T08:00:01.000Z',
  };
}

/** A whole provisioning run: 1 start + 1 terminal + 3 steps + 1 diagnostics + 1 finish = 7 rows. */
function provisionRun(store: AuditStore, sn = 'SN001', overrides: Partial<StartRunInput> = {}): string {
  const runId = store.startRun({ ...START, ...overrides });
  store.recordTerminal(runId, { model: 'T100', sn, fw: '1.2.3' });
  store.recordStep(runId, step('identify', 'done', `T100 ${sn}`));
  store.recordStep(runId, step('admin-password', 'done', 'admin password replaced'));
  store.recordStep(runId, step('bind', 'done', 'merchant 123456789012345, terminal 12345678'));
  store.recordDiagnostics(runId, [
    { check: 'power', status: 'pass', ms: 3 },
    { check: 'printer', status: 'fail', code: 'paper_out', hint: 'Load paper' },
    { check: 'clock', status: 'warn', code: 'not_set' },
  ]);
  store.finishRun(runId, { outcome: 'provisioned' });
  return runId;
}

function expectAuditError(fn: () => unknown, code: string): AuditError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuditError);
    expect((error as AuditError).code).toBe(code);
    return error as AuditError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-audit-'));
  file = join(dir, 'audit.sqlite3');
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit store: append and verify', () => {
  it('records a run and its steps, and the chain verifies', () => {
    const store = openStore();
    expect(store.verify()).toEqual({ ok: true, file, rows: 0, head: { seq: 0, hash: GENESIS_HASH } });
    const runId = provisionRun(store);
    const result = store.verify();
    expect(result.ok).toBe(true);
    expect(result.rows).toBe(7);
    expect(result.head).toEqual(store.head());
    expect(result.head.seq).toBe(7);

    const [run] = store.history();
    expect(run).toMatchObject({
      runId,
      kind: 'provision',
      port: 'mock://a',
      technician: 'ana',
      station: 'bench-1',
      terminal: { model: 'T100', sn: 'SN001', fw: '1.2.3' },
      merchant: '123456789012345',
      terminalNumber: '12345678',
      startedAt: '2025-03-01T08:00:00.000Z',
      finishedAt: '2025-03-01T08:00:06.000Z',
      outcome: 'provisioned',
      diagnostics: { pass: 1, warn: 1, fail: 1 },
    });
    expect(run!.steps.map((s) => [s.seq, s.step, s.outcome])).toEqual([
      [3, 'identify', 'done'],
      [4, 'admin-password', 'done'],
      [5, 'bind', 'done'],
    ]);
    expect(run!.diagnostics!.results[1]).toEqual({
      check: 'printer',
      status: 'fail',
      code: 'paper_out',
      hint: 'Load paper',
    });
  });

  it('keeps the chain across reopening, and a second store on the same file continues it', () => {
    const a = openStore();
    provisionRun(a, 'SN1');
    a.close();
    const b = openStore();
    const c = openStore();
    provisionRun(b, 'SN2');
    provisionRun(c, 'SN3');
    provisionRun(b, 'SN4');
    expect(c.verify()).toMatchObject({ ok: true, rows: 28 });
    expect(b.history().map((r) => r.terminal?.sn)).toEqual(['SN4', 'SN3', 'SN2', 'SN1']);
  });

  it('creates the directory 0700 and the file 0600, in WAL mode', () => {
    file = join(dir, 'data', 'posbridge', 'audit.sqlite3');
    const store = openStore();
    provisionRun(store);
    expect(statSync(join(dir, 'data', 'posbridge')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    expect(raw((db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });

  it('records diag, passwd and operator runs with their subject', () => {
    const store = openStore();
    const terminal = { model: 'T100', sn: 'SN9', fw: '1' };
    const diag = store.startRun({ kind: 'diag', port: 'p', technician: 't', station: 's', terminal });
    store.recordDiagnostics(diag, [{ check: 'printer', status: 'pass' }]);
    store.finishRun(diag, { outcome: 'ok' });
    const passwd = store.startRun({
      kind: 'passwd',
      port: 'p',
      technician: 't',
      station: 's',
      terminal,
      details: { user: '02' },
    });
    store.finishRun(passwd, {
      outcome: 'failed',
      error: { code: 'LOCKED', message: 'terminal locked', hint: 'wait' },
    });
    const op = store.startRun({
      kind: 'operator',
      port: 'p',
      technician: 't',
      station: 's',
      terminal,
      details: { action: 'add', id: '03', perms: ['sale', 'query'] },
    });
    store.finishRun(op, { outcome: 'ok' });
    const runs = store.history({ sn: 'SN9' });
    expect(runs.map((r) => [r.kind, r.outcome])).toEqual([
      ['operator', 'ok'],
      ['passwd', 'failed'],
      ['diag', 'ok'],
    ]);
    expect(runs[0]!.details).toEqual({ action: 'add', id: '03', perms: ['sale', 'query'] });
    expect(runs[1]!.error).toEqual({ code: 'LOCKED', message: 'terminal locked', hint: 'wait' });
    expect(store.verify().ok).toBe(true);
  });

  it('refuses steps for unknown or finished runs, and nothing is written', () => {
    const store = openStore();
    expectAuditError(() => store.recordStep('nope', step('identify')), 'AUDIT_UNKNOWN_RUN');
    const runId = provisionRun(store);
    expectAuditError(() => store.recordStep(runId, step('logout')), 'AUDIT_RUN_FINISHED');
    expectAuditError(() => store.finishRun(runId, { outcome: 'failed' }), 'AUDIT_RUN_FINISHED');
    expect(store.verify()).toMatchObject({ ok: true, rows: 7 });
  });

  it('rejects malformed input with AUDIT_INVALID', () => {
    const store = openStore();
    expectAuditError(() => store.startRun({ ...START, kind: 'bogus' as never }), 'AUDIT_INVALID');
    expectAuditError(() => store.startRun({ ...START, technician: '' }), 'AUDIT_INVALID');
    const runId = store.startRun(START);
    expectAuditError(
      () => store.recordStep(runId, { ...step('bind'), outcome: 'maybe' as never }),
      'AUDIT_INVALID',
    );
    expectAuditError(
      () => store.finishRun(runId, { outcome: 'ok', details: { when: new Date() as never } }),
      'AUDIT_INVALID',
    );
    expectAuditError(
      () => store.finishRun(runId, { outcome: 'ok', details: { n: Number.NaN } }),
      'AUDIT_INVALID',
    );
    expect(store.verify()).toMatchObject({ ok: true, rows: 1 });
  });
});

describe('audit store: tamper evidence', () => {
  function tamper(sql: string, ...params: unknown[]): void {
    raw((db) => {
      db.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;');
      db.prepare(sql).run(...params);
    });
  }

  it('refuses UPDATE and DELETE through the triggers (accidents)', () => {
    const store = openStore();
    provisionRun(store);
    expect(() => raw((db) => db.prepare("UPDATE events SET payload = '{}' WHERE seq = 3").run())).toThrow(
      /append-only/,
    );
    expect(() => raw((db) => db.prepare('DELETE FROM events WHERE seq = 3').run())).toThrow(/append-only/);
    expect(store.verify().ok).toBe(true);
  });

  it('detects an edited payload and names its seq', () => {
    const store = openStore();
    provisionRun(store);
    provisionRun(store, 'SN002');
    tamper(`UPDATE events SET payload = json_set(payload, '$.technician', 'mallory') WHERE seq = 8`);
    const result = store.verify();
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind: 'hash-mismatch', seq: 8 });
    expect(result.problem!.message).toMatch(/row 8 was edited/);
    expect(result.rows).toBe(8);
    const error = expectAuditError(() => store.assertIntact(), 'AUDIT_CORRUPT');
    expect(error.message).toContain(file);
    expect(error.message).toContain('row 8');
    expect(error.details).toMatchObject({ seq: 8, kind: 'hash-mismatch' });
  });

  it('detects an edited time, run or type as well as payload', () => {
    const store = openStore();
    provisionRun(store);
    tamper(`UPDATE events SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 4`);
    expect(store.verify().problem).toMatchObject({ kind: 'hash-mismatch', seq: 4 });
  });

  it('detects an edit whose row hash was recomputed: the next row no longer chains', () => {
    const store = openStore();
    provisionRun(store);
    tamper(`UPDATE events SET payload = json_set(payload, '$.outcome', 'failed') WHERE seq = 5`);
    raw((db) => {
      const row = db.prepare('SELECT * FROM events WHERE seq = 5').get() as Record<string, string | number>;
      const body = `{"at":${JSON.stringify(row.at)},"payload":${row.payload},"run":${JSON.stringify(row.run_id)},"seq":5,"type":${JSON.stringify(row.type)}}`;
      const hash = createHash('sha256').update(`${row.prev_hash}${body}`).digest('hex');
      db.prepare('UPDATE events SET hash = ? WHERE seq = 5').run(hash);
    });
    expect(store.verify().problem).toMatchObject({ kind: 'link-broken', seq: 6 });
  });

  it('detects a deleted middle row and names the missing seq', () => {
    const store = openStore();
    provisionRun(store);
    tamper('DELETE FROM events WHERE seq = 4');
    const result = store.verify();
    expect(result.problem).toMatchObject({ kind: 'missing-rows', seq: 4 });
    expect(result.problem!.message).toMatch(/row 4 missing/);
  });

  it('detects deleted first rows', () => {
    const store = openStore();
    provisionRun(store);
    tamper('DELETE FROM events WHERE seq <= 2');
    expect(store.verify().problem).toMatchObject({ kind: 'missing-rows', seq: 1 });
  });

  it('detects a deleted last row through the chain head, and refuses to append after it', () => {
    const store = openStore();
    provisionRun(store);
    tamper('DELETE FROM events WHERE seq = 7');
    const result = store.verify();
    expect(result.problem).toMatchObject({ kind: 'tail-truncated', seq: 7 });
    expect(result.problem!.message).toMatch(/head says 7 rows but the trail stops at row 6/);
    const error = expectAuditError(() => store.startRun(START), 'AUDIT_CORRUPT');
    expect(error.message).toContain(file);
    expect(store.verify().problem).toMatchObject({ kind: 'tail-truncated', seq: 7 });
  });

  it('detects several deleted last rows and a deleted head record', () => {
    const store = openStore();
    provisionRun(store);
    tamper('DELETE FROM events WHERE seq >= 5');
    expect(store.verify().problem).toMatchObject({ kind: 'tail-truncated', seq: 5 });
    raw((db) => db.prepare("DELETE FROM meta WHERE key = 'head'").run());
    expect(store.verify().problem).toMatchObject({ kind: 'head-missing' });
  });

  it('limit: a truncation that also rewrites the head passes verify; an anchor kept elsewhere catches it', () => {
    const store = openStore();
    provisionRun(store);
    const anchor = store.head();
    tamper('DELETE FROM events WHERE seq = 7');
    raw((db) => {
      const last = db.prepare('SELECT seq, hash FROM events WHERE seq = 6').get() as {
        seq: number;
        hash: string;
      };
      db.prepare("UPDATE meta SET value = ? WHERE key = 'head'").run(JSON.stringify(last));
    });
    expect(store.verify().ok).toBe(true);
    expect(store.verify({ anchors: [anchor] }).problem).toMatchObject({ kind: 'anchor-mismatch', seq: 7 });
  });

  it('reports a payload that is no longer JSON', () => {
    const store = openStore();
    provisionRun(store);
    raw((db) => {
      db.exec('DROP TRIGGER events_no_update; DROP INDEX events_by_sn;');
      db.prepare("UPDATE events SET payload = 'not json' WHERE seq = 3").run();
    });
    expect(store.verify().problem).toMatchObject({ kind: 'bad-row', seq: 3 });
    expectAuditError(() => store.history(), 'AUDIT_CORRUPT');
  });
});

describe('audit store: history and report', () => {
  const rowHash = (seq: number) =>
    raw((db) => (db.prepare('SELECT hash FROM events WHERE seq = ?').get(seq) as { hash: string }).hash);

  function seeded(): AuditStore {
    const store = openStore({ now: steppingClock('2025-03-01T08:00:00.000Z') });
    provisionRun(store, 'SN1'); // 08:00:00 .. 08:00:06
    provisionRun(store, 'SN2'); // 08:00:07 ..
    // SN1 again, identity known at start (as a diag run gives it)
    const diag = store.startRun({
      kind: 'diag',
      port: 'p',
      technician: 'bo',
      station: 's2',
      terminal: { model: 'T100', sn: 'SN1', fw: '1' },
    }); // 08:00:14
    store.recordDiagnostics(diag, [{ check: 'power', status: 'pass' }]);
    store.finishRun(diag, { outcome: 'ok' });
    const unfinished = store.startRun({ ...START, technician: 'cy' }); // 08:00:17
    store.recordTerminal(unfinished, { model: 'T200', sn: 'SN3', fw: '2' });
    store.recordStep(unfinished, step('identify'));
    return store;
  }

  it('filters by serial number, newest first', () => {
    const store = seeded();
    expect(store.history({ sn: 'SN1' }).map((r) => [r.kind, r.terminal?.sn])).toEqual([
      ['diag', 'SN1'],
      ['provision', 'SN1'],
    ]);
    expect(store.history({ sn: 'SN3' }).map((r) => r.outcome)).toEqual(['unfinished']);
    expect(store.history({ sn: 'nope' })).toEqual([]);
  });

  it('filters by start time, kind and limit', () => {
    const store = seeded();
    expect(store.history().length).toBe(4);
    expect(store.history({ since: new Date('2025-03-01T08:00:07.000Z') }).map((r) => r.terminal?.sn)).toEqual(
      ['SN3', 'SN1', 'SN2'],
    );
    expect(store.history({ since: new Date('2025-03-01T08:00:07.001Z') }).length).toBe(2);
    expect(store.history({ limit: 1 }).map((r) => r.terminal?.sn)).toEqual(['SN3']);
    expect(store.history({ kind: 'diag' }).length).toBe(1);
    expect(store.history({ sn: 'SN1', limit: 1 }).map((r) => r.kind)).toEqual(['diag']);
    expectAuditError(() => store.history({ since: new Date('garbage') }), 'AUDIT_INVALID');
  });

  it('reports one row per provisioning run, oldest first, for the acquirer', () => {
    const store = seeded();
    // The seeded runs went through mock://a: the acquirer's report leaves them out unless asked.
    expect(store.report()).toEqual([]);
    const rows = store.report({ includeMocks: true });
    expect(rows.map((r) => r.sn)).toEqual(['SN1', 'SN2', 'SN3']);
    expect(rows[0]).toEqual({
      runId: expect.any(String),
      sn: 'SN1',
      model: 'T100',
      port: 'mock://a',
      merchant: '123456789012345',
      terminal: '12345678',
      technician: 'ana',
      station: 'bench-1',
      started: '2025-03-01T08:00:00.000Z',
      finished: '2025-03-01T08:00:06.000Z',
      outcome: 'provisioned',
      diagPass: 1,
      diagWarn: 1,
      diagFail: 1,
      // The run's last row (its finish, row 7): the head of the trail right after the run.
      auditHead: `7:${rowHash(7)}`,
    });
    // An unfinished run's anchor is its last row so far (rows 1-7, 8-14, 15-17, 18-20).
    expect(rows[2]).toMatchObject({
      sn: 'SN3',
      outcome: 'unfinished',
      finished: null,
      diagPass: null,
      auditHead: `20:${rowHash(20)}`,
    });
    expect(
      store.report({ since: new Date('2025-03-01T08:00:10.000Z'), includeMocks: true }).map((r) => r.sn),
    ).toEqual(['SN3']);
  });

  it('exposes runs and steps as SQL views for the sqlite3 shell', () => {
    seeded();
    const runs = raw((db) => db.prepare('SELECT sn, kind, outcome FROM runs ORDER BY seq').all());
    expect(runs).toEqual([
      { sn: 'SN1', kind: 'provision', outcome: 'provisioned' },
      { sn: 'SN2', kind: 'provision', outcome: 'provisioned' },
      { sn: 'SN1', kind: 'diag', outcome: 'ok' },
      { sn: 'SN3', kind: 'provision', outcome: 'unfinished' },
    ]);
    expect(raw((db) => db.prepare('SELECT count(*) AS n FROM steps').get())).toEqual({ n: 7 });
  });

  it('reads through a read-only store', () => {
    seeded().close();
    const ro = openStore({ readonly: true });
    expect(ro.verify().ok).toBe(true);
    expect(ro.history().length).toBe(4);
    expect(() => ro.startRun(START)).toThrow(AuditError);
  });
});

describe('audit store: never a secret', () => {
  it('refuses an object carrying a password key, and writes nothing', () => {
    const store = openStore();
    const runId = store.startRun(START);
    const leaky = { ...step('admin-password'), password: 'Tr0ub4dor&3' } as StepRecord;
    const error = expectAuditError(() => store.recordStep(runId, leaky), 'AUDIT_SECRET_REFUSED');
    expect(error.message).toContain('step.password');
    expect(error.message).not.toContain('Tr0ub4dor');
    expect(JSON.stringify(error.toJSON())).not.toContain('Tr0ub4dor');
    expectAuditError(
      () => store.startRun({ ...START, details: { password: 'Tr0ub4dor&3' } }),
      'AUDIT_SECRET_REFUSED',
    );
    expect(store.verify()).toMatchObject({ ok: true, rows: 1 });
    expect(
      raw((db) => db.prepare("SELECT count(*) AS n FROM events WHERE payload LIKE '%Tr0ub%'").get()),
    ).toEqual({
      n: 0,
    });
  });

  it.each([
    ['old', { old: 'x' }],
    ['new', { new: 'x' }],
    ['confirm', { confirm: 'x' }],
    ['adminPassword', { adminPassword: 'x' }],
    ['newPassword', { newPassword: 'x' }],
    ['secret', { secret: 'x' }],
    ['nested ADMIN_PASSWORD', { ops: [{ id: '02', ADMIN_PASSWORD: 'x' }] }],
    ['operatorPassword', { operatorPassword: 'x' }],
    ['a Secret object', { user: new Secret('x') }],
    ['an unmasked settlement account', { settleAccount: '6222020200112233445' }],
    ['a URL with a password', { host: 'tcp://bob:hunter22@10.0.0.1:9100' }],
  ])('refuses %s', (_, details) => {
    expectAuditError(() => assertNoSecrets({ details }), 'AUDIT_SECRET_REFUSED');
    const store = openStore();
    expectAuditError(() => store.startRun({ ...START, details: details as never }), 'AUDIT_SECRET_REFUSED');
  });

  it('accepts masked accounts and innocent keys', () => {
    const store = openStore();
    const runId = store.startRun({
      ...START,
      details: { settleAccount: '****3445', oldState: 'factory', host: 'tcp://10.0.0.1:9100' },
    });
    store.recordStep(runId, step('admin-password', 'done', 'admin password replaced'));
    expect(store.verify().ok).toBe(true);
  });
});

describe('audit store: opening', () => {
  it('names the file when it is not an SQLite database', () => {
    writeFileSync(file, 'this is not a database, just some text that is long enough to have a header');
    const error = expectAuditError(() => AuditStore.open(file), 'AUDIT_OPEN_FAILED');
    expect(error.message).toContain(file);
  });

  it('refuses an SQLite database that is not an audit trail', () => {
    raw((db) => db.exec('CREATE TABLE other (x)'));
    const error = expectAuditError(() => AuditStore.open(file), 'AUDIT_OPEN_FAILED');
    expect(error.message).toBe(`${file} is not a posbridge audit trail`);
  });

  it('refuses a newer schema', () => {
    openStore().close();
    raw((db) => db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run());
    const error = expectAuditError(() => AuditStore.open(file), 'AUDIT_SCHEMA_UNSUPPORTED');
    expect(error.message).toContain(file);
  });

  it('says there is no trail when opening a missing file read-only', () => {
    const error = expectAuditError(() => AuditStore.open(file, { readonly: true }), 'AUDIT_OPEN_FAILED');
    expect(error.message).toBe(`no audit trail at ${file}`);
  });

  it('cannot be used once closed', () => {
    const store = openStore();
    store.close();
    store.close();
    expectAuditError(() => store.startRun(START), 'AUDIT_CLOSED');
    expectAuditError(() => store.verify(), 'AUDIT_CLOSED');
  });

  it('defaults to the XDG data directory', () => {
    expect(defaultAuditPath({ XDG_DATA_HOME: '/x/data' }, '/home/u')).toBe('/x/data/posbridge/audit.sqlite3');
    expect(defaultAuditPath({}, '/home/u')).toBe('/home/u/.local/share/posbridge/audit.sqlite3');
    expect(defaultAuditPath({ XDG_DATA_HOME: '', HOME: '/home/v' }, '/home/u')).toBe(
      '/home/v/.local/share/posbridge/audit.sqlite3',
    );
    expect(defaultAuditPath({ XDG_DATA_HOME: 'relative' }, '/home/u')).toBe(
      '/home/u/.local/share/posbridge/audit.sqlite3',
    );
  });
});
