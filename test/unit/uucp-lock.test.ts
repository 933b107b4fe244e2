/**
 * Issue 9, item 2: UUCP lock files (minicom's way to claim a port) honoured and written, against
 * lock directories made up in a temp dir. minicom itself on a pty: test/e2e/uucp-minicom.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  acquireUucpLock,
  formatLockPid,
  parseLockPid,
  pidAlive,
  writeUucpLocks,
} from '../../src/host/ports/uucp-lock.js';

// Every directory listed, to see which processes' fds a check reads (the rest passes through).
const listed = vi.hoisted(() => ({ dirs: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const readdir = ((path: Parameters<typeof actual.readdir>[0], ...rest: unknown[]) => {
    listed.dirs.push(String(path));
    return (actual.readdir as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof actual.readdir;
  return { ...actual, readdir, default: { ...actual, readdir } };
});

let dir: string;
let lockDir: string;
let device: string;
/** A pid no process can have (above the kernel's pid_max). */
const DEAD_PID = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
/** A live process that is not this one. */
const LIVE_PID = process.ppid;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-uucp-'));
  lockDir = join(dir, 'lock');
  mkdirSync(lockDir);
  device = join(dir, 'ttyFAKE0');
  writeFileSync(device, '');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('lock file contents', () => {
  it('reads the ASCII form (any spacing) and the binary int; writes %10d and a newline', () => {
    expect(parseLockPid(Buffer.from('      4242\n'))).toBe(4242);
    expect(parseLockPid(Buffer.from('4242'))).toBe(4242);
    const binary = Buffer.alloc(4);
    binary.writeInt32LE(31337);
    expect(parseLockPid(binary)).toBe(31337);
    for (const bad of ['', '\n', 'abc\n', '-5\n', '0\n', '12345678901\n'])
      expect(parseLockPid(Buffer.from(bad)), bad).toBe(undefined);
    expect(formatLockPid(4242)).toBe('      4242\n');
    expect(formatLockPid(4242)).toHaveLength(11);
  });

  it('a dead pid and a zombie are not alive; a live process is', async () => {
    expect(await pidAlive(DEAD_PID)).toBe(false);
    expect(await pidAlive(LIVE_PID)).toBe(true);
    const proc = join(dir, 'proc');
    mkdirSync(join(proc, String(LIVE_PID)), { recursive: true });
    writeFileSync(join(proc, String(LIVE_PID), 'stat'), `${LIVE_PID} (minicom) Z 1 0 0\n`);
    expect(await pidAlive(LIVE_PID, proc)).toBe(false);
  });
});

describe('acquireUucpLock', () => {
  it('refuses a port that a live program locked, naming it and the lock file, and leaves its file alone', async () => {
    const file = join(lockDir, 'LCK..ttyFAKE0');
    writeFileSync(file, formatLockPid(LIVE_PID));
    const refused = await acquireUucpLock(device, { dirs: [lockDir] }).catch((e) => e);
    expect(refused.code).toBe('PORT_BUSY');
    expect(refused.message).toMatch(
      new RegExp(`^port busy: ${device} is held by pid ${LIVE_PID} \\(.+\\); lock file ${file}$`),
    );
    expect(readFileSync(file, 'utf8')).toBe(formatLockPid(LIVE_PID));
  });

  it('honours the binary form too', async () => {
    const binary = Buffer.alloc(4);
    binary.writeInt32LE(LIVE_PID);
    writeFileSync(join(lockDir, 'LCK..ttyFAKE0'), binary);
    await expect(acquireUucpLock(device, { dirs: [lockDir] })).rejects.toMatchObject({ code: 'PORT_BUSY' });
  });

  it('removes a stale lock (dead pid), writes its own in the first writable directory, removes it on release', async () => {
    const second = join(dir, 'var-lock');
    mkdirSync(second);
    writeFileSync(join(second, 'LCK..ttyFAKE0'), formatLockPid(DEAD_PID));
    const lease = await acquireUucpLock(device, { dirs: [lockDir, second] });
    expect(lease.files).toEqual([join(lockDir, 'LCK..ttyFAKE0')]);
    expect(readFileSync(join(lockDir, 'LCK..ttyFAKE0'), 'utf8')).toBe(formatLockPid(process.pid));
    expect(existsSync(join(second, 'LCK..ttyFAKE0'))).toBe(false);
    // Another run (another program) now sees it held by this process.
    lease.release();
    lease.release();
    expect(existsSync(join(lockDir, 'LCK..ttyFAKE0'))).toBe(false);
  });

  it('a link and its target: looks for both names and writes both', async () => {
    mkdirSync(join(dir, 'by-id'));
    const link = join(dir, 'by-id', 'usb-PAX_A920-if00');
    symlinkSync(device, link);
    writeFileSync(join(lockDir, 'LCK..ttyFAKE0'), formatLockPid(LIVE_PID));
    await expect(acquireUucpLock(link, { dirs: [lockDir] })).rejects.toMatchObject({ code: 'PORT_BUSY' });
    rmSync(join(lockDir, 'LCK..ttyFAKE0'));
    const lease = await acquireUucpLock(link, { dirs: [lockDir] });
    expect(lease.files.map((f) => f.slice(lockDir.length + 1)).sort()).toEqual([
      'LCK..ttyFAKE0',
      'LCK..usb-PAX_A920-if00',
    ]);
    lease.release();
  });

  it("a live lock under the link's name counts when its owner has our device open", async () => {
    const link = join(dir, 'pos0');
    symlinkSync(device, link);
    const child = await holdOpen(device);
    try {
      writeFileSync(join(lockDir, 'LCK..pos0'), formatLockPid(child.pid!));
      const refused = await acquireUucpLock(link, { dirs: [lockDir] }).catch((e) => e);
      expect(refused.code).toBe('PORT_BUSY');
      expect(refused.message).toMatch(new RegExp(`pid ${child.pid} \\(\\S*python3 -c `));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the same link name for another device (two ptys called pos0) is not ours: ignored, and not written', async () => {
    // Seen in the test suite: /tmp/a/pos0 and /tmp/b/pos0, two ptys, one lock name LCK..pos0.
    const link = join(dir, 'pos0');
    symlinkSync(device, link);
    const otherDevice = join(dir, 'ttyOTHER1');
    writeFileSync(otherDevice, '');
    const child = await holdOpen(otherDevice);
    try {
      writeFileSync(join(lockDir, 'LCK..pos0'), formatLockPid(child.pid!));
      const lease = await acquireUucpLock(link, { dirs: [lockDir] });
      expect(lease.files.map((f) => f.slice(lockDir.length + 1))).toEqual(['LCK..ttyFAKE0']);
      expect(parseLockPid(readFileSync(join(lockDir, 'LCK..pos0')))).toBe(child.pid);
      lease.release();
      // The device's own name always counts, whoever holds it.
      writeFileSync(join(lockDir, 'LCK..ttyFAKE0'), formatLockPid(child.pid!));
      await expect(acquireUucpLock(link, { dirs: [lockDir] })).rejects.toMatchObject({ code: 'PORT_BUSY' });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a lock under a name we do not know counts when its owner has our device open', async () => {
    const child = spawn(
      'python3',
      ['-c', 'import sys,time; f=open(sys.argv[1]); print("open", flush=True); time.sleep(120)', device],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', () => reject(new Error('python3 exited early')));
      });
      writeFileSync(join(lockDir, 'LCK..some-other-name'), formatLockPid(child.pid!));
      const refused = await acquireUucpLock(device, { dirs: [lockDir] }).catch((e) => e);
      expect(refused.code).toBe('PORT_BUSY');
      expect(refused.message).toMatch(new RegExp(`is held by pid ${child.pid} \\(\\S*python3 -c `));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("a lock under a name we do not know: only its owner's fds are read, not every process's", async () => {
    // A made-up /proc: the lock's owner (alive) and 40 other processes, one of them with our device.
    const proc = join(dir, 'proc');
    for (let pid = 100_000; pid < 100_040; pid++)
      mkdirSync(join(proc, String(pid), 'fd'), { recursive: true });
    symlinkSync(device, join(proc, '100007', 'fd', '3'));
    mkdirSync(join(proc, String(LIVE_PID), 'fd'), { recursive: true });
    symlinkSync('/dev/null', join(proc, String(LIVE_PID), 'fd', '0'));
    writeFileSync(join(lockDir, 'LCK..some-other-name'), formatLockPid(LIVE_PID));
    listed.dirs.length = 0;
    const lease = await acquireUucpLock(device, { dirs: [lockDir], procRoot: proc });
    lease.release();
    expect(listed.dirs.filter((d) => d.startsWith(proc))).toEqual([join(proc, String(LIVE_PID), 'fd')]);

    // Its owner with our device open: refused, still from its fds alone.
    symlinkSync(device, join(proc, String(LIVE_PID), 'fd', '4'));
    listed.dirs.length = 0;
    const refused = await acquireUucpLock(device, { dirs: [lockDir], procRoot: proc }).catch((e) => e);
    expect(refused.code).toBe('PORT_BUSY');
    expect(listed.dirs.filter((d) => d.startsWith(proc))).toEqual([join(proc, String(LIVE_PID), 'fd')]);
  });

  it('an empty or unreadable lock file of our name is refused, naming the file to remove', async () => {
    writeFileSync(join(lockDir, 'LCK..ttyFAKE0'), 'garbage');
    const refused = await acquireUucpLock(device, { dirs: [lockDir] }).catch((e) => e);
    expect(refused.code).toBe('PORT_BUSY');
    expect(refused.message).toContain(`lock file ${join(lockDir, 'LCK..ttyFAKE0')} (no pid in it: remove it`);
  });

  it('no writable lock directory: says so at debug level and goes on (flock only)', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    // /proc is a directory nobody, root included, can create files in (we run as root here, so a
    // mode-0555 directory would not do); a missing directory is skipped.
    const lease = await acquireUucpLock(device, { dirs: [join(dir, 'missing'), '/proc'], logger });
    expect(lease.files).toEqual([]);
    lease.release();
    const logged = lines.map((line) => JSON.parse(line));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 20, port: device });
    expect(logged[0].msg).toContain('relying on flock only');
    expect(logged[0].problems).toEqual(['/proc/LCK..ttyFAKE0: ENOENT']);
  });

  it('a program that locks the port between our look and our write wins, and none of ours is left', async () => {
    mkdirSync(join(dir, 'by-id'));
    const link = join(dir, 'by-id', 'usb-PAX_A920-if00');
    symlinkSync(device, link);
    // What the look would not have seen: minicom's lock written after it (and its open).
    const child = await holdOpen(device);
    try {
      writeFileSync(join(lockDir, 'LCK..usb-PAX_A920-if00'), formatLockPid(child.pid!));
      const refused = await writeUucpLocks(link, { dirs: [lockDir] }).catch((e) => e);
      expect(refused.code).toBe('PORT_BUSY');
      expect(refused.message).toContain(`is held by pid ${child.pid} (`);
      expect(existsSync(join(lockDir, 'LCK..ttyFAKE0'))).toBe(false);
      expect(readFileSync(join(lockDir, 'LCK..usb-PAX_A920-if00'), 'utf8')).toBe(formatLockPid(child.pid!));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('does not remove a lock file another program wrote over ours', async () => {
    const lease = await acquireUucpLock(device, { dirs: [lockDir] });
    writeFileSync(join(lockDir, 'LCK..ttyFAKE0'), formatLockPid(LIVE_PID));
    lease.release();
    expect(readFileSync(join(lockDir, 'LCK..ttyFAKE0'), 'utf8')).toBe(formatLockPid(LIVE_PID));
  });

  it('/var/lock as a link to /run/lock is one directory', async () => {
    symlinkSync(lockDir, join(dir, 'var-lock'));
    const lease = await acquireUucpLock(device, { dirs: [lockDir, join(dir, 'var-lock')] });
    expect(lease.files).toEqual([join(lockDir, 'LCK..ttyFAKE0')]);
    lease.release();
  });
});

/** A python3 child that holds `path` open until killed (a program using the port). */
async function holdOpen(path: string): Promise<ChildProcess> {
  const child = spawn(
    'python3',
    ['-c', 'import sys,time; f=open(sys.argv[1]); print("open", flush=True); time.sleep(120)', path],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', () => reject(new Error('python3 exited early')));
  });
  return child;
}
