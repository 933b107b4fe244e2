/**
 * The dashboard's history over the real listener: the runs of the daemon's audit trail with
 * their steps, filtered by serial number and date, the chain's verify status and head, and the
 * report as CSV; behind the session.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditStore, REPORT_COLUMNS, toCsv } from '../../src/audit/index.js';
import { ADMIN_PW, MERCHANT, type RunningDaemon, scratchDir, startDaemon } from './api-rig.helper.js';

const running: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

interface HistoryReply {
  file: string;
  runs: Array<{ sn?: string; terminal?: { sn: string }; steps: Array<{ step: string }> }>;
  verify: { ok: boolean; rows: number; head: string };
}

describe('the dashboard history', () => {
  it('lists the runs per terminal with steps, filters by sn and date, verifies the chain, gives the report CSV', async () => {
    const dir = scratchDir();
    // The rig's daemon runtime audits here (api-rig.helper.ts).
    const audit = join(dir, 'daemon-audit.sqlite3');
    const d = await startDaemon({
      dir,
      dashboard: {
        listen: { host: '127.0.0.1', port: 0 },
        station: { station: 'bench-1', technician: 'tess', hostname: 'h' },
      },
    });
    running.push(d);
    const { origin, loginUrl } = d.daemon.dashboard!;
    expect((await fetch(`${origin}/api/history`)).status).toBe(401);
    const login = await fetch(loginUrl!, { redirect: 'manual' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrf } = (await (await fetch(`${origin}/api/session`, { headers: { cookie } })).json()) as {
      csrf: string;
    };
    await d.portManager.plug('mock://a?sn=PBH0001');
    await d.portManager.plug('mock://b?sn=PBH0002');
    const manifest = `sn,merchant,terminal\nPBH0001,${MERCHANT},20000011\nPBH0002,${MERCHANT},20000012\n`;
    const started = await fetch(`${origin}/api/station`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf },
      body: JSON.stringify({ manifest: { name: 'm.csv', text: manifest }, adminPassword: ADMIN_PW }),
    });
    expect(started.status).toBe(202);
    await d.daemon.pageStation!.settled();

    const get = async (query: string) =>
      (await (await fetch(`${origin}/api/history${query}`, { headers: { cookie } })).json()) as HistoryReply;
    const all = await get('');
    expect(all.file).toBe(audit);
    expect(all.runs).toHaveLength(2);
    expect(all.runs[0]!.steps.length).toBeGreaterThan(3);
    expect(all.verify).toMatchObject({ ok: true, head: expect.stringMatching(/^\d+:[0-9a-f]{64}$/) });
    const store = AuditStore.open(audit, { readonly: true });
    const head = store.head();
    store.close();
    expect(all.verify.head).toBe(`${head.seq}:${head.hash}`);
    const one = await get('?sn=PBH0002');
    expect(one.runs).toHaveLength(1);
    expect(JSON.stringify(one.runs[0])).toContain('PBH0002');
    expect(JSON.stringify(one.runs[0])).not.toContain('PBH0001');
    // (The store dates runs by its own clock.) The day before the runs has none, their day both.
    const day = (all.runs[0] as unknown as { startedAt: string }).startedAt.slice(0, 10);
    const before = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    expect((await get(`?until=${before}`)).runs).toHaveLength(0);
    expect((await get(`?since=${day}&until=${day}`)).runs).toHaveLength(2);
    const bad = await fetch(`${origin}/api/history?since=yesterday`, { headers: { cookie } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/since must be a date/);

    const csv = await fetch(`${origin}/api/history/csv`, { headers: { cookie } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await csv.text();
    // The report leaves mock runs out, as `posbridge report` does without --include-mocks.
    expect(text).toBe(toCsv([], REPORT_COLUMNS).replace(/^\uFEFF/, ''));
    expect(text).not.toContain(ADMIN_PW);
  });
});
