/**
 * The daemon's numbered event stream (docs/api.md, "Hub events"): IDs that name the daemon's life,
 * a replay of exactly what followed the caller's last ID, and a resync (with the terminal list)
 * when that cannot be honoured: another life, too old, or not an ID at all.
 */
import { describe, expect, it } from 'vitest';
import { BenchStatus } from '../../src/daemon/api/bench-status.js';
import { EventJournal, type JournalEntry } from '../../src/daemon/api/event-journal.js';
import type { HubEvent, TerminalInfo } from '../../src/host/hub.js';
import { FakeHub } from '../support/fake-hub.js';

const terminal = (port: string, state: TerminalInfo['state'] = 'present'): TerminalInfo => ({
  port,
  state,
  since: '2026-01-01T00:00:00.000Z',
});

function added(port: string): HubEvent {
  return { type: 'terminal-added', terminal: terminal(port) };
}

describe('EventJournal', () => {
  it('numbers events EPOCH-SEQ and replays exactly what followed the last ID seen', () => {
    const hub = new FakeHub();
    const journal = new EventJournal(hub, { epoch: 'abc' });
    for (const port of ['p1', 'p2', 'p3']) hub.publish(added(port));
    expect(journal.lastId).toBe('abc-3');
    const live: JournalEntry[] = [];
    const sub = journal.subscribe((e) => live.push(e), 'abc-1');
    expect(sub.resync).toBeUndefined();
    expect(sub.replay.map((e) => e.id)).toEqual(['abc-2', 'abc-3']);
    expect(sub.replay.map((e) => (e.event as { terminal: TerminalInfo }).terminal.port)).toEqual([
      'p2',
      'p3',
    ]);
    hub.publish(added('p4'));
    expect(live.map((e) => e.id)).toEqual(['abc-4']);
    sub.unsubscribe();
    hub.publish(added('p5'));
    expect(live).toHaveLength(1);
  });

  it('a subscriber that saw the last event gets no replay; a new one gets none either', () => {
    const hub = new FakeHub();
    const journal = new EventJournal(hub, { epoch: 'e' });
    hub.publish(added('p1'));
    expect(journal.subscribe(() => undefined, 'e-1').replay).toEqual([]);
    expect(journal.subscribe(() => undefined).replay).toEqual([]);
    // Before the first event, `e-0` (what a resync on an empty journal carries) replays all.
    expect(journal.subscribe(() => undefined, 'e-0').replay.map((e) => e.id)).toEqual(['e-1']);
  });

  it('resyncs with the terminal list when the ID is from another life, too old, or unreadable', () => {
    const hub = new FakeHub();
    hub.terminals = [terminal('p9')];
    const journal = new EventJournal(hub, { epoch: 'new', capacity: 2 });
    for (const port of ['p1', 'p2', 'p3', 'p4']) hub.publish(added(port));
    const restarted = journal.subscribe(() => undefined, 'old-3');
    expect(restarted.resync).toEqual({ type: 'resync', reason: 'restarted', terminals: [terminal('p9')] });
    expect(restarted.replay).toEqual([]);
    // new-2 was the last seen: new-3 and new-4 are kept, nothing was lost.
    expect(journal.subscribe(() => undefined, 'new-2').replay.map((e) => e.id)).toEqual(['new-3', 'new-4']);
    // new-1 was the last seen: new-2 fell out of the window.
    expect(journal.subscribe(() => undefined, 'new-1').resync?.reason).toBe('expired');
    expect(journal.subscribe(() => undefined, 'new-99').resync?.reason).toBe('invalid');
    expect(journal.subscribe(() => undefined, '17').resync?.reason).toBe('invalid');
  });
});

describe('BenchStatus', () => {
  it('says what a port is busy with, its step count, and how its last operation ended', () => {
    const hub = new FakeHub();
    hub.terminals = [terminal('p1', 'busy')];
    let now = 0;
    const bench = new BenchStatus(hub, () => new Date(now));
    hub.subscribe(bench.observe);
    hub.publish({ type: 'operation-started', port: 'p1', operation: 'provision', id: 'op-1' });
    now = 1000;
    const step = {
      step: 'login' as const,
      outcome: 'done' as const,
      detail: 'admin logged in',
      startedAt: '',
      finishedAt: '',
    };
    hub.publish({ type: 'step', port: 'p1', operation: 'provision', step });
    expect(bench.rows()[0]).toMatchObject({
      port: 'p1',
      activity: {
        operation: 'provision',
        id: 'op-1',
        since: '1970-01-01T00:00:00.000Z',
        steps: 1,
        step: { step: 'login', outcome: 'done', detail: 'admin logged in' },
      },
    });
    hub.publish({ type: 'operation-finished', port: 'p1', operation: 'provision', outcome: 'failed' });
    const row = bench.rows()[0]!;
    expect(row.activity).toBeUndefined();
    expect(row.lastResult).toEqual({
      operation: 'provision',
      outcome: 'failed',
      at: '1970-01-01T00:00:01.000Z',
    });
  });

  it('a provisioning whose diagnostics failed is failed, with the failing step and the checks', () => {
    const hub = new FakeHub();
    hub.terminals = [{ ...terminal('p1'), status: { state: 'initialized' } as never }];
    const bench = new BenchStatus(hub, () => new Date(0));
    hub.subscribe(bench.observe);
    const results = [
      { check: 'printer', status: 'fail' as const, code: 'paper_out', hint: 'load paper' },
      { check: 'network', status: 'pass' as const },
    ];
    const diagStep = {
      step: 'diagnostics' as const,
      outcome: 'failed' as const,
      detail: '2 checks: 1 pass, 0 warn, 1 fail',
      startedAt: '',
      finishedAt: '',
    };
    hub.publish({
      type: 'operation-finished',
      port: 'p1',
      operation: 'provision',
      outcome: 'provisioned',
      report: {
        steps: [diagStep],
        diagnostics: { pass: 1, warn: 0, fail: 1, results },
      } as never,
    });
    expect(bench.rows()[0]).toMatchObject({
      condition: 'failed',
      lastResult: { outcome: 'provisioned', detail: diagStep.detail, diagnostics: results },
    });
  });

  it('keeps a terminal pulled out as gone, until its port comes back', () => {
    const hub = new FakeHub();
    const bench = new BenchStatus(hub);
    hub.subscribe(bench.observe);
    hub.terminals = [terminal('p1'), terminal('p2')];
    hub.terminals = [terminal('p1')];
    hub.publish({ type: 'terminal-removed', terminal: terminal('p2') });
    expect(bench.rows().map((r) => [r.port, r.state, r.condition])).toEqual([
      ['p1', 'present', 'unknown'],
      ['p2', 'gone', 'gone'],
    ]);
    hub.terminals = [terminal('p1'), terminal('p2', 'identifying')];
    hub.publish({ type: 'terminal-added', terminal: terminal('p2', 'identifying') });
    expect(bench.rows().map((r) => [r.port, r.state])).toEqual([
      ['p1', 'present'],
      ['p2', 'identifying'],
    ]);
  });

  it("shows a port's last result only on the terminal it was about, not on the next one plugged in", () => {
    const hub = new FakeHub();
    const bench = new BenchStatus(hub, () => new Date(0));
    hub.subscribe(bench.observe);
    const withSn = (sn: string, state: 'factory' | 'initialized', at = terminal('p1')): TerminalInfo => ({
      ...at,
      hello: { sn, model: 'PB-MOCK', fw: '1.0.0', state } as never,
      status: { state } as never,
    });
    hub.terminals = [withSn('PBM0000001', 'initialized')];
    hub.publish({
      type: 'operation-finished',
      port: 'p1',
      operation: 'provision',
      outcome: 'provisioned',
      report: { steps: [], terminal: { sn: 'PBM0000001', model: 'PB-MOCK', fw: '1.0.0' } } as never,
    });
    expect(bench.rows()[0]?.condition).toBe('provisioned');
    // The technician swaps in the next terminal on the same hub port: while it is identified and
    // once it says who it is, the tile is its own, not green with the last one's result.
    hub.terminals = [];
    hub.publish({ type: 'terminal-removed', terminal: withSn('PBM0000001', 'initialized') });
    hub.terminals = [terminal('p1', 'identifying')];
    hub.publish({ type: 'terminal-added', terminal: terminal('p1', 'identifying') });
    expect(bench.rows()[0]).toMatchObject({ condition: 'identifying' });
    expect(bench.rows()[0]?.lastResult).toBeUndefined();
    hub.terminals = [withSn('PBM0000002', 'factory')];
    expect(bench.rows()[0]?.condition).toBe('factory');
    expect(bench.rows()[0]?.lastResult).toBeUndefined();
    // The first one back on that port shows its result again.
    hub.terminals = [withSn('PBM0000001', 'initialized')];
    expect(bench.rows()[0]).toMatchObject({
      condition: 'provisioned',
      lastResult: { outcome: 'provisioned' },
    });
  });
});
