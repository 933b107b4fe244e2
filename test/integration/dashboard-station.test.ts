/**
 * A station run started from the dashboard, over the real listener: the manifest and the admin
 * password in one POST over the session; the daemon's hub and engine provision the terminals;
 * the results downloadable; the password in no reply, event or log line; without the CSRF token
 * the POST is 401 and nothing reaches a terminal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Secret } from '../../src/host/secret.js';
import {
  ADMIN_PW,
  MERCHANT,
  type RunningDaemon,
  recordingLogger,
  scratchDir,
  startDaemon,
} from './api-rig.helper.js';

const running: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

const MANIFEST = `sn,merchant,terminal,name\nPBD0001,${MERCHANT},20000001,Left bench\nPBD0002,${MERCHANT},20000002,Right bench\n`;
const PROFILE = 'operators:\n  - id: "02"\n    name: Clerk\n    perms: [sale]\n';

async function bench() {
  const { logger, lines } = recordingLogger();
  const dir = scratchDir();
  const credentialsFile = join(dir, 'operator-passwords.txt');
  const recorded: string[] = [];
  const d = await startDaemon({
    logger,
    dir,
    dashboard: {
      listen: { host: '127.0.0.1', port: 0 },
      station: {
        station: 'bench-1',
        technician: 'tess',
        hostname: 'bench-host',
        credentials: {
          path: credentialsFile,
          record: async (sn: string, id: string, password: Secret) => {
            recorded.push(`${sn} ${id} ${password.reveal()}`);
          },
        },
      },
    },
  });
  running.push(d);
  const dashboard = d.daemon.dashboard!;
  const login = await fetch(dashboard.loginUrl!, { redirect: 'manual' });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const session = await fetch(`${dashboard.origin}/api/session`, { headers: { cookie } });
  const { csrf } = (await session.json()) as { csrf: string };
  await d.portManager.plug('mock://a?sn=PBD0001');
  await d.portManager.plug('mock://b?sn=PBD0002');
  return { d, origin: dashboard.origin, cookie, csrf, lines, credentialsFile, recorded };
}

function startBody(password = ADMIN_PW): string {
  return JSON.stringify({
    manifest: { name: 'bench.csv', text: MANIFEST },
    profile: { name: 'bench.yaml', text: PROFILE },
    adminPassword: password,
  });
}

describe('a station run started from the dashboard', () => {
  it('provisions the manifest terminals; results as JUnit and CSV; the password nowhere', async () => {
    const { d, origin, cookie, csrf, lines, credentialsFile, recorded } = await bench();
    const replies: string[] = [];
    const start = await fetch(`${origin}/api/station`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: startBody(),
    });
    const started = await start.text();
    replies.push(started);
    expect(start.status).toBe(202);
    expect(JSON.parse(started)).toEqual({ started: true, rows: 2, credentialsFile });
    await d.daemon.pageStation!.settled();

    const state = await fetch(`${origin}/api/station`, { headers: { cookie } });
    const stateText = await state.text();
    replies.push(stateText);
    const body = JSON.parse(stateText) as {
      state: string;
      summary: { counts: Record<string, number>; endedBy: string };
      credentialsFile: string;
    };
    expect(body.state).toBe('ended');
    expect(body.summary.endedBy).toBe('complete');
    expect(body.summary.counts.provisioned).toBe(2);
    expect(body.credentialsFile).toBe(credentialsFile);
    // The generated operator first passwords went to the daemon's credentials file, one per terminal.
    // (01: the factory operator's password replaced, as the profile's default says.)
    expect(recorded.map((line) => line.split(' ').slice(0, 2).join(' ')).sort()).toEqual([
      'PBD0001 01',
      'PBD0001 02',
      'PBD0002 01',
      'PBD0002 02',
    ]);

    const junit = await fetch(`${origin}/api/station/junit`, { headers: { cookie } });
    expect(junit.status).toBe(200);
    expect(junit.headers.get('content-disposition')).toBe('attachment; filename="station.xml"');
    const xml = await junit.text();
    expect(xml).toContain('<testcase classname="station" name="PBD0001"');
    expect(xml).not.toContain('<failure');
    const csv = await fetch(`${origin}/api/station/csv`, { headers: { cookie } });
    const csvText = await csv.text();
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csvText.split('\r\n')[0]).toBe(
      'sn,manifest,merchant,terminal,name,port,outcome,attempts,diagnostics,error,hint,started,finished,audit_head',
    );
    expect(csvText).toMatch(
      /PBD0001,line 2,\u2060822100052110023,\u206020000001,Left bench,mock:\/\/a\?sn=PBD0001,provisioned,1,/,
    );
    expect(csvText).toMatch(/PBD0002,line 3,.*,provisioned,1,/);
    replies.push(xml, csvText);

    // The tiles learnt of it through the hub: a station operation per terminal, with its steps.
    const ops = d.portManager.published.filter((e) => e.type === 'operation-finished');
    expect(
      ops.map((e) => e.type === 'operation-finished' && [e.port, e.operation, e.outcome]).sort(),
    ).toEqual([
      ['mock://a?sn=PBD0001', 'provision', 'provisioned'],
      ['mock://b?sn=PBD0002', 'provision', 'provisioned'],
    ]);
    const status = await (await fetch(`${origin}/api/status`, { headers: { cookie } })).text();
    replies.push(status);
    expect(JSON.parse(status).terminals.map((t: { condition: string }) => t.condition)).toEqual([
      'provisioned',
      'provisioned',
    ]);
    const published = JSON.stringify(d.portManager.published);
    for (const text of [...replies, published, lines.join('\n'), readDir(credentialsFile)])
      expect(text).not.toContain(ADMIN_PW);
    expect(lines.join('\n')).toContain('station run from the page');
  });

  it('one run at a time; stop ends it, the rows never seen reported so', async () => {
    const { d, origin, cookie, csrf } = await bench();
    const post = (path: string, body: string) =>
      fetch(`${origin}/api/${path}`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf }, body });
    const manifest = `${MANIFEST}PBD0003,${MERCHANT},20000003,Not plugged\n`;
    const body = JSON.stringify({
      manifest: { name: 'bench.csv', text: manifest },
      profile: { name: 'bench.yaml', text: PROFILE },
      adminPassword: ADMIN_PW,
    });
    expect((await post('station', body)).status).toBe(202);
    const again = await post('station', body);
    expect(again.status).toBe(409);
    expect(await again.text()).toMatch(/already under way/);
    expect((await post('station/stop', '{}')).status).toBe(200);
    await d.daemon.pageStation!.settled();
    const state = (await (await fetch(`${origin}/api/station`, { headers: { cookie } })).json()) as {
      summary: { endedBy: string; counts: Record<string, number> };
    };
    expect(state.summary.endedBy).toBe('signal');
    expect(state.summary.counts['not-seen']).toBe(1);
  });

  it('without the CSRF token or the session: 401, and nothing is sent to a terminal', async () => {
    const { d, origin, cookie } = await bench();
    const before = d.portManager.published.length;
    const attempts: Array<Record<string, string>> = [{ cookie }, { cookie, 'x-csrf-token': 'forged' }, {}];
    for (const headers of attempts) {
      const reply = await fetch(`${origin}/api/station`, { method: 'POST', headers, body: startBody() });
      expect(reply.status).toBe(401);
      expect(await reply.text()).not.toContain(ADMIN_PW);
    }
    expect(d.portManager.published.slice(before)).toEqual([]);
    const state = await (await fetch(`${origin}/api/station`, { headers: { cookie } })).json();
    expect(state).toMatchObject({ state: 'idle', rows: [] });
    const status = (await (await fetch(`${origin}/api/status`, { headers: { cookie } })).json()) as {
      terminals: Array<{ condition: string }>;
    };
    expect(status.terminals.map((t: { condition: string }) => t.condition)).toEqual(['factory', 'factory']);
  });

  it('a weak password or a bad manifest is refused before any byte is sent, naming the problem', async () => {
    const { d, origin, cookie, csrf } = await bench();
    const before = d.portManager.published.length;
    const post = (body: string) =>
      fetch(`${origin}/api/station`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf }, body });
    const weak = await post(startBody('123456'));
    expect(weak.status).toBe(400);
    const weakText = await weak.text();
    expect(weakText).toMatch(/the new admin password/);
    expect(weakText).not.toContain('123456');
    const bad = await post(
      JSON.stringify({ manifest: { name: 'm.csv', text: 'sn,merchant\nX,1\n' }, adminPassword: ADMIN_PW }),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/manifest m\.csv/);
    expect(d.portManager.published.slice(before)).toEqual([]);
  });
});

function readDir(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
