/**
 * The status rows of a terminal this daemon life has not provisioned take its last provisioning
 * from the audit trail (src/daemon/api/past-results.ts): a terminal provisioned before the daemon
 * restarted is still `provisioned`, with its diagnostics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/audit/index.js';
import { BenchStatus } from '../../src/daemon/api/bench-status.js';
import { pastResultsIn } from '../../src/daemon/api/past-results.js';
import type { TerminalInfo } from '../../src/host/hub.js';
import { FakeHub } from '../support/fake-hub.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function trail(): { file: string; store: AuditStore } {
  const dir = mkdtempSync(join(tmpdir(), 'pb-past-'));
  dirs.push(dir);
  const file = join(dir, 'audit.sqlite3');
  let t = Date.parse('2026-03-01T08:00:00.000Z');
  const now = (): Date => {
    t += 1000;
    return new Date(t);
  };
  return { file, store: AuditStore.open(file, { now }) };
}

function run(
  store: AuditStore,
  sn: string,
  outcome: 'provisioned' | 'failed' | 'planned',
  options: {
    dryRun?: boolean;
    printer?: 'pass' | 'fail';
    unfinished?: boolean;
    port?: string;
    model?: string;
  } = {},
): void {
  const runId = store.startRun({
    kind: 'provision',
    port: options.port ?? '/dev/ttyUSB0',
    technician: 'ana',
    station: 'bench-1',
    ...(options.dryRun && { details: { dryRun: true } }),
  });
  store.recordTerminal(runId, { model: options.model ?? 'T100', sn, fw: '1.2.3' });
  if (options.printer === 'fail')
    store.recordStep(runId, {
      step: 'diagnostics',
      outcome: 'failed',
      detail: '1 checks: 0 pass, 0 warn, 1 fail',
      startedAt: '2026-03-01T08:00:00.000Z',
      finishedAt: '2026-03-01T08:00:01.000Z',
    });
  store.recordDiagnostics(runId, [
    {
      check: 'printer',
      status: options.printer ?? 'pass',
      ...(options.printer === 'fail' && { code: 'paper_out', hint: 'Load paper' }),
    },
  ]);
  if (!options.unfinished)
    store.finishRun(runId, {
      outcome,
      ...(outcome === 'failed' && { error: { code: 'TERMINAL_REFUSED', message: 'INIT refused: 409' } }),
    });
}

const present = (sn: string, port = '/dev/ttyUSB0'): TerminalInfo => ({
  port,
  state: 'present',
  since: '2026-03-02T00:00:00.000Z',
  hello: { sn, model: 'T100', fw: '1.2.3', state: 'initialized' } as never,
  status: { state: 'initialized' } as never,
});

describe('status rows from the audit trail', () => {
  it('a terminal provisioned before this daemon life is provisioned, with its diagnostics', () => {
    const { file, store } = trail();
    run(store, 'SN-A', 'provisioned');
    run(store, 'SN-B', 'provisioned', { printer: 'fail' });
    run(store, 'SN-C', 'failed');
    store.close();
    const hub = new FakeHub();
    hub.terminals = [
      present('SN-A', 'p1'),
      present('SN-B', 'p2'),
      present('SN-C', 'p3'),
      present('SN-D', 'p4'),
    ];
    const bench = new BenchStatus(hub, () => new Date(0), pastResultsIn(file));
    expect(bench.rows().map((row) => [row.hello?.sn, row.condition, row.lastResult?.outcome])).toEqual([
      ['SN-A', 'provisioned', 'provisioned'],
      ['SN-B', 'failed', 'provisioned'],
      ['SN-C', 'failed', 'failed'],
      ['SN-D', 'initialized', undefined],
    ]);
    // The failing step's words, as a result of this daemon life keeps them.
    expect(bench.rows()[1]?.lastResult?.detail).toBe('1 checks: 0 pass, 0 warn, 1 fail');
    expect(bench.rows()[1]?.lastResult?.diagnostics).toEqual([
      { check: 'printer', status: 'fail', code: 'paper_out', hint: 'Load paper' },
    ]);
    expect(bench.rows()[2]?.lastResult).toMatchObject({
      detail: 'INIT refused: 409',
      at: expect.any(String),
    });
  });

  it('skips dry runs and unfinished runs; a result of this daemon life wins over the trail', () => {
    const { file, store } = trail();
    run(store, 'SN-A', 'failed');
    run(store, 'SN-A', 'planned', { dryRun: true });
    run(store, 'SN-A', 'provisioned', { unfinished: true });
    store.close();
    const hub = new FakeHub();
    hub.terminals = [present('SN-A')];
    const bench = new BenchStatus(hub, () => new Date(0), pastResultsIn(file));
    hub.subscribe(bench.observe);
    expect(bench.rows()[0]).toMatchObject({ condition: 'failed', lastResult: { outcome: 'failed' } });
    hub.publish({
      type: 'operation-finished',
      port: '/dev/ttyUSB0',
      operation: 'provision',
      outcome: 'provisioned',
      report: { steps: [], terminal: { sn: 'SN-A', model: 'T100', fw: '1.2.3' } } as never,
    });
    expect(bench.rows()[0]).toMatchObject({
      condition: 'provisioned',
      lastResult: { outcome: 'provisioned' },
    });
  });

  it('a missing trail, or one that cannot be read, leaves the rows as the terminals say', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-past-'));
    dirs.push(dir);
    const hub = new FakeHub();
    hub.terminals = [present('SN-A')];
    const missing = new BenchStatus(hub, () => new Date(0), pastResultsIn(join(dir, 'none.sqlite3')));
    expect(missing.rows()[0]?.condition).toBe('initialized');
    // A trail busy for a moment: the tile goes without its past, and the next read asks again.
    let busy = true;
    const broken = new BenchStatus(
      hub,
      () => new Date(0),
      () => {
        if (busy) throw new Error('database is locked');
        return { operation: 'provision', outcome: 'provisioned', at: '2026-03-01T08:00:00.000Z' };
      },
    );
    expect(broken.rows()[0]?.condition).toBe('initialized');
    busy = false;
    expect(broken.rows()[0]?.condition).toBe('provisioned');
  });

  it('a real terminal is found on any port; a mock (they share serial numbers) only where it ran', () => {
    const { file, store } = trail();
    run(store, 'SN-A', 'provisioned', { port: '/dev/ttyUSB3' });
    run(store, 'PBM0000001', 'provisioned', { port: 'mock://b', model: 'PB-MOCK' });
    store.close();
    const hub = new FakeHub();
    hub.terminals = [
      present('SN-A', '/dev/ttyUSB0'),
      present('PBM0000001', 'mock://a'),
      present('PBM0000001', 'mock://b'),
    ];
    const bench = new BenchStatus(hub, () => new Date(0), pastResultsIn(file));
    expect(bench.rows().map((row) => [row.port, row.condition])).toEqual([
      ['/dev/ttyUSB0', 'provisioned'],
      ['mock://a', 'initialized'],
      ['mock://b', 'provisioned'],
    ]);
  });
});
