/**
 * The Station against a hub and an engine the test drives by hand: which terminal is provisioned
 * with which row, what is left alone, how many run at once (read from the events and from the
 * calls in flight, never from timing), replugs, the end conditions and the exit code.
 */
import { describe, expect, it } from 'vitest';
import type { CallOptions, InfoReport } from '../../src/host/engine.js';
import { PosbridgeError } from '../../src/host/errors.js';
import type { HubEvent, TerminalHub, TerminalInfo } from '../../src/host/hub.js';
import type { HandlersOf, RequestOf } from '../../src/host/operations/index.js';
import { Secret } from '../../src/host/secret.js';
import { DEFAULT_PROFILE } from '../../src/host/workflow/profile.js';
import type { ProvisionReport, StepRecord } from '../../src/host/workflow/report.js';
import type { ManifestRow } from '../../src/station/manifest.js';
import { StaticHub } from '../../src/station/static-hub.js';
import {
  Station,
  type StationEvent,
  type StationOptions,
  stationExitCode,
} from '../../src/station/station.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const ADMIN = new Secret('Adm1n-2026');

function row(sn: string, index: number, extra: Partial<ManifestRow> = {}): ManifestRow {
  return {
    sn,
    merchant: '822100052110023',
    terminal: String(10000000 + index),
    profile: DEFAULT_PROFILE,
    where: `line ${index + 2}`,
    index,
    ...extra,
  };
}

/** A hub the test plugs terminals into. */
class FakeHub implements TerminalHub {
  readonly terminals = new Map<string, TerminalInfo>();
  private readonly listeners = new Set<(event: HubEvent) => void>();

  list(): TerminalInfo[] {
    return [...this.terminals.values()];
  }

  subscribe(listener: (event: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: HubEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  identifying(port: string): void {
    const info: TerminalInfo = { port, state: 'identifying', since: NOW.toISOString() };
    this.terminals.set(port, info);
    this.emit({ type: 'terminal-added', terminal: info });
  }

  plug(port: string, sn: string, state: TerminalInfo['state'] = 'present'): void {
    const known = this.terminals.has(port);
    const info: TerminalInfo = {
      port,
      state,
      since: NOW.toISOString(),
      hello: { proto: 1, model: 'PB-MOCK', sn, fw: '1.0.0', state: 'factory', caps: [] },
    };
    this.terminals.set(port, info);
    this.emit({ type: known ? 'terminal-updated' : 'terminal-added', terminal: info });
  }

  unplug(port: string): void {
    const info = this.terminals.get(port)!;
    this.terminals.delete(port);
    this.emit({ type: 'terminal-removed', terminal: { ...info, state: 'gone' } });
  }

  fail(port: string, message: string): void {
    const info: TerminalInfo = {
      port,
      state: 'error',
      since: NOW.toISOString(),
      error: { code: 'TIMEOUT', message },
    };
    this.terminals.set(port, info);
    this.emit({ type: 'terminal-updated', terminal: info });
  }
}

/** A provision call as the engine got it: the request and its handlers. */
type ProvisionCall = RequestOf<'provision'> & { on?: HandlersOf<'provision'> | undefined };

interface PendingRun {
  call: ProvisionCall;
  finish(outcome?: ProvisionReport['outcome'], extra?: Partial<ProvisionReport>): void;
  fail(code: ConstructorParameters<typeof PosbridgeError>[0], steps?: StepRecord[]): void;
}

/** An engine whose provision runs end when the test says so. */
class FakeEngine {
  readonly calls: ProvisionCall[] = [];
  readonly pending = new Map<string, PendingRun>();
  maxInFlight = 0;

  /** The serial number the terminal on a port answers with (the hub's, unless a test swaps it). */
  constructor(private readonly snOf: (port: string) => string | undefined) {}

  provision(
    request: RequestOf<'provision'>,
    options: CallOptions<'provision'> = {},
  ): Promise<ProvisionReport> {
    const call: ProvisionCall = { ...request, on: options.on };
    this.calls.push(call);
    const port = call.request.port;
    return new Promise<ProvisionReport>((resolve, reject) => {
      const sn = this.snOf(port) ?? '?';
      const report = (outcome: ProvisionReport['outcome'], steps: StepRecord[]): ProvisionReport => ({
        kind: 'provision',
        outcome,
        port,
        technician: call.request.technician,
        station: call.request.station,
        terminal: { model: 'PB-MOCK', sn, fw: '1.0.0' },
        merchant: call.request.merchant,
        terminalNumber: call.request.terminal,
        startedAt: NOW.toISOString(),
        finishedAt: NOW.toISOString(),
        steps,
      });
      this.pending.set(port, {
        call,
        finish: (outcome = 'provisioned', extra = {}) => {
          this.pending.delete(port);
          const steps = [step('admin-password', 'done')];
          for (const s of steps) call.on?.step?.(s);
          resolve({ ...report(outcome, steps), ...extra });
        },
        fail: (code, steps = [step('identify', 'done')]) => {
          this.pending.delete(port);
          const error = new PosbridgeError(code, `${code.toLowerCase()} on ${port}`);
          // A port that does not open throws (no run, no report); a run that stops resolves to its report.
          if (code === 'PORT_BUSY') return reject(error);
          const r = report(code === 'TAMPERED' ? 'quarantined' : 'failed', steps);
          r.error = { code, message: error.message };
          resolve(r);
        },
      });
      this.maxInFlight = Math.max(this.maxInFlight, this.pending.size);
    });
  }

  run(port: string): PendingRun {
    const run = this.pending.get(port);
    if (!run)
      throw new Error(`no run in flight on ${port} (in flight: ${[...this.pending.keys()].join(', ')})`);
    return run;
  }
}

function step(name: StepRecord['step'], outcome: StepRecord['outcome']): StepRecord {
  return {
    step: name,
    outcome,
    detail: `${name} ${outcome}`,
    startedAt: NOW.toISOString(),
    finishedAt: NOW.toISOString(),
  };
}

function setup(sns: string[], options: Partial<StationOptions> = {}, before?: (hub: FakeHub) => void) {
  const hub = new FakeHub();
  before?.(hub);
  const engine = new FakeEngine((port) => hub.terminals.get(port)?.hello?.sn);
  const station = new Station({
    rows: sns.map((sn, i) => row(sn, i)),
    manifest: 'm.csv',
    hub,
    engine,
    adminPassword: ADMIN,
    technician: 'tech',
    station: 'bench-1',
    now: () => NOW,
    ...options,
  });
  const events: StationEvent[] = [];
  station.subscribe((e) => events.push(e));
  const done = station.run();
  let ended = false;
  void done.then(() => {
    ended = true;
  });
  return { hub, engine, station, events, done, isEnded: () => ended };
}

/** Lets the promise callbacks queued so far run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Station', () => {
  it('provisions each terminal with its own row, and ends when every row has a result', async () => {
    const rows = [row('PB1', 0, { name: 'Shop One' }), row('PB2', 1)];
    const { hub, engine, done, isEnded } = setup([], { rows });
    hub.plug('mock://a', 'PB2');
    hub.plug('mock://b', 'PB1');
    expect(engine.calls.map((c) => [c.request.port, c.request.terminal, c.request.name])).toEqual([
      ['mock://a', '10000001', undefined],
      ['mock://b', '10000000', 'Shop One'],
    ]);
    const request = engine.calls[0]!.request;
    expect(request.adminPassword).toBe(ADMIN);
    expect(request).toMatchObject({ technician: 'tech', station: 'bench-1', adminPasswordKnown: false });
    engine.run('mock://a').finish('provisioned');
    await settle();
    expect(isEnded()).toBe(false);
    engine.run('mock://b').finish('already-provisioned');
    const summary = await done;
    expect(summary.endedBy).toBe('complete');
    expect(summary.rows.map((r) => [r.sn, r.port, r.outcome, r.attempts])).toEqual([
      ['PB1', 'mock://b', 'already-provisioned', 1],
      ['PB2', 'mock://a', 'provisioned', 1],
    ]);
    expect(stationExitCode(summary)).toBe(0);
  });

  it('leaves a terminal whose serial number is not in the manifest alone, and reports it', async () => {
    const { hub, engine, events, station, done } = setup(['PB1']);
    hub.plug('mock://x', 'STRANGER');
    hub.plug('mock://x', 'STRANGER'); // seen again (a state change): reported once
    expect(engine.calls).toEqual([]);
    expect(events.filter((e) => e.type === 'unknown')).toEqual([
      { type: 'unknown', port: 'mock://x', sn: 'STRANGER' },
    ]);
    expect(() => station.run()).toThrow(/once/);
    station.stop('signal');
    expect((await done).unknown).toEqual([{ port: 'mock://x', sn: 'STRANGER', model: 'PB-MOCK' }]);
  });

  it('runs at most --concurrency at once, starting the next as one ends', async () => {
    const sns = ['PB1', 'PB2', 'PB3', 'PB4', 'PB5'];
    const { hub, engine, events, done } = setup(sns, { concurrency: 2 });
    for (const sn of sns) hub.plug(`mock://${sn}`, sn);
    expect(events.filter((e) => e.type === 'queued').map((e) => e.sn)).toEqual(['PB3', 'PB4', 'PB5']);
    expect(events.filter((e) => e.type === 'started').map((e) => e.sn)).toEqual(['PB1', 'PB2']);
    engine.run('mock://PB2').finish();
    await settle();
    expect(events.filter((e) => e.type === 'started').map((e) => e.sn)).toEqual(['PB1', 'PB2', 'PB3']);
    for (const sn of ['PB1', 'PB3', 'PB4', 'PB5']) {
      engine.run(`mock://${sn}`).finish();
      await settle();
    }
    await done;
    expect(engine.maxInFlight).toBe(2);
    expect(maxOverlap(events)).toBe(2);
  });

  it('runs every terminal at once by default', async () => {
    const sns = ['PB1', 'PB2', 'PB3', 'PB4', 'PB5'];
    const { hub, engine, events, done } = setup(sns);
    for (const sn of sns) hub.plug(`mock://${sn}`, sn);
    expect(engine.pending.size).toBe(5);
    for (const sn of sns) engine.run(`mock://${sn}`).finish();
    await done;
    expect(maxOverlap(events)).toBe(5);
  });

  it('does not run a finished terminal again when it is plugged in again', async () => {
    const { hub, engine, events, station, done } = setup(['PB1', 'PB2']);
    hub.plug('mock://a', 'PB1');
    engine.run('mock://a').finish();
    await settle();
    hub.unplug('mock://a');
    hub.plug('mock://a', 'PB1');
    hub.plug('mock://b', 'PB1'); // or on another port
    expect(engine.calls).toHaveLength(1);
    expect(events.filter((e) => e.type === 'repeat')).toEqual([
      {
        type: 'repeat',
        port: 'mock://a',
        sn: 'PB1',
        outcome: 'provisioned',
        note: expect.stringContaining('not run again'),
      },
      {
        type: 'repeat',
        port: 'mock://b',
        sn: 'PB1',
        outcome: 'provisioned',
        note: expect.stringContaining('not run again'),
      },
    ]);
    station.stop('signal');
    const summary = await done;
    expect(summary.rows[0]).toMatchObject({ sn: 'PB1', outcome: 'provisioned', attempts: 1 });
  });

  it('runs a row again when its terminal comes back after a failure a retry can cure', async () => {
    // PB2 keeps the run open: a run ends when every row has a result, a failure included.
    const { hub, engine, station, done } = setup(['PB1', 'PB2']);
    hub.plug('mock://a', 'PB1');
    // The cable came out after the admin password was replaced.
    engine.run('mock://a').fail('DISCONNECTED', [step('identify', 'done'), step('admin-password', 'done')]);
    await settle();
    hub.unplug('mock://a');
    expect(engine.calls).toHaveLength(1);
    hub.plug('mock://a', 'PB1');
    expect(engine.calls).toHaveLength(2);
    // This run set the password: the retry may rely on it even on the last login attempt.
    expect(engine.calls[1]!.request.adminPasswordKnown).toBe(true);
    engine.run('mock://a').finish('provisioned');
    await settle();
    station.stop('signal');
    const summary = await done;
    expect(summary.rows[0]).toMatchObject({ outcome: 'provisioned', attempts: 2 });
  });

  it('ends when every row has a result, a retryable failure included', async () => {
    const { hub, engine, done } = setup(['PB1']);
    hub.plug('mock://a', 'PB1');
    engine.run('mock://a').fail('DISCONNECTED');
    const summary = await done;
    expect(summary).toMatchObject({
      endedBy: 'complete',
      rows: [{ outcome: 'failed', error: { code: 'DISCONNECTED' } }],
    });
    expect(stationExitCode(summary)).toBe(1);
  });

  it('never retries a refused password, a lock or a tampered terminal in the same run', async () => {
    const { hub, engine, events, done } = setup(['PB1', 'PB2']);
    hub.plug('mock://a', 'PB1');
    hub.plug('mock://b', 'PB2');
    engine.run('mock://a').fail('BAD_CREDENTIALS');
    engine.run('mock://b').fail('TAMPERED');
    const summary = await done;
    expect(summary.rows.map((r) => [r.sn, r.outcome, r.error?.code])).toEqual([
      ['PB1', 'failed', 'BAD_CREDENTIALS'],
      ['PB2', 'quarantined', 'TAMPERED'],
    ]);
    expect(stationExitCode(summary)).toBe(1);
    expect(events.filter((e) => e.type === 'started')).toHaveLength(2);
  });

  it('a diagnostics failure fails the row (exit 1) and keeps the counts', async () => {
    const { hub, engine, done } = setup(['PB1']);
    hub.plug('mock://a', 'PB1');
    engine.run('mock://a').finish('provisioned', {
      diagnostics: {
        pass: 11,
        warn: 0,
        fail: 1,
        results: [{ check: 'printer', status: 'fail', code: 'paper_out', hint: 'Load paper' }],
      },
    });
    const summary = await done;
    expect(summary.rows[0]).toMatchObject({
      outcome: 'failed',
      diagnostics: { pass: 11, warn: 0, fail: 1 },
      error: { code: 'CHECK_FAILED', message: expect.stringContaining('printer paper_out (Load paper)') },
    });
    expect(summary.rows[0]!.error!.message).toMatch(/^provisioned, but diagnostics failed/);
    expect(stationExitCode(summary)).toBe(1);
  });

  it('the same serial number on a second port waits, and runs there if the first run fails retryably', async () => {
    const { hub, engine, events, done } = setup(['PB1']);
    hub.plug('mock://a', 'PB1');
    hub.plug('mock://b', 'PB1');
    expect(events.filter((e) => e.type === 'duplicate')).toEqual([
      { type: 'duplicate', port: 'mock://b', sn: 'PB1', otherPort: 'mock://a' },
    ]);
    expect(engine.calls).toHaveLength(1);
    engine.run('mock://a').fail('TIMEOUT');
    await settle();
    expect(engine.calls.map((c) => c.request.port)).toEqual(['mock://a', 'mock://b']);
    engine.run('mock://b').finish();
    expect((await done).rows[0]).toMatchObject({ port: 'mock://b', outcome: 'provisioned', attempts: 2 });
  });

  it('ignores identifying, busy and repeated sightings of the same plug-in', async () => {
    const { hub, engine, station, done } = setup(['PB1']);
    hub.identifying('mock://a');
    hub.plug('mock://a', 'PB1', 'busy');
    expect(engine.calls).toHaveLength(0);
    hub.plug('mock://a', 'PB1');
    hub.plug('mock://a', 'PB1', 'busy'); // our own lease
    hub.plug('mock://a', 'PB1');
    expect(engine.calls).toHaveLength(1);
    station.stop('signal');
    await settle();
    engine.run('mock://a').finish();
    expect((await done).endedBy).toBe('signal');
  });

  it('with untilIdle, ends when nothing runs or is identified: unseen rows are not-seen (exit 3)', async () => {
    const { hub, engine, isEnded, done } = setup(['PB1', 'PB2'], { untilIdle: true }, (hub) => {
      hub.identifying('mock://a');
      hub.identifying('mock://b');
    });
    hub.plug('mock://a', 'PB1');
    expect(isEnded()).toBe(false);
    hub.fail('mock://b', 'no answer to HELLO');
    await settle();
    expect(isEnded()).toBe(false); // PB1 still running
    engine.run('mock://a').finish();
    const summary = await done;
    expect(summary.endedBy).toBe('idle');
    expect(summary.rows.map((r) => [r.sn, r.outcome])).toEqual([
      ['PB1', 'provisioned'],
      ['PB2', 'not-seen'],
    ]);
    expect(summary.rows[1]!.error?.message).toContain('not seen');
    expect(summary.unidentified).toEqual([
      { port: 'mock://b', error: { code: 'TIMEOUT', message: 'no answer to HELLO' } },
    ]);
    expect(stationExitCode(summary)).toBe(3);
  });

  it('with untilIdle and an empty hub, ends at once', async () => {
    const { done } = setup(['PB1'], { untilIdle: true });
    expect((await done).rows[0]?.outcome).toBe('not-seen');
  });

  it('stop: runs under way finish, waiting rows are not run, unseen ones not seen; new terminals are not taken', async () => {
    const { hub, engine, station, events, isEnded, done } = setup(['PB1', 'PB2', 'PB3'], { concurrency: 1 });
    hub.plug('mock://a', 'PB1');
    hub.plug('mock://b', 'PB2');
    station.stop('timeout');
    hub.plug('mock://c', 'PB3');
    await settle();
    expect(isEnded()).toBe(false); // PB1 still running
    engine.run('mock://a').finish();
    const summary = await done;
    expect(summary.endedBy).toBe('timeout');
    expect(summary.rows.map((r) => [r.sn, r.outcome, r.port])).toEqual([
      ['PB1', 'provisioned', 'mock://a'],
      ['PB2', 'not-run', 'mock://b'],
      ['PB3', 'not-seen', undefined],
    ]);
    expect(summary.rows[1]!.error?.message).toContain('before its turn');
    expect(engine.calls).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('ended');
    expect(stationExitCode(summary)).toBe(3);
  });

  it('a terminal unplugged while waiting goes back to waiting for its plug-in', async () => {
    const { hub, engine, station, done } = setup(['PB1', 'PB2'], { concurrency: 1 });
    hub.plug('mock://a', 'PB1');
    hub.plug('mock://b', 'PB2');
    hub.unplug('mock://b');
    engine.run('mock://a').finish();
    await settle();
    expect(engine.calls).toHaveLength(1);
    hub.plug('mock://c', 'PB2');
    engine.run('mock://c').finish();
    expect((await done).rows[1]).toMatchObject({ port: 'mock://c', outcome: 'provisioned' });
    void station;
  });

  it('flags a terminal swapped between identification and the run', async () => {
    const { hub, engine, done } = setup(['PB1']);
    hub.plug('mock://a', 'PB1');
    engine
      .run('mock://a')
      .finish('provisioned', { terminal: { model: 'PB-MOCK', sn: 'OTHER', fw: '1.0.0' } });
    expect((await done).rows[0]).toMatchObject({ outcome: 'failed', error: { code: 'WRONG_TERMINAL' } });
  });

  it('a run that fails before any report (port busy) is failed, and retried on a replug', async () => {
    const { hub, engine, station, done } = setup(['PB1', 'PB2']);
    hub.plug('mock://a', 'PB1');
    engine.run('mock://a').fail('PORT_BUSY');
    await settle();
    hub.unplug('mock://a');
    hub.plug('mock://a', 'PB1');
    engine.run('mock://a').finish();
    await settle();
    station.stop('signal');
    expect((await done).rows[0]).toMatchObject({ outcome: 'provisioned', attempts: 2 });
  });
});

describe('StaticHub', () => {
  it('lists every port as identifying, then announces each as identified or not', async () => {
    const engine = {
      info: async ({ port }: { port: string }): Promise<InfoReport> => {
        if (port === 'tcp://dead') throw new PosbridgeError('TIMEOUT', 'no answer');
        return {
          kind: 'info',
          port,
          hello: { proto: 1, model: 'PB-MOCK', sn: 'S1', fw: '1', state: 'factory', caps: [] },
          status: {
            state: 'factory',
            login: 'none',
            mustChange: false,
            locked: false,
            tamper: false,
            factoryPw: ['admin'],
          },
        };
      },
    };
    const hub = new StaticHub(['mock://a', 'tcp://dead', 'mock://a'], { engine, now: () => NOW });
    expect(hub.list().map((t) => [t.port, t.state])).toEqual([
      ['mock://a', 'identifying'],
      ['tcp://dead', 'identifying'],
    ]);
    const events: HubEvent[] = [];
    hub.subscribe((e) => events.push(e));
    await hub.start().close();
    expect(
      events.map((e) => (e.type === 'terminal-added' ? [e.terminal.port, e.terminal.state] : e.type)),
    ).toEqual([
      ['mock://a', 'present'],
      ['tcp://dead', 'error'],
    ]);
    expect(hub.list().find((t) => t.port === 'mock://a')?.hello?.sn).toBe('S1');
    expect(hub.list().find((t) => t.port === 'tcp://dead')?.error).toEqual({
      code: 'TIMEOUT',
      message: 'no answer',
    });
  });
});

/** The most runs between a `started` and its `finished`, from the events alone. */
function maxOverlap(events: StationEvent[]): number {
  let running = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'started') max = Math.max(max, ++running);
    if (e.type === 'finished' && e.result.attempts > 0) running--;
  }
  return max;
}
