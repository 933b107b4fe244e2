/**
 * The dashboard from the daemon's config file (issue 14: "daemon --http 127.0.0.1:8390 or
 * config"): `http: { listen, allowRemote }` starts it as the flag does, with the same printed
 * one-time URL; `--http` wins over it; a non-loopback `http.listen` without allowRemote is refused
 * (exit 2, the field named) before the socket is claimed. The built CLI, its own processes.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_MAIN, runCliProcess } from '../support/cli-process.js';
import { daemonBenchPerTest } from '../support/daemon-bench-hooks.js';

const START_MS = 20_000;
const DASHBOARD = /^dashboard on (http:\/\/127\.0\.0\.\d+:\d+); open (\S+)$/m;
const bench = daemonBenchPerTest();
const { children } = bench;

function withHttp(yaml: string): void {
  appendFileSync(bench.box.config, `${yaml}\n`);
}

function daemon(extra: string[] = []) {
  return children.spawn(['daemon', '--config', bench.box.config, '--socket', bench.box.socket, ...extra], {
    cwd: bench.box.dir,
    env: bench.box.env,
  });
}

describe('http: in the daemon config', () => {
  it('starts the dashboard without --http: the printed URL logs in, /metrics answers', async () => {
    withHttp('http: { listen: "127.0.0.1:0" }');
    const d = daemon();
    const [, origin, login] = await d.waitForStdout(DASHBOARD, 'the dashboard URL', START_MS);
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:(?!0$)\d+$/);
    expect(login).toMatch(new RegExp(`^${origin}/login\\?token=\\S+$`));

    expect((await fetch(`${origin}/api/status`)).status).toBe(401);
    const loggedIn = await fetch(login!, { redirect: 'manual' });
    expect(loggedIn.status).toBe(303);
    const cookie = loggedIn.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${origin}/api/status`, { headers: { cookie } })).status).toBe(200);
    // The token was one-time.
    expect((await fetch(login!, { redirect: 'manual' })).status).toBe(401);
    const metrics = await fetch(`${origin}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# TYPE posbridge_runs_total counter$/m);
  }, 60_000);

  it('--http wins over the config', async () => {
    withHttp('http: { listen: "127.0.0.2:0" }');
    const d = daemon(['--http', '127.0.0.1:0']);
    const [, origin] = await d.waitForStdout(DASHBOARD, 'the dashboard URL', START_MS);
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }, 60_000);

  it('a non-loopback http.listen without allowRemote: exit 2 naming the field, nothing started', async () => {
    withHttp('http: { listen: "0.0.0.0:0" }');
    const run = await runCliProcess(['daemon', '--config', bench.box.config, '--socket', bench.box.socket], {
      cwd: bench.box.dir,
      env: bench.box.env,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/http\.listen: 0\.0\.0\.0 is not a loopback address.*http\.allowRemote/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.stdout).not.toMatch(/dashboard on/);
    expect(existsSync(bench.box.socket)).toBe(false);
  }, 60_000);

  it('under systemd (stdout is the journal) the URL is printed without its token; posbridge dashboard gives one', async () => {
    withHttp('http: { listen: "127.0.0.1:0" }');
    // The daemon's stdout is a file whose device and inode JOURNAL_STREAM names, as systemd does.
    const out = join(bench.box.dir, 'journal.txt');
    const fd = openSync(out, 'w');
    const { dev, ino } = statSync(out);
    const child = spawn(
      process.execPath,
      [CLI_MAIN, 'daemon', '--config', bench.box.config, '--socket', bench.box.socket],
      {
        cwd: bench.box.dir,
        env: { ...bench.box.env, JOURNAL_STREAM: `${dev}:${ino}` },
        stdio: ['ignore', fd, fd],
      },
    );
    closeSync(fd);
    try {
      await expect
        .poll(() => readFileSync(out, 'utf8'), { timeout: START_MS, interval: 50 })
        .toMatch(
          /^dashboard on http:\/\/127\.0\.0\.1:\d+; run `posbridge dashboard` for a one-time login link$/m,
        );
      expect(readFileSync(out, 'utf8')).not.toMatch(/token=/);
      const link = await runCliProcess(['dashboard', '--socket', bench.box.socket], {
        cwd: bench.box.dir,
        env: bench.box.env,
      });
      expect(link.code, link.stderr).toBe(0);
      const url = /^open (\S+)$/m.exec(link.stdout)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?token=\S+$/);
      expect((await fetch(url!, { redirect: 'manual' })).status).toBe(303);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    expect(readFileSync(out, 'utf8')).not.toMatch(/token=/);
  }, 60_000);
});
