/**
 * Who holds a serial device, from /proc (Linux): for "port busy" errors that name the culprit.
 *
 * - Lock holders: /proc/locks lists every flock with the holder's pid and the device's
 *   major:minor:inode. serialport (`lock: true`), picocom and posbridge itself take an exclusive
 *   flock on the device, so this finds them before we open it (a failed open still applies its
 *   termios to the owner's tty, docs/cli.md "One owner per terminal", so we look first).
 * - Open holders: /proc/PID/fd links that point at the device, for the message when the lock was
 *   lost in a race or is held some other way.
 * Anything unreadable (no /proc, another user's process) is skipped: these are hints, never a
 * reason to fail.
 */
import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PosbridgeError } from '../errors.js';

export interface PortHolder {
  pid: number;
  /** The holder's command line (arguments joined by spaces, cut to 120 characters), if readable. */
  command?: string;
  /** The holder is this process. */
  self: boolean;
}

export interface ProcLock {
  pid: number;
  /** FLOCK, POSIX, OFDLCK... */
  type: string;
  major: number;
  minor: number;
  inode: bigint;
}

const LOCK_LINE = /^\d+:\s+(->\s+)?(\S+)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-fA-F]+):([0-9a-fA-F]+):(\d+)\s/;

/** Granted locks of /proc/locks (waiters, `->`, are left out). */
export function parseProcLocks(text: string): ProcLock[] {
  const locks: ProcLock[] = [];
  for (const line of text.split('\n')) {
    const m = LOCK_LINE.exec(line);
    if (!m || m[1] !== undefined) continue;
    locks.push({
      type: m[2]!,
      pid: Number(m[3]),
      major: Number.parseInt(m[4]!, 16),
      minor: Number.parseInt(m[5]!, 16),
      inode: BigInt(m[6]!),
    });
  }
  return locks;
}

/** Linux dev_t split as glibc's major()/minor() do. */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

export interface HolderOptions {
  /** Default `/proc`. */
  procRoot?: string;
}

/** Processes holding an flock on the device at `path` (symlinks followed). */
export async function findLockHolders(path: string, options: HolderOptions = {}): Promise<PortHolder[]> {
  const procRoot = options.procRoot ?? '/proc';
  try {
    const info = await stat(path, { bigint: true });
    const { major, minor } = splitDev(info.dev);
    const locks = parseProcLocks(await readFile(join(procRoot, 'locks'), 'utf8'));
    const pids = locks
      .filter((l) => l.type === 'FLOCK' && l.major === major && l.minor === minor && l.inode === info.ino)
      .map((l) => l.pid);
    return await describePids([...new Set(pids)], procRoot);
  } catch {
    return [];
  }
}

/** Processes with an open file descriptor on the device at `path` (symlinks followed). */
export async function findOpenHolders(path: string, options: HolderOptions = {}): Promise<PortHolder[]> {
  const procRoot = options.procRoot ?? '/proc';
  let target: string;
  try {
    target = await realpath(path);
  } catch {
    return [];
  }
  return describePids(await pidsWithFd(target, procRoot), procRoot);
}

/** Pids with a file descriptor whose /proc link reads `target` (a path, or `socket:[INODE]`). */
export async function pidsWithFd(target: string, procRoot = '/proc'): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = await readdir(join(procRoot, entry, 'fd'));
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if ((await readlink(join(procRoot, entry, 'fd', fd))) === target) {
          pids.push(Number(entry));
          break;
        }
      } catch {
        // The fd closed meanwhile, or it is not ours to read.
      }
    }
  }
  return pids;
}

/** Each pid with its command line from /proc (cut to 120 characters), when readable. */
export async function describePids(pids: number[], procRoot: string): Promise<PortHolder[]> {
  return Promise.all(
    pids.map(async (pid) => {
      const holder: PortHolder = { pid, self: pid === process.pid };
      try {
        const raw = await readFile(join(procRoot, String(pid), 'cmdline'), 'utf8');
        const command = escapeControlChars(raw.split('\0').filter(Boolean).join(' '));
        if (command !== '') holder.command = command.length > 120 ? `${command.slice(0, 117)}...` : command;
      } catch {
        // Gone, or not readable.
      }
      return holder;
    }),
  );
}

/** `pid 4242 (picocom -b 115200 /dev/ttyUSB0)`, `pid 77 (this process)`. */
export function describeHolders(holders: readonly PortHolder[]): string {
  return holders
    .map((h) => `pid ${h.pid}${h.self ? ' (this process)' : h.command ? ` (${h.command})` : ''}`)
    .join(', ');
}

/**
 * Another process's command line is data: its control characters are shown (`\x1b`), never
 * acted on by the technician's terminal.
 */
export function escapeControlChars(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** PORT_BUSY: `port busy: /dev/ttyUSB0 is held by pid 4242 (minicom -D /dev/ttyUSB0)`. Nothing was sent. */
export function portBusy(name: string, holders: readonly PortHolder[], how?: string): PosbridgeError {
  const who =
    holders.length > 0
      ? `is held by ${describeHolders(holders)}`
      : 'is held by another process (it did not say which)';
  return new PosbridgeError('PORT_BUSY', `port busy: ${name} ${who}${how === undefined ? '' : `; ${how}`}`, {
    hint: holders.some((h) => h.self)
      ? 'This process already has the port open: one owner per terminal.'
      : 'Close the other program (a console, minicom, another posbridge) or pick another port; if it is a posbridge daemon, run the command through it.',
    details: { port: name, holders },
  });
}
