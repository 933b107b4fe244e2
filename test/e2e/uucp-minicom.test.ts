/**
 * Issue 9, item 2, with the real program: minicom (Debian package `minicom`) locks a port with a
 * UUCP lock file, not flock. While it holds `posbridge mock --pty`'s port, posbridge refuses with
 * exit 3 naming minicom and its lock file, and sends nothing; a lock left by a minicom killed with
 * SIGKILL is stale and removed; while posbridge owns the port, minicom finds our lock file and
 * says "Device ... is locked"; our file goes when posbridge leaves. minicom needs a terminal: it
 * runs under `script -e` (util-linux: it passes minicom's exit code on), its stdin a pipe that stays open.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatLockPid, parseLockPid } from '../../src/host/ports/uucp-lock.js';
import { cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_SHORT_TIMEOUT_MS as E2E_TIMEOUT_MS } from '../support/constants.js';

/** Where Debian's minicom keeps its lock files (/var/lock is a link to it). */
const LOCK_DIR = '/run/lock';

function requireTool(name: string, pkg: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${name} is not installed: apt-get install -y ${pkg} (.ci/run installs it)`);
  }
}

let dir: string;
let link: string;
const children = new Children();
const minicoms: ChildProcessWithoutNullStreams[] = [];

beforeEach(() => {
  requireBuiltCli();
  requireTool('minicom', 'minicom');
  requireTool('script', 'bsdutils');
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-minicom-'));
  // A name of its own: the lock directory is shared by the whole machine.
  link = join(dir, `pos-${process.pid}-${Math.floor(Math.random() * 1e9)}`);
});
afterEach(async () => {
  for (const m of minicoms.splice(0)) if (m.exitCode === null && m.signalCode === null) m.kill('SIGKILL');
  await children.stopAll();
  rmSync(join(LOCK_DIR, `LCK..${basename(link)}`), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** minicom on `port`, its output collected. */
function startMinicom(port: string): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn('script', ['-qefc', `minicom -D ${port} -b 115200`, '/dev/null'], {
    cwd: dir,
    env: { ...process.env, TERM: 'xterm', HOME: dir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  minicoms.push(child);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('latin1');
  });
  child.stdin.on('error', () => undefined);
  return { child, output: () => out };
}

/** Waits (on inotify, bounded) until `test` holds for the lock file's pid. */
function waitForLockFile(
  file: string,
  test: (pid: number | undefined) => boolean,
  what: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const read = () => (existsSync(file) ? parseLockPid(readFileSync(file)) : undefined);
    const watcher = watch(LOCK_DIR);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`Timed out waiting for ${what}`));
    }, 30_000);
    const check = () => {
      const pid = read();
      if (!test(pid)) return;
      clearTimeout(timer);
      watcher.close();
      resolve(pid ?? 0);
    };
    watcher.on('change', check);
    check();
  });
}

describe('posbridge and minicom on one port', () => {
  it(
    'each refuses the port the other holds; a lock left by a killed minicom is removed',
    async () => {
      const mock = children.spawn(['mock', '--pty', link, '--log-level', 'info'], { cwd: dir });
      await mock.waitForStdout(/ on pty /, 'the mock to print its pty');
      const lockFile = join(LOCK_DIR, `LCK..${basename(link)}`);
      const env = cleanEnv(dir);

      // 1. minicom holds the port: posbridge is refused, names it, sends nothing.
      const first = startMinicom(link);
      const minicomPid = await waitForLockFile(
        lockFile,
        (pid) => pid !== undefined,
        'minicom to lock the port',
      );
      expect(readFileSync(`/proc/${minicomPid}/comm`, 'utf8').trim()).toBe('minicom');
      const refused = await runCliProcess(['info', '--port', link], { cwd: dir, env });
      expect(refused.code, refused.stderr).toBe(3);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(
        `port busy: ${link} is held by pid ${minicomPid} (minicom -D ${link} -b 115200); lock file ${lockFile}`,
      );
      expect(refused.stderr).not.toMatch(STACK_LINE);
      expect(mock.stderr).not.toContain('HELLO');

      // 2. minicom killed with SIGKILL leaves its lock behind; posbridge removes it and goes on,
      //    holding its own lock file while it owns the port.
      process.kill(minicomPid, 'SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      expect(parseLockPid(readFileSync(lockFile))).toBe(minicomPid);
      const consoleRun = children.spawn(['console', '--port', link], { cwd: dir, env });
      consoleRun.child.stdin.write('HELLO\n');
      await consoleRun.waitForStdout(/^< @\d+ OK proto=1 /m, 'the console to show the HELLO reply');
      expect(readFileSync(lockFile, 'utf8')).toBe(formatLockPid(consoleRun.pid));

      // 3. minicom now finds the port locked by posbridge.
      const second = startMinicom(link);
      const code = await new Promise<number | null>((resolve) => second.child.once('exit', resolve));
      expect(second.output()).toContain(`Device ${link} is locked.`);
      expect(code).not.toBe(0);

      // 4. posbridge leaves: its lock file goes with it.
      consoleRun.child.stdin.end();
      expect((await consoleRun.waitForExit()).code).toBe(0);
      expect(existsSync(lockFile)).toBe(false);
      mock.kill('SIGTERM');
      await mock.waitForExit();
    },
    E2E_TIMEOUT_MS,
  );
});
