/**
 * Every file posbridge writes for a person (--trace, --junit, --credentials-out) is checked
 * before the first byte goes to a terminal, and created without ever following a link:
 *
 * - `checkOutputPath` refuses (USAGE, exit 2) a symlink, a directory, a missing directory, a file
 *   or directory that cannot be written; a file that holds secrets must moreover be the user's own
 *   regular file with a single name (a hard link could expose it elsewhere).
 * - `openForAppend` opens with O_NOFOLLOW (a link planted after the check fails the open) and
 *   creates a new file with O_EXCL, mode 0600; a secret file already there is tightened to 0600.
 * - `writeFileAtomically` writes a temporary file next to the target (O_EXCL, O_NOFOLLOW) and
 *   renames it over the target: a reader never sees half a report, and no link is followed.
 *
 * A file that is not regular is accepted for a trace or a report when it is a character device
 * (`--trace /dev/null`), never for a secret.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Stats, writeSync } from 'node:fs';
import { access, type FileHandle, lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { PosbridgeError } from '../host/errors.js';
import { createWriterTrace, type WireTrace } from '../host/trace.js';

export interface OutputOptions {
  /** The file will hold secrets (operator passwords): the user's own regular file, mode 0600. */
  secret?: boolean;
  /** Relative paths are taken from here (the directory the user typed them in). */
  cwd?: string;
}

const NOTHING_SENT = 'nothing was sent to the terminal';

/**
 * The absolute path of `path` if posbridge may write it (see the file comment); else a USAGE
 * error naming the flag, the path and the problem. Creates nothing.
 */
export async function checkOutputPath(
  path: string,
  flag: string,
  options: OutputOptions = {},
): Promise<string> {
  const absolute = resolve(options.cwd ?? process.cwd(), path);
  let info: Stats | undefined;
  try {
    info = await lstat(absolute);
  } catch (error) {
    if (code(error) !== 'ENOENT') throw refusal(flag, absolute, `it cannot be read (${code(error)})`);
  }
  if (info) {
    checkKind(info, flag, absolute, options.secret === true);
    try {
      await access(absolute, constants.W_OK);
    } catch (error) {
      throw refusal(flag, absolute, `it cannot be written (${code(error)})`, 'check its permissions');
    }
    return absolute;
  }
  const directory = dirname(absolute);
  let parent: Stats;
  try {
    parent = await stat(directory);
  } catch (error) {
    throw refusal(
      flag,
      absolute,
      code(error) === 'ENOENT'
        ? `its directory ${directory} does not exist`
        : `its directory ${directory} cannot be read (${code(error)})`,
      'create the directory first, or name a file in one that exists',
    );
  }
  if (!parent.isDirectory()) throw refusal(flag, absolute, `${directory} is not a directory`);
  try {
    await access(directory, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw refusal(
      flag,
      absolute,
      `files cannot be created in ${directory} (${code(error)})`,
      'check its permissions',
    );
  }
  return absolute;
}

/**
 * Opens `path` for appending, never through a symlink; a new file is created 0600 with O_EXCL.
 * A secret file already there must pass the checks of `checkOutputPath` again (the file may have
 * changed since) and is tightened to 0600.
 */
export async function openForAppend(
  path: string,
  flag: string,
  options: OutputOptions = {},
): Promise<FileHandle> {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW;
  let handle: FileHandle;
  try {
    handle = await open(path, flags | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if (code(error) !== 'EEXIST') throw openRefusal(flag, path, error);
    try {
      handle = await open(path, flags);
    } catch (again) {
      throw openRefusal(flag, path, again);
    }
  }
  try {
    const info = await handle.stat();
    checkKind(info, flag, path, options.secret === true);
    if (options.secret && (info.mode & 0o077) !== 0) await handle.chmod(0o600);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/**
 * Writes `content` to `path` in one step: a temporary file in the same directory (O_EXCL,
 * O_NOFOLLOW, `mode`), synced, then renamed over `path`. A symlink at `path` is refused.
 */
export async function writeFileAtomically(
  path: string,
  content: string,
  flag: string,
  options: { mode?: number } = {},
): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  if (existing) checkKind(existing, flag, path, false);
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    options.mode ?? 0o644,
  );
  try {
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * The `--trace` file: checked, opened for appending (0600, no link followed), written one line
 * per wire line. A write that fails during a run (a full disk) stops the trace with one warning
 * through `warn`; the run goes on (a trace is never worth a half-provisioned terminal).
 */
export async function openTraceFile(
  path: string,
  warn: (text: string) => void,
  options: Pick<OutputOptions, 'cwd'> = {},
): Promise<WireTrace & { path: string }> {
  const absolute = await checkOutputPath(path, '--trace', options);
  const handle = await openForAppend(absolute, '--trace');
  const trace = createWriterTrace((text) => writeSync(handle.fd, text), {
    close: () => handle.close(),
    onFailure: (error) =>
      warn(
        `warning: cannot write the trace file ${absolute} (${code(error)}): tracing stopped there; the run goes on\n`,
      ),
  });
  return Object.assign(trace, { path: absolute });
}

/**
 * Where generated operator passwords go when --credentials-out is not given: the user's state
 * directory (`$XDG_STATE_HOME/posbridge`, else `~/.local/state/posbridge`), never the directory
 * the command happens to run in.
 */
export function defaultCredentialsPath(env: NodeJS.ProcessEnv, home: () => string = homedir): string {
  const xdg = env.XDG_STATE_HOME;
  const base =
    xdg && isAbsolute(xdg)
      ? xdg
      : join(env.HOME && isAbsolute(env.HOME) ? env.HOME : home(), '.local', 'state');
  return join(base, 'posbridge', 'operator-passwords.txt');
}

/**
 * The credentials file of a run: `given` (checked as a secret file), else the default one, whose
 * directory is created (0700) if missing. Resolves to its absolute path.
 */
export async function prepareCredentialsFile(
  given: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<string> {
  const path = given ?? defaultCredentialsPath(env);
  if (given === undefined) {
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw refusal('--credentials-out', path, `its directory cannot be created (${code(error)})`);
    }
  }
  return checkOutputPath(path, '--credentials-out', { secret: true, ...(cwd !== undefined && { cwd }) });
}

function checkKind(info: Stats, flag: string, path: string, secret: boolean): void {
  if (info.isSymbolicLink())
    throw refusal(
      flag,
      path,
      'it is a symbolic link; posbridge never writes through one (it could overwrite the file it points to)',
      'name the file itself',
    );
  if (info.isDirectory()) throw refusal(flag, path, 'it is a directory', 'name a file in it');
  if (secret) {
    if (!info.isFile()) throw refusal(flag, path, 'it is not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid)
      throw refusal(flag, path, `it belongs to another user (uid ${info.uid}) and would hold passwords`);
    if (info.nlink > 1)
      throw refusal(flag, path, `it has ${info.nlink} names (hard links) and would hold passwords`);
    return;
  }
  if (!info.isFile() && !info.isCharacterDevice()) throw refusal(flag, path, 'it is not a regular file');
}

function openRefusal(flag: string, path: string, error: unknown): PosbridgeError {
  const why = code(error);
  if (why === 'ELOOP')
    return refusal(
      flag,
      path,
      'it is a symbolic link; posbridge never writes through one',
      'name the file itself',
    );
  if (why === 'EISDIR') return refusal(flag, path, 'it is a directory', 'name a file in it');
  return refusal(flag, path, `it cannot be opened for writing (${why})`);
}

function refusal(flag: string, path: string, problem: string, todo = 'name another file'): PosbridgeError {
  return new PosbridgeError('USAGE', `cannot write ${flag} ${path}: ${problem}`, {
    hint: `${todo}; ${NOTHING_SENT}`,
    details: { flag, path },
  });
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error);
}
