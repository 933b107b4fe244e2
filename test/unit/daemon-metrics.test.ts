/**
 * GET /metrics' numbers (docs/dashboard.md, "Metrics"): folded from the event stream, labels
 * from closed sets only; and the audit store telling how long each record took to commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/audit/index.js';
import { BenchStatus } from '../../src/daemon/api/bench-status.js';
import { DaemonMetrics } from '../../src/daemon/http/metrics.js';
import type { HubEvent, TerminalInfo } from '../../src/host/hub.js';
import { MERCHANT } from '../support/constants.js';

function hubOf(terminals: TerminalInfo[]) {
  const listeners = new Set<(event: HubEvent) => void>();
  return {
    list: () => terminals,
    subscribe(listener: (event: HubEvent) => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    publish(event: HubEvent) {
      for (const listener of listeners) listener(event);
    },
  };
}

describe('DaemonMetrics', () => {
  it('counts terminals by state, runs by outcome, step durations and lockouts avoided; no port, sn or merchant in a label', async () => {
    const terminal = {
      port: '/dev/serial/by-id/usb-PAX_SN777-if00',
      state: 'present',
      since: '',
      hello: { sn: 'SN777', model: 'A920', fw: '1', state: 'initialized', proto: 1, caps: [] },
      status: { state: 'initialized', merchant: MERCHANT, tamper: false, locked: false, factoryPw: [] },
    } as unknown as TerminalInfo;
    const hub = hubOf([terminal, { port: 'mock://b', state: 'identifying', since: '' }]);
    const bench = new BenchStatus(hub);
    hub.subscribe(bench.observe);
    const metrics = new DaemonMetrics(bench);
    hub.subscribe(metrics.observe);
    const step = (name: 'login' | 'bind', ms: number) => ({
      type: 'step' as const,
      port: terminal.port,
      operation: 'provision',
      step: {
        step: name,
        outcome: 'done' as const,
        detail: `merchant ${MERCHANT}`,
        startedAt: new Date(0).toISOString(),
        finishedAt: new Date(ms).toISOString(),
      },
    });
    hub.publish(step('login', 300));
    hub.publish(step('bind', 1500));
    hub.publish({
      type: 'operation-finished',
      port: terminal.port,
      operation: 'provision',
      outcome: 'provisioned',
      report: { steps: [] } as never,
    });
    hub.publish({
      type: 'operation-finished',
      port: 'mock://b',
      operation: 'provision',
      outcome: 'failed',
      report: { steps: [], error: { code: 'LOCKOUT_RISK', message: 'one attempt left' } } as never,
    });
    metrics.auditAppended(0.002);
    const { text, contentType } = await metrics.text();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toMatch(/^posbridge_terminals\{state="provisioned"\} 1$/m);
    expect(text).toMatch(/^posbridge_terminals\{state="identifying"\} 1$/m);
    expect(text).toMatch(/^posbridge_terminals\{state="factory"\} 0$/m);
    expect(text).toMatch(/^posbridge_runs_total\{operation="provision",outcome="provisioned"\} 1$/m);
    expect(text).toMatch(/^posbridge_runs_total\{operation="provision",outcome="failed"\} 1$/m);
    expect(text).toMatch(
      /^posbridge_step_duration_seconds_bucket\{le="0.5",step="login",outcome="done"\} 1$/m,
    );
    expect(text).toMatch(/^posbridge_step_duration_seconds_bucket\{le="1",step="bind",outcome="done"\} 0$/m);
    expect(text).toMatch(/^posbridge_step_duration_seconds_sum\{step="bind",outcome="done"\} 1.5$/m);
    expect(text).toMatch(/^posbridge_lockouts_avoided_total 1$/m);
    expect(text).toMatch(/^posbridge_audit_append_seconds_count 1$/m);
    for (const secret of [MERCHANT, 'SN777', 'usb-PAX', 'mock://b']) expect(text).not.toContain(secret);
  });
});

describe('AuditStore onAppend', () => {
  it('tells how long each record took to commit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-metrics-'));
    try {
      const seen: number[] = [];
      const store = AuditStore.open(join(dir, 'a.sqlite3'), { onAppend: (s) => seen.push(s) });
      const run = store.startRun({ kind: 'diag', port: 'p', technician: 't', station: 's' });
      store.finishRun(run, { outcome: 'ok' });
      store.close();
      expect(seen).toHaveLength(2);
      for (const s of seen) expect(s).toBeGreaterThan(0);
      for (const s of seen) expect(s).toBeLessThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
