/**
 * The dashboard's listener as a browser (or an attacker) would meet it: the one-time login link
 * trades its token for an HttpOnly, SameSite=Strict session cookie; data needs the session;
 * every state-changing request needs the session and its CSRF token (401 without, nothing
 * changed); a foreign Host is refused; loopback only unless allowed.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parseListen } from '../../src/daemon/http/listen.js';
import { isPosbridgeError } from '../../src/host/errors.js';
import { CliHarness } from '../support/cli-inproc.js';
import { type RunningDaemon, startDaemon } from './api-rig.helper.js';

const running: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

async function daemon(): Promise<{ d: RunningDaemon; origin: string; login: string }> {
  const d = await startDaemon({ dashboard: { listen: { host: '127.0.0.1', port: 0 } } });
  running.push(d);
  const dashboard = d.daemon.dashboard!;
  return { d, origin: dashboard.origin, login: dashboard.loginUrl! };
}

async function loggedIn(login: string): Promise<string> {
  const reply = await fetch(login, { redirect: 'manual' });
  expect(reply.status).toBe(303);
  return reply.headers.get('set-cookie')!.split(';')[0]!;
}

async function csrfOf(origin: string, cookie: string): Promise<string> {
  const reply = await fetch(`${origin}/api/session`, { headers: { cookie } });
  expect(reply.status).toBe(200);
  return ((await reply.json()) as { csrf: string }).csrf;
}

describe('dashboard login', () => {
  it('the printed link sets an HttpOnly, SameSite=Strict cookie once; the token is then spent', async () => {
    const { login, origin } = await daemon();
    expect(login).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43}$/);
    const reply = await fetch(login, { redirect: 'manual' });
    expect(reply.status).toBe(303);
    expect(reply.headers.get('location')).toBe('/');
    expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
    const cookie = reply.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^pb_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    const again = await fetch(login, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect((await fetch(`${origin}/login?token=guess`, { redirect: 'manual' })).status).toBe(401);
  });

  it('data needs the session: 401 without, the status rows with', async () => {
    const { d, origin, login } = await daemon();
    await d.portManager.plug('mock://a');
    const anonymous = await fetch(`${origin}/api/status`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { hint: string } }).error.hint).toMatch(
      /URL the daemon printed/,
    );
    expect((await fetch(`${origin}/api/events`)).status).toBe(401);
    expect((await fetch(`${origin}/api/status`, { headers: { cookie: 'pb_session=forged' } })).status).toBe(
      401,
    );
    const cookie = await loggedIn(login);
    const reply = await fetch(`${origin}/api/status`, { headers: { cookie } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(reply.headers.get('x-frame-options')).toBe('DENY');
    const body = (await reply.json()) as { terminals: Array<{ port: string; condition: string }> };
    expect(body.terminals).toEqual([expect.objectContaining({ port: 'mock://a', condition: 'factory' })]);
  });

  it('a state-changing request without the session or its CSRF token gets 401 and changes nothing', async () => {
    const { origin, login } = await daemon();
    const cookie = await loggedIn(login);
    const csrf = await csrfOf(origin, cookie);
    const post = (headers: Record<string, string>) =>
      fetch(`${origin}/api/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    expect((await post({ cookie })).status).toBe(401);
    expect((await post({ cookie, 'x-csrf-token': 'wrong' })).status).toBe(401);
    expect((await post({ 'x-csrf-token': csrf })).status).toBe(401);
    // None of them ended the session.
    expect((await fetch(`${origin}/api/status`, { headers: { cookie } })).status).toBe(200);
    const ok = await post({ cookie, 'x-csrf-token': csrf });
    expect(ok.status).toBe(200);
    expect((await fetch(`${origin}/api/status`, { headers: { cookie } })).status).toBe(401);
  });

  it('a request naming another host (DNS rebinding) is refused', async () => {
    const { origin, login } = await daemon();
    const cookie = await loggedIn(login);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${origin}/api/status`, { headers: { host: 'evil.example:80', cookie } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  it('serves the page without data or token in it, and nothing outside its files', async () => {
    const { origin, login } = await daemon();
    const page = await fetch(`${origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).not.toContain(new URL(login).searchParams.get('token'));
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${origin}/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${origin}/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${origin}/tsconfig.json`)).status).toBe(404);
  });
});

describe('posbridge dashboard: a new one-time link over the socket', () => {
  it('the new link logs in once; the unspent printed one stops working; no dashboard: exit 2 naming --http', async () => {
    const { d, origin, login } = await daemon();
    const cli = new CliHarness();
    try {
      const first = await cli.run(['dashboard', '--socket', d.socket]);
      expect(first.code, first.stderr).toBe(0);
      const url = /^open (http:\/\/\S+)$/m.exec(first.stdout)?.[1];
      expect(url).toMatch(new RegExp(`^${origin}/login\\?token=[A-Za-z0-9_-]{43}$`));
      expect(url).not.toBe(login);
      // The printed link was not used: it no longer opens a session.
      expect((await fetch(login, { redirect: 'manual' })).status).toBe(401);
      const json = await cli.run(['dashboard', '--socket', d.socket, '--json']);
      const doc = JSON.parse(json.stdout) as { kind: string; url: string };
      expect(doc.kind).toBe('dashboard');
      // Asking again ended the link before it; the newest opens one session, once.
      expect((await fetch(url!, { redirect: 'manual' })).status).toBe(401);
      const cookie = await loggedIn(doc.url);
      expect((await fetch(`${origin}/api/status`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(doc.url, { redirect: 'manual' })).status).toBe(401);

      const plain = await startDaemon();
      running.push(plain);
      const refused = await cli.run(['dashboard', '--socket', plain.socket]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/this daemon serves no dashboard/);
      expect(refused.stderr).toMatch(/--http 127\.0\.0\.1:8390/);
    } finally {
      cli.dispose();
    }
  });
});

describe('GET /metrics on the same listener', () => {
  it('answers Prometheus text: terminals by state, runs by outcome, step durations', async () => {
    const { d, origin } = await daemon();
    await d.portManager.plug('mock://a');
    const reply = await fetch(`${origin}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await reply.text();
    expect(text).toMatch(/^posbridge_terminals\{state="factory"\} 1$/m);
    expect(text).toMatch(/^# TYPE posbridge_step_duration_seconds histogram$/m);
    expect(text).toMatch(/^# TYPE posbridge_runs_total counter$/m);
    expect(text).not.toContain('mock://a');
  });
});

describe('where the dashboard listens', () => {
  it('loopback only unless allowed; a bad address is a usage error naming it', () => {
    expect(parseListen('127.0.0.1:8390', false)).toEqual({ host: '127.0.0.1', port: 8390 });
    expect(parseListen('[::1]:0', false)).toEqual({ host: '::1', port: 0 });
    expect(parseListen('0.0.0.0:8390', true)).toEqual({ host: '0.0.0.0', port: 8390 });
    for (const [text, pattern] of [
      ['0.0.0.0:8390', /not a loopback address.*--http-allow-remote/s],
      ['192.168.1.5:8390', /not a loopback address/],
      ['127.0.0.1', /not HOST:PORT/],
      ['127.0.0.1:70000', /not HOST:PORT/],
      ['bench.local:8390', /not an IP address/],
    ] as const) {
      let caught: unknown;
      try {
        parseListen(text, false);
      } catch (error) {
        caught = error;
      }
      expect(isPosbridgeError(caught) && caught.code, text).toBe('USAGE');
      expect(`${(caught as Error).message} ${(caught as { hint: string }).hint}`).toMatch(pattern);
    }
  });
});
