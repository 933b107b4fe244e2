/**
 * Whether a pty link (`posbridge mock --pty PATH`) leads to a pty that is alive: another mock, or
 * socat, or any program serving it. Replacing such a link would steal the path from under it:
 * its hosts would reach us on their next open while it still runs. A link that points nowhere,
 * or to a pty nobody holds, is stale and may be replaced.
 *
 * A pty is held through its master (`/dev/ptmx`, whose /proc/PID/fdinfo names the pty in
 * `tty-index:`; our own pty helper holds only that) or its slave (`/dev/pts/N`, e.g. a host that
 * opened it). Both show in /proc/PID/fd (Linux). Anything unreadable (no /proc, another user's
 * process) is skipped: a pty whose holders cannot be seen is taken for stale, as before.
 */
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';

export interface PtyHolder {
  pid: number;
  /** The holder's command line, cut to 120 characters, if readable. */
  command?: string;
  /** The process that started it (a pty helper's `posbridge mock`), if readable. */
  parent?: { pid: number; command?: string };
  /** Holds the master (serves the pty) or the slave (has it open as a host). */
  end: 'master' | 'slave';
}

export interface LivePty {
  /** The pty the link leads to, e.g. /dev/pts/3. */
  target: string;
  holders: PtyHolder[];
}

export interface PtyHolderOptions {
  /** Default `/proc`. */
  procRoot?: string;
}

/** A devpts node: its index. */
const PTS = /\/pts\/([0-9]+)$/;
const MASTER = /\/(?:pts\/)?ptmx$/;

/**
 * The live pty behind the symlink at `linkPath`, with who holds it; undefined when there is no
 * link, it points nowhere, it leads to something that is not a pty, or no process holds the pty.
 */
export async function livePtyBehind(
  linkPath: string,
  options: PtyHolderOptions = {},
): Promise<LivePty | undefined> {
  let target: string;
  try {
    target = await realpath(linkPath);
  } catch {
    return undefined; // no link, or a dangling one
  }
  const index = PTS.exec(target)?.[1];
  if (index === undefined) return undefined;
  const holders = await findPtyHolders(target, index, options.procRoot ?? '/proc');
  return holders.length > 0 ? { target, holders } : undefined;
}

async function findPtyHolders(slave: string, index: string, procRoot: string): Promise<PtyHolder[]> {
  let pids: string[];
  try {
    pids = (await readdir(procRoot)).filter((entry) => /^[0-9]+$/.test(entry));
  } catch {
    return [];
  }
  const holders: PtyHolder[] = [];
  for (const pid of pids) {
    const end = await holds(join(procRoot, pid), slave, index);
    if (!end) continue;
    const holder: PtyHolder = { pid: Number(pid), end, ...(await commandOf(join(procRoot, pid))) };
    const parent = await parentOf(join(procRoot, pid));
    if (parent !== undefined && parent > 1)
      holder.parent = { pid: parent, ...(await commandOf(join(procRoot, String(parent)))) };
    holders.push(holder);
  }
  return holders;
}

/** Which end of the pty the process at `dir` holds, if any. */
async function holds(dir: string, slave: string, index: string): Promise<PtyHolder['end'] | undefined> {
  let fds: string[];
  try {
    fds = await readdir(join(dir, 'fd'));
  } catch {
    return undefined;
  }
  let end: PtyHolder['end'] | undefined;
  for (const fd of fds) {
    let link: string;
    try {
      link = await readlink(join(dir, 'fd', fd));
    } catch {
      continue; // closed meanwhile, or not ours to read
    }
    if (link === slave) end ??= 'slave';
    else if (MASTER.test(link) && (await masterIndex(join(dir, 'fdinfo', fd))) === index) return 'master';
  }
  return end;
}

async function masterIndex(fdinfo: string): Promise<string | undefined> {
  try {
    return /^tty-index:\s*([0-9]+)$/m.exec(await readFile(fdinfo, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The command line on one line, its start and its end kept (a pty helper's link path is last). */
async function commandOf(dir: string): Promise<{ command?: string }> {
  try {
    const raw = await readFile(join(dir, 'cmdline'), 'utf8');
    const command = raw.replace(/[\0\s]+/g, ' ').trim();
    if (command === '') return {};
    return { command: command.length > 120 ? `${command.slice(0, 60)} ... ${command.slice(-55)}` : command };
  } catch {
    return {};
  }
}

async function parentOf(dir: string): Promise<number | undefined> {
  try {
    const ppid = /^PPid:\s*([0-9]+)$/m.exec(await readFile(join(dir, 'status'), 'utf8'))?.[1];
    return ppid === undefined ? undefined : Number(ppid);
  } catch {
    return undefined;
  }
}

/** `pid 4242 (python3 -I -S -c ... /tmp/pos0) of pid 4200 (node ... mock --pty /tmp/pos0), serving it`. */
export function describePtyHolders(holders: readonly PtyHolder[]): string {
  const name = (pid: number, command: string | undefined) => `pid ${pid}${command ? ` (${command})` : ''}`;
  return holders
    .map((h) => {
      const parent = h.parent ? ` of ${name(h.parent.pid, h.parent.command)}` : '';
      return `${name(h.pid, h.command)}${parent}, ${h.end === 'master' ? 'serving it' : 'with it open'}`;
    })
    .join('; ');
}
