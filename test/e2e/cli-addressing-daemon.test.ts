/**
 * `--sn` and the only terminal connected through a running daemon (separate processes, as on a
 * bench PC): the daemon's identified terminals are asked, not the ports (it owns them).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv } from '../support/cli-inproc.js';
import { Children, runCliProcess } from '../support/cli-process.js';

let dir: string;
const children = new Children();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-addr-daemon-'));
});
afterEach(async () => {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const A = 'mock://a?sn=PBA0000001';
const B = 'mock://b?sn=PBB0000002';

async function daemonWith(ports: string[]): Promise<{ socket: string; pid: number }> {
  const env = cleanEnv(dir);
  mkdirSync(join(env.XDG_CONFIG_HOME!, 'posbridge'), { recursive: true });
  writeFileSync(
    join(env.XDG_CONFIG_HOME!, 'posbridge', 'daemon.yaml'),
    `ports: [${ports.map((p) => `"${p}"`).join(', ')}]\n`,
  );
  const socket = join(dir, 'daemon.sock');
  const daemon = children.spawn(['daemon', '--socket', socket, '--log-level', 'warn'], { cwd: dir, env });
  await daemon.waitForStdout(/listening on/, 'the daemon to listen');
  return { socket, pid: daemon.pid };
}

describe('choosing the terminal through the daemon', () => {
  it('--sn asks the daemon; with several and no port, they are listed and exit 2', async () => {
    const { socket, pid } = await daemonWith([A, B]);
    const bySn = await runCliProcess(['info', '--sn', 'PBB0000002', '--socket', socket, '--json'], {
      cwd: dir,
      env: cleanEnv(dir),
    });
    expect(bySn.code, bySn.stderr).toBe(0);
    expect(JSON.parse(bySn.stdout).hello.sn).toBe('PBB0000002');
    expect(bySn.stderr).toContain(
      `using ${B} (PB-MOCK sn PBB0000002), found by the posbridge daemon (pid ${pid})`,
    );

    const none = await runCliProcess(['info', '--socket', socket], { cwd: dir, env: cleanEnv(dir) });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`2 terminals are connected (found by the posbridge daemon (pid ${pid}))`);
  }, 120_000);

  it('no port and one terminal on the daemon: it is used', async () => {
    const { socket } = await daemonWith([A]);
    const run = await runCliProcess(['info', '--socket', socket, '--json'], { cwd: dir, env: cleanEnv(dir) });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).hello.sn).toBe('PBA0000001');
    expect(run.stderr).toContain('the only terminal connected (found by the posbridge daemon');
  }, 120_000);
});
