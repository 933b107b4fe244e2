/**
 * `posbridge mock --pty PATH` and a link that is already there (issue 9, item 8): a link to a pty
 * someone still serves or has open is live and never replaced; a dangling link, or one to a pty
 * nobody holds, is stale. Here against a fake /proc in a temporary directory (the fd links and
 * fdinfo that Linux shows); test/e2e/transports-pty.test.ts does it with real ptys.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describePtyHolders, livePtyBehind } from '../../src/mock-device/transports/pty-holders.js';

let dir: string;
let proc: string;
let pts: string;
let link: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posbridge-ptyholders-'));
  proc = path.join(dir, 'proc');
  pts = path.join(dir, 'dev', 'pts');
  fs.mkdirSync(proc);
  fs.mkdirSync(pts, { recursive: true });
  fs.writeFileSync(path.join(pts, '5'), '');
  fs.writeFileSync(path.join(pts, '6'), '');
  link = path.join(dir, 'pos0');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A process in the fake /proc: its command line, parent, and fds (target, fdinfo text). */
function processEntry(
  pid: number,
  command: string[],
  fds: Record<string, { target: string; info?: string }>,
  ppid = 1,
): void {
  const base = path.join(proc, String(pid));
  fs.mkdirSync(path.join(base, 'fd'), { recursive: true });
  fs.mkdirSync(path.join(base, 'fdinfo'));
  fs.writeFileSync(path.join(base, 'cmdline'), `${command.join('\0')}\0`);
  fs.writeFileSync(path.join(base, 'status'), `Name:\tx\nPid:\t${pid}\nPPid:\t${ppid}\n`);
  for (const [fd, { target, info }] of Object.entries(fds)) {
    fs.symlinkSync(target, path.join(base, 'fd', fd));
    fs.writeFileSync(path.join(base, 'fdinfo', fd), info ?? 'pos:\t0\nflags:\t02\n');
  }
}

describe('livePtyBehind', () => {
  it('a pty whose master another mock holds (fdinfo tty-index) is live, named with the program that started it', async () => {
    fs.symlinkSync(path.join(pts, '5'), link);
    processEntry(4200, ['node', '/opt/posbridge/dist/cli/main.js', 'mock', '--pty', link], {});
    processEntry(
      4242,
      ['python3', '-I', '-S', '-c', 'import errno, os\nimport pty\n'.repeat(20), link],
      { '0': { target: 'pipe:[1]' }, '4': { target: '/dev/ptmx', info: 'pos:\t0\ntty-index:\t5\n' } },
      4200,
    );
    // Another pty's master, and a process that only has its own terminal: not holders.
    processEntry(5000, ['sshd'], { '3': { target: '/dev/ptmx', info: 'tty-index:\t6\n' } });
    processEntry(5001, ['bash'], { '0': { target: path.join(pts, '6') } });

    const live = await livePtyBehind(link, { procRoot: proc });

    expect(live?.target).toBe(path.join(pts, '5'));
    expect(live?.holders.map((h) => [h.pid, h.end, h.parent?.pid])).toEqual([[4242, 'master', 4200]]);
    const text = describePtyHolders(live!.holders);
    expect(text).toMatch(
      /^pid 4242 \(python3 -I -S -c import errno, os import pty .* \.\.\. .*pos0\) of pid 4200 \(node \/opt\/posbridge\/dist\/cli\/main\.js mock --pty .*pos0\), serving it$/,
    );
    expect(text).not.toContain('\n');
  });

  it('a pty a program has open (the slave) is live too', async () => {
    fs.symlinkSync(path.join(pts, '5'), link);
    processEntry(777, ['picocom', '-b', '115200', link], { '3': { target: path.join(pts, '5') } });
    const live = await livePtyBehind(link, { procRoot: proc });
    expect(describePtyHolders(live!.holders)).toBe(`pid 777 (picocom -b 115200 ${link}), with it open`);
  });

  it('stale: a dangling link, a pty nobody holds, a link to something that is not a pty, no link', async () => {
    processEntry(5000, ['sshd'], { '3': { target: '/dev/ptmx', info: 'tty-index:\t6\n' } });
    fs.symlinkSync(path.join(pts, '99'), link);
    expect(await livePtyBehind(link, { procRoot: proc })).toBeUndefined();
    fs.rmSync(link);
    fs.symlinkSync(path.join(pts, '5'), link);
    expect(await livePtyBehind(link, { procRoot: proc })).toBeUndefined();
    fs.rmSync(link);
    fs.writeFileSync(path.join(dir, 'file'), '');
    fs.symlinkSync(path.join(dir, 'file'), link);
    expect(await livePtyBehind(link, { procRoot: proc })).toBeUndefined();
    expect(await livePtyBehind(path.join(dir, 'absent'), { procRoot: proc })).toBeUndefined();
  });

  it('an unreadable /proc is no reason to refuse: the link counts as stale', async () => {
    fs.symlinkSync(path.join(pts, '5'), link);
    expect(await livePtyBehind(link, { procRoot: path.join(dir, 'no-proc') })).toBeUndefined();
  });
});
