/**
 * The daemon's Unix socket: where it lives, how it is claimed (one daemon per socket; a stale
 * socket left by a crash is replaced), who may use it (its owner: mode 0600 in a private
 * directory), and the quick health probe both a second daemon and the CLI use to find a running
 * one.
 *
 * Where: `--socket PATH`, else `POSBRIDGE_SOCKET`, else `$XDG_RUNTIME_DIR/posbridge/daemon.sock`,
 * else `/tmp/posbridge-$UID/daemon.sock`.
 */

import { chmod, lstat, mkdir, stat, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { PosbridgeError } from '../../host/errors.js';
import type { DaemonHealth } from './wire.js';

/** sun_path holds 108 bytes on Linux (104 on the BSDs), the terminating NUL included. */
export const MAX_SOCKET_PATH_BYTES = 103;

export const SOCKET_ENV = 'POSBRIDGE_SOCKET';

export interface SocketLocation {
  path: string;
  /** How it was chosen: the flag, the environment variable, or the default. */
  source: 'flag' | 'env' | 'default';
}

export function defaultSocketPath(env: NodeJS.ProcessEnv, uid: number): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime?.startsWith('/')) return join(runtime, 'posbridge', 'daemon.sock');
  return join('/tmp', `posbridge-${uid}`, 'daemon.sock');
}

export function resolveSocketPath(
  env: NodeJS.ProcessEnv,
  flag: string | undefined,
  uid: number,
): SocketLocation {
  if (flag !== undefined && flag !== '') return { path: flag, source: 'flag' };
  const fromEnv = env[SOCKET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, source: 'env' };
  return { path: defaultSocketPath(env, uid), source: 'default' };
}

function checkLength(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new PosbridgeError('USAGE', `the socket path ${path} is too long for a Unix socket`, {
      hint: `use a path of at most ${MAX_SOCKET_PATH_BYTES} bytes (--socket or ${SOCKET_ENV})`,
    });
  }
}

/**
 * Nobody else may swap the socket: the directory belongs to us (or root), and if others may
 * write to it, it is sticky (like /tmp), so they cannot replace our entry.
 */
async function checkDirectory(dir: string, uid: number, strict: boolean): Promise<void> {
  const info = await stat(dir);
  if (!info.isDirectory())
    throw new PosbridgeError('USAGE', `${dir} is not a directory`, { hint: 'choose another --socket path' });
  const owned = info.uid === uid || (!strict && info.uid === 0);
  const othersWrite = (info.mode & 0o022) !== 0;
  const sticky = (info.mode & 0o1000) !== 0;
  if (!owned || (strict && (info.mode & 0o077) !== 0) || (othersWrite && !sticky)) {
    throw new PosbridgeError(
      'USAGE',
      `the socket directory ${dir} is not private (owner uid ${info.uid}, mode ${(info.mode & 0o7777).toString(8)})`,
      {
        hint: strict
          ? `remove it (posbridge creates it with mode 0700) or choose --socket PATH`
          : 'choose a directory only you can write to (--socket PATH)',
      },
    );
  }
}

/** Creates the socket's directory (0700) if needed and checks that it is private. */
export async function prepareSocketDirectory(location: SocketLocation, uid: number): Promise<void> {
  checkLength(location.path);
  const dir = dirname(location.path);
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) await chmod(dir, 0o700);
  else if (location.source === 'default') {
    // Our own directory, left too open (by hand, or an older version): close it.
    const info = await stat(dir);
    if (info.isDirectory() && info.uid === uid && (info.mode & 0o077) !== 0) await chmod(dir, 0o700);
  }
  // The default directory is ours alone; a path the user chose only has to be safe.
  await checkDirectory(dir, uid, location.source === 'default');
}

export type ProbeResult =
  | { kind: 'daemon'; health: DaemonHealth }
  /** Nothing there. */
  | { kind: 'absent' }
  /** A socket file nobody listens on: left by a crash. */
  | { kind: 'stale' }
  /** Something holds the socket but does not answer as posbridge does. */
  | { kind: 'other'; detail: string };

/**
 * `GET /v1/health` with a short timeout: is a posbridge daemon answering at `path`? node:http is
 * loaded here, when a socket is there to ask: a command without a daemon starts without it.
 */
export async function probeSocket(path: string, timeoutMs = 1000): Promise<ProbeResult> {
  const { request } = await import('node:http');
  return new Promise((resolve) => {
    const req = request({
      socketPath: path,
      path: '/v1/health',
      method: 'GET',
      headers: { accept: 'application/json' },
      agent: false,
      timeout: timeoutMs,
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ kind: 'other', detail: `no answer within ${timeoutMs} ms` });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') resolve({ kind: 'absent' });
      else if (error.code === 'ECONNREFUSED') resolve({ kind: 'stale' });
      else resolve({ kind: 'other', detail: error.code ?? error.message });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 64 * 1024) body += chunk;
      });
      res.on('error', () => resolve({ kind: 'other', detail: 'the answer broke off' }));
      res.on('end', () => {
        try {
          const health = JSON.parse(body) as DaemonHealth;
          if (res.statusCode === 200 && health.service === 'posbridge' && typeof health.pid === 'number')
            resolve({ kind: 'daemon', health });
          else resolve({ kind: 'other', detail: `HTTP ${res.statusCode}` });
        } catch {
          resolve({ kind: 'other', detail: 'an answer that is not posbridge JSON' });
        }
      });
    });
    req.end();
  });
}

/** A daemon already answers at the socket: this one must not start. */
export class DaemonAlreadyRunning extends PosbridgeError {
  constructor(
    readonly socket: string,
    readonly pid: number,
  ) {
    super('PORT_BUSY', `a posbridge daemon (pid ${pid}) is already running at ${socket}`, {
      hint: `stop it first (kill ${pid}, or systemctl --user stop posbridge), or give this one another --socket`,
      details: { socket, pid },
    });
  }
}

/** The identity of the socket file we created, so we never remove a successor's. */
export interface ClaimedSocket {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Listens on `location` as its only daemon: a live daemon there is refused (naming its pid), a
 * stale socket is removed and replaced, anything else is left alone. The socket gets mode 0600
 * (created under a 0177 umask, then chmod-ed, so it is never open to others).
 */
export async function listenExclusive(
  server: Server,
  location: SocketLocation,
  uid: number,
): Promise<ClaimedSocket> {
  await prepareSocketDirectory(location, uid);
  const path = location.path;
  for (let attempt = 1; ; attempt++) {
    try {
      await listenOnce(server, path);
      break;
    } catch (error) {
      // Three tries: a stale socket is removed between them; more means a race we do not win.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' || attempt === 3) throw listenFailure(path, error);
    }
    const existing = await lstat(path).catch(() => undefined);
    if (existing && !existing.isSocket()) {
      throw new PosbridgeError('USAGE', `${path} exists and is not a socket; it was left untouched`, {
        hint: 'remove it yourself if it is not needed, or choose another --socket',
      });
    }
    if (existing && existing.uid !== uid) {
      throw new PosbridgeError('USAGE', `the socket ${path} belongs to another user (uid ${existing.uid})`, {
        hint: 'choose another --socket',
      });
    }
    const probe = await probeSocket(path);
    if (probe.kind === 'daemon') throw new DaemonAlreadyRunning(path, probe.health.pid);
    if (probe.kind === 'other') {
      throw new PosbridgeError(
        'PORT_BUSY',
        `something holds ${path} but does not answer as posbridge (${probe.detail})`,
        {
          hint: 'find the process (ss -xlp), stop it, or choose another --socket',
          details: { socket: path },
        },
      );
    }
    if (probe.kind === 'stale') await unlink(path).catch(() => undefined);
  }
  await chmod(path, 0o600);
  const info = await lstat(path);
  return { path, dev: info.dev, ino: info.ino };
}

function listenOnce(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // The bind happens inside listen(): under this umask the socket is born 0600.
    const restore = setUmask(0o177);
    try {
      server.listen(path);
    } finally {
      restore();
    }
  });
}

function setUmask(mask: number): () => void {
  try {
    const previous = process.umask(mask);
    return () => process.umask(previous);
  } catch {
    return () => undefined; // worker threads cannot change it: the chmod right after still applies
  }
}

function listenFailure(path: string, error: unknown): PosbridgeError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new PosbridgeError('PORT_OPEN_FAILED', `cannot listen on ${path}: ${code}`, {
    hint: code === 'EACCES' ? 'choose a socket path you may write to (--socket)' : 'choose another --socket',
    cause: error,
  });
}

/** Removes the socket file if it is still the one we created. */
export async function releaseSocket(claimed: ClaimedSocket): Promise<void> {
  const info = await lstat(claimed.path).catch(() => undefined);
  if (info && info.dev === claimed.dev && info.ino === claimed.ino)
    await unlink(claimed.path).catch(() => undefined);
}

/**
 * For a client about to send secrets: the socket is a socket of ours, in a directory nobody
 * else can swap it in. False when there is nothing usable there.
 */
export async function isTrustedSocket(path: string, uid: number): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isSocket() || info.uid !== uid) return false;
  try {
    await checkDirectory(dirname(path), uid, false);
    return true;
  } catch {
    return false;
  }
}
