/**
 * UUCP lock files: how minicom, cu, ModemManager's peers and many vendor tools claim a serial port
 * (docs/cli.md, "One owner per terminal": minicom locks with `/run/lock/LCK..<name>`, not flock). posbridge honours
 * them and writes its own while it owns a device, so minicom and posbridge never share a port.
 *
 * The convention (FHS, "/var/lock"): a file `LCK..<device basename>` in the lock directory holding
 * the owner's pid in ASCII, ten characters right-aligned and a newline (old programs wrote it as
 * a binary int, read here too). A file whose pid is dead (or a zombie) is stale and removed. The
 * name is the basename the program was given, so a link (`/dev/serial/by-id/...`, a pty link) and
 * its target have different names: we look for both, and write both. A basename is not unique
 * (`/tmp/a/pos0` and `/tmp/b/pos0` are two ptys with one lock name), so a live lock under a link's
 * name counts only when its owner has our device open, or when /proc will not tell us (another
 * user's process): the device's own name always counts. What that leaves open: a program that has
 * written its lock under a link's name and not yet opened the device (a window of its own
 * startup) is not seen; the device's name, flock and the endpoint lock still are.
 *
 * A lock directory we cannot write (not root, not in group uucp/lock, read-only) is said at debug
 * level and we go on with flock only: refusing to open a port for want of a lock file would stop
 * every technician whose distribution does not give users /run/lock.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { readdir, readFile, readlink, realpath, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { PosbridgeError } from '../errors.js';
import { describePids, type PortHolder, portBusy } from './holders.js';

export const DEFAULT_UUCP_LOCK_DIRS: readonly string[] = ['/run/lock', '/var/lock'];

export interface UucpLockOptions {
  /** Lock directories, looked in in order; ours goes in the first writable one. Default /run/lock, /var/lock. */
  dirs?: readonly string[] | undefined;
  /** Default `/proc`. */
  procRoot?: string | undefined;
  /** Says at debug level where no lock file could be written. */
  logger?: Logger | undefined;
}

export interface UucpLease {
  /** The lock files written (empty when no directory was writable). */
  readonly files: readonly string[];
  /** Removes our lock files (only while they still hold our pid). Idempotent. */
  release(): void;
}

/** The pid in a lock file: ASCII (`%10d\n`, any spacing) or a 4-byte binary int; undefined if neither. */
export function parseLockPid(content: Buffer): number | undefined {
  const text = content.toString('latin1').trim();
  if (/^[0-9]{1,10}$/.test(text)) return Number(text) || undefined;
  // Binary: four bytes, little-endian here, the high byte 0 (pid_max is at most 2^22), so text
  // such as "abc\n" is never taken for one.
  if (content.length === 4 && content[3] === 0) {
    const pid = content.readInt32LE(0);
    return pid > 0 ? pid : undefined;
  }
  return undefined;
}

/** `%10d\n`, as minicom and lockdev write it. */
export function formatLockPid(pid: number): string {
  return `${String(pid).padStart(10, ' ')}\n`;
}

/** Alive: signal 0 reaches it (EPERM: it exists, another user's) and /proc does not show a zombie. */
export async function pidAlive(pid: number, procRoot = '/proc'): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = await readFile(join(procRoot, String(pid), 'stat'), 'utf8');
    return !/^\d+ \(.*\) Z /s.test(stat);
  } catch {
    return true;
  }
}

/** Our files, removed at exit (a crash leaves them stale: the next run removes them). */
const ours = new Set<string>();
let exitHook = false;

/**
 * Checks the lock directories for a live lock on `device` (as given, e.g. a by-id link), removes
 * stale ones, and writes ours. Rejects with PORT_BUSY naming the owner; nothing was opened.
 */
export async function acquireUucpLock(device: string, options: UucpLockOptions = {}): Promise<UucpLease> {
  await checkUucpLocks(device, options);
  return writeUucpLocks(device, options);
}

interface LockNames {
  target: string;
  /** `LCK..<target's basename>`: a live lock under it always counts. */
  own: string;
  /** Every name to look for and write: the own name and the link's (when it differs). */
  names: string[];
}

/** The device's target and the lock file names to look for and write: its own and its link's. */
async function lockNames(device: string): Promise<LockNames> {
  let target: string;
  try {
    target = await realpath(device);
  } catch {
    target = device;
  }
  const own = `LCK..${basename(target)}`;
  return { target, own, names: [...new Set([own, `LCK..${basename(device)}`])] };
}

/**
 * Whether `pid` has `target` open: true when it does, or when its fds cannot be read (another
 * user's process: we cannot rule it out, so its lock counts).
 */
async function ownerMayHold(pid: number, target: string, procRoot: string): Promise<boolean> {
  return (await fdsOf(pid, target, procRoot)) !== 'no';
}

/**
 * Whether one of `pid`'s fds leads to `target`. Only that process's fds are read: a look at
 * every process's (pidsWithFd) costs tens of milliseconds per open on a busy machine, and a
 * lock file names its owner.
 */
async function fdsOf(pid: number, target: string, procRoot: string): Promise<'yes' | 'no' | 'unreadable'> {
  let fds: string[];
  try {
    fds = await readdir(join(procRoot, String(pid), 'fd'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'unreadable' : 'no';
  }
  for (const fd of fds) {
    try {
      if ((await readlink(join(procRoot, String(pid), 'fd', fd))) === target) return 'yes';
    } catch {
      // Closed meanwhile.
    }
  }
  return 'no';
}

/** Rejects with PORT_BUSY when a live program holds a lock on `device`; removes stale locks. */
export async function checkUucpLocks(device: string, options: UucpLockOptions = {}): Promise<void> {
  const procRoot = options.procRoot ?? '/proc';
  const dirs = await existingDirs(options.dirs ?? DEFAULT_UUCP_LOCK_DIRS);
  const { target, own, names } = await lockNames(device);
  // A name we do not know of: its owner counts when we can see that it has our device open.
  const hasOpen = async (pid: number): Promise<boolean> => (await fdsOf(pid, target, procRoot)) === 'yes';

  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.startsWith('LCK..')) continue;
      const file = join(dir, entry);
      const pid = await readPid(file);
      const named = names.includes(entry);
      if (pid === undefined) {
        // Being written right now, or damaged: not ours to judge, but a person can.
        if (named)
          throw busyByFile(device, `${file} (no pid in it: remove it if no program uses the port)`, []);
        continue;
      }
      const alive = pid !== process.pid && (await pidAlive(pid, procRoot));
      if (named && !alive) {
        await unlink(file).catch(() => undefined);
        options.logger?.debug({ port: device, file, pid }, 'removed a stale UUCP lock file');
        continue;
      }
      // Under our own name a live lock counts. Under a link's name, or a name we do not know of,
      // it counts when its owner has our device open (a basename is not unique).
      if (!alive) continue;
      if (entry === own || (named ? await ownerMayHold(pid, target, procRoot) : await hasOpen(pid))) {
        throw busyByFile(device, file, await describePids([pid], procRoot));
      }
    }
  }
}

async function existingDirs(dirs: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  for (const dir of dirs) {
    try {
      seen.add(await realpath(dir));
    } catch {
      // Absent here: nothing to honour, nowhere to write.
    }
  }
  return [...seen];
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    return parseLockPid(await readFile(file));
  } catch {
    return undefined;
  }
}

function busyByFile(device: string, file: string, holders: readonly PortHolder[]): PosbridgeError {
  const error = portBusy(device, holders, `lock file ${file}`);
  error.details.lockFile = file;
  return error;
}

/**
 * Writes our lock files (O_EXCL) in the first writable directory. A file that exists by now was
 * written by a program that locked the port since checkUucpLocks looked: it wins (PORT_BUSY, and
 * none of ours is left behind).
 */
export async function writeUucpLocks(device: string, options: UucpLockOptions = {}): Promise<UucpLease> {
  const procRoot = options.procRoot ?? '/proc';
  const logger = options.logger;
  const dirs = await existingDirs(options.dirs ?? DEFAULT_UUCP_LOCK_DIRS);
  const { target, own, names } = await lockNames(device);
  const written: string[] = [];
  const problems: string[] = [];
  const release = (): void => {
    for (const file of written.splice(0)) {
      ours.delete(file);
      removeIfOurs(file);
    }
  };
  for (const dir of dirs) {
    for (const name of names) {
      const file = join(dir, name);
      const error = createLockFile(file);
      if (error === undefined) {
        written.push(file);
        ours.add(file);
        continue;
      }
      if (error.code === 'EEXIST') {
        const pid = await readPid(file);
        // The same link name for another device (checkUucpLocks let it pass): not ours to write.
        if (name !== own && pid !== undefined && !(await ownerMayHold(pid, target, procRoot))) {
          logger?.debug({ port: device, file, pid }, 'a lock of the same name is for another device');
          continue;
        }
        release();
        throw busyByFile(device, file, pid === undefined ? [] : await describePids([pid], procRoot));
      }
      problems.push(`${file}: ${error.code ?? error.message}`);
    }
    if (written.length > 0) break;
  }
  if (written.length === 0) {
    logger?.debug(
      { port: device, problems },
      'no UUCP lock file written (lock directory missing or not writable): relying on flock only',
    );
  }
  if (written.length > 0 && !exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const file of ours) removeIfOurs(file);
    });
  }
  const files = [...written];
  return { files, release };
}

/** O_EXCL create with our pid in it; the error when it cannot be created. */
function createLockFile(file: string): NodeJS.ErrnoException | undefined {
  try {
    const fd = openSync(file, 'wx', 0o644);
    try {
      writeSync(fd, formatLockPid(process.pid));
    } finally {
      closeSync(fd);
    }
    return undefined;
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
}

/** Removes `file` only while it still holds our pid (another program may have replaced it). */
function removeIfOurs(file: string): void {
  try {
    if (parseLockPid(readFileSync(file)) === process.pid) unlinkSync(file);
  } catch {
    // Gone already, or not ours to remove.
  }
}
