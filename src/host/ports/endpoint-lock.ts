/**
 * One owner per terminal, host-wide (issue 9): every port the registry opens is first locked by
 * its endpoint (endpoint.ts), by the CLI's in-process engine and by the daemon alike, so two runs
 * can never both read STATUS and both log in.
 *
 * Why a Linux abstract Unix socket (`\0posbridge-lock-v1-<hash>`) bound as a mutex, and not a lock
 * file: Node has no flock(2), and a lock file needs stale detection (pid plus start time, and a
 * careful dance to replace a stale file without racing another run). Binding an abstract name is
 * atomic, only one process can hold it (EADDRINUSE for the others), the kernel frees it the moment
 * the holder dies, kill -9 included, and nothing is left on disk to clean up. It is host-wide
 * across users (the abstract namespace has no permissions) and the holder answers a connection
 * with its pid and command, which is what the refused run prints. Its limits: it is per network
 * namespace (a container with its own network does not see the host's locks; device ports still
 * have flock and UUCP locks there), and any local process could squat a name, which then shows as
 * "held by pid N (that process)". Systems without the abstract namespace (not Linux), and tests,
 * use socket files in a directory instead (`socketDir`), removing a file nobody listens on (a
 * crashed holder's); there two runs that meet the same stale file at the same instant could both
 * take it, a window the abstract namespace does not have.
 */
import { createHash } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import net from 'node:net';
import { basename, join } from 'node:path';
import { PosbridgeError } from '../errors.js';
import type { Endpoint } from './endpoint.js';
import { describePids, escapeControlChars, type PortHolder, pidsWithFd, portBusy } from './holders.js';

export interface EndpointLockOptions {
  /**
   * Keep host-wide locks as socket files in this directory instead of the Linux abstract
   * namespace. Default: the abstract namespace on Linux, the OS temporary directory elsewhere.
   */
  socketDir?: string | undefined;
  /** How long a holder has to say who it is, ms. Default 1000. */
  queryTimeoutMs?: number | undefined;
  /** Where to look for a holder that does not answer. Default `/proc`. */
  procRoot?: string | undefined;
}

/** A held lock: release() frees it (idempotent; also freed by the kernel when the process dies). */
export interface EndpointLease {
  readonly endpoint: Endpoint;
  release(): void;
}

export const LOCK_NAME_PREFIX = 'posbridge-lock-v1-';

/** The socket name of a key: a hash, so any path or host fits the 107-byte limit. */
export function lockSocketName(key: string): string {
  return `${LOCK_NAME_PREFIX}${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

interface Held {
  server: net.Server | undefined;
}

export class EndpointLocks {
  private readonly held = new Map<string, Held>();
  private readonly socketDir: string | undefined;
  private readonly queryTimeoutMs: number;
  private readonly procRoot: string;

  constructor(options: EndpointLockOptions = {}) {
    this.socketDir = options.socketDir ?? (process.platform === 'linux' ? undefined : osTmp());
    this.queryTimeoutMs = options.queryTimeoutMs ?? 1000;
    this.procRoot = options.procRoot ?? '/proc';
  }

  /** Takes the lock of `endpoint`, or rejects with PORT_BUSY naming the holder. `portName` is for messages. */
  async acquire(endpoint: Endpoint, portName: string): Promise<EndpointLease> {
    const { key } = endpoint;
    if (this.held.has(key)) throw portBusy(portName, [{ pid: process.pid, self: true }]);
    // Reserved before the bind completes: a second open in this process is refused at once.
    const entry: Held = { server: undefined };
    this.held.set(key, entry);
    if (endpoint.scope === 'host') {
      try {
        await this.bind(entry, lockSocketName(key), portName);
      } catch (error) {
        this.held.delete(key);
        throw error;
      }
    }
    let released = false;
    return {
      endpoint,
      release: () => {
        if (released) return;
        released = true;
        this.held.delete(key);
        // Closing the listening socket frees the name at once (the close callback comes later);
        // a socket file is unlinked by the close itself, before another run can bind it again.
        entry.server?.close();
      },
    };
  }

  /** Keys held by this process (for tests and diagnostics). */
  heldKeys(): string[] {
    return [...this.held.keys()];
  }

  private async bind(entry: Held, name: string, portName: string): Promise<void> {
    const address = this.socketDir === undefined ? `\0${name}` : join(this.socketDir, `${name}.sock`);
    for (let attempt = 0; ; attempt++) {
      const server = createHolderServer();
      const error = await listen(server, address);
      if (error === undefined) {
        server.unref();
        entry.server = server;
        return;
      }
      if (error.code !== 'EADDRINUSE') {
        throw new PosbridgeError(
          'PORT_OPEN_FAILED',
          `cannot take the one-owner lock of ${portName}: ${error.message}`,
          {
            hint: 'posbridge locks each terminal (docs/cli.md, "One owner per terminal") and opens nothing without it; check TMPDIR or the sandbox that refused the socket.',
            details: { port: portName, errno: error.code },
            cause: error,
          },
        );
      }
      const holder = await queryHolder(address, this.queryTimeoutMs);
      // A socket file nobody listens on was left by a process that died: remove it and try again.
      if (holder === 'refused' && this.socketDir !== undefined && attempt === 0) {
        await unlink(address).catch(() => undefined);
        continue;
      }
      const holders =
        holder !== 'refused' && holder !== undefined
          ? [{ ...holder, self: holder.pid === process.pid }]
          : this.socketDir === undefined
            ? await findAbstractSocketOwners(name, this.procRoot)
            : [];
      throw portBusy(portName, holders);
    }
  }
}

function osTmp(): string {
  return process.env.TMPDIR || '/tmp';
}

/** The process-wide locks: every registry of this process shares them. */
let processLocks: EndpointLocks | undefined;
export function processEndpointLocks(): EndpointLocks {
  processLocks ??= new EndpointLocks();
  return processLocks;
}

/** A listening socket whose only job is to say who holds the lock: `{"pid":N,"command":"..."}`. */
function createHolderServer(): net.Server {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(`${JSON.stringify({ pid: process.pid, command: selfCommand() })}\n`);
  });
  server.on('error', () => undefined);
  return server;
}

function listen(server: net.Server, address: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      resolve(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(undefined);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ path: address, exclusive: true });
  });
}

/** This process as a person would name it: `posbridge provision --port ...`. */
export function selfCommand(argv: readonly string[] = process.argv): string {
  const [exe = 'node', script, ...rest] = argv;
  const head =
    script !== undefined && /(^|\/)(posbridge|cli\/main\.js)$/.test(script)
      ? ['posbridge']
      : [basename(exe), ...(script === undefined ? [] : [script])];
  const command = [...head, ...rest].join(' ');
  return command.length > 120 ? `${command.slice(0, 117)}...` : command;
}

type QueryResult = { pid: number; command: string | undefined } | 'refused' | undefined;

/** Asks the holder of `address` who it is: its answer, `refused` (nobody listens), or undefined (no answer). */
export function queryHolder(address: string, timeoutMs: number): Promise<QueryResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: address });
    let text = '';
    let done = false;
    const finish = (result: QueryResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    timer.unref?.();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 4096) finish(undefined);
    });
    socket.on('end', () => finish(parseAnswer(text)));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'refused' : undefined),
    );
  });
}

function parseAnswer(text: string): QueryResult {
  try {
    const value = JSON.parse(text) as { pid?: unknown; command?: unknown };
    if (typeof value.pid !== 'number' || !Number.isSafeInteger(value.pid) || value.pid <= 0) return undefined;
    const command =
      typeof value.command === 'string' ? escapeControlChars(value.command).slice(0, 120) : undefined;
    return { pid: value.pid, command: command === '' ? undefined : command };
  } catch {
    return undefined;
  }
}

/**
 * Who listens on an abstract socket, from /proc (for a holder that does not answer, e.g. stopped
 * with Ctrl-Z): its inode in /proc/net/unix, then the process with a descriptor on that socket.
 */
export async function findAbstractSocketOwners(name: string, procRoot = '/proc'): Promise<PortHolder[]> {
  let inode: string | undefined;
  try {
    const table = await readFile(join(procRoot, 'net', 'unix'), 'utf8');
    for (const line of table.split('\n')) {
      const fields = line.trim().split(/\s+/);
      // Node binds the whole sun_path: the name is followed by NULs, which /proc shows as `@`.
      if (fields[7]?.replace(/@+$/, '') === `@${name}`) inode = fields[6];
    }
  } catch {
    return [];
  }
  if (inode === undefined) return [];
  return describePids(await pidsWithFd(`socket:[${inode}]`, procRoot), procRoot);
}
