/**
 * The daemon's life on its socket: one daemon per socket (a second is refused, naming the first
 * one's pid, before it touches a port), a stale socket is replaced, anything else there is left
 * alone; the CLI finds a daemon only where one answers on a socket of its own user; SIGINT and
 * SIGTERM stop it in order (running operations finish, a second signal cuts them short, the
 * port manager and the engine are closed, the socket removed).
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findDaemon, RemoteEngine } from '../../src/daemon/api/client.js';
import { Daemon, runUntilSignal } from '../../src/daemon/api/lifecycle.js';
import { DaemonAlreadyRunning, probeSocket } from '../../src/daemon/api/socket.js';
import { PosbridgeError } from '../../src/host/errors.js';
import { Secret } from '../../src/host/secret.js';
import { profileSchema } from '../../src/host/workflow/profile.js';
import {
  ADMIN_PW,
  call,
  fixedNow,
  MERCHANT,
  MockWorld,
  type RunningDaemon,
  scratchDir,
  silent,
  startDaemon,
  TERMINAL,
} from './api-rig.helper.js';

const uid = process.getuid!();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scratch(): string {
  const dir = scratchDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function daemonIn(
  dir: string,
  options: Parameters<typeof startDaemon>[0] = {},
): Promise<RunningDaemon> {
  const d = await startDaemon({ ...options, dir });
  cleanups.push(() => d.stop());
  return d;
}

/** A socket file nobody listens on: a process that bound it was killed with SIGKILL. */
async function staleSocket(path: string): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  expect(lstatSync(path).isSocket()).toBe(true);
  expect((await probeSocket(path)).kind).toBe('stale');
}

/** Another mock world, and the daemon runtime over it (the composition root's), as a spy. */
function otherWorld() {
  const world = new MockWorld();
  const audit = join(scratch(), 'audit.sqlite3');
  const createRuntime = vi.fn(() => world.serve(audit));
  cleanups.push(() => world.close());
  return { world, createRuntime };
}

describe('one daemon per socket', () => {
  it('a second daemon is refused, naming the socket and the running one’s pid, before it opens a port', async () => {
    const dir = scratch();
    const first = await daemonIn(dir);
    const { createRuntime } = otherWorld();
    const error = await Daemon.start({
      socket: { path: first.socket, source: 'flag' },
      uid,
      logger: silent,
      createRuntime,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonAlreadyRunning);
    expect((error as PosbridgeError).code).toBe('PORT_BUSY');
    expect((error as PosbridgeError).message).toBe(
      `a posbridge daemon (pid ${process.pid}) is already running at ${first.socket}`,
    );
    expect((error as PosbridgeError).hint).toMatch(/kill \d+|another --socket/);
    expect(createRuntime).not.toHaveBeenCalled();
    // The first one is untouched and still answers.
    expect((await call(first.socket, 'GET', '/v1/health')).json.state).toBe('running');
  });

  it('while the first is still starting, it already answers health, and a second is refused', async () => {
    const dir = scratch();
    const socket = join(dir, 'daemon.sock');
    const { createRuntime } = otherWorld();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const starting = Daemon.start({
      socket: { path: socket, source: 'flag' },
      uid,
      logger: silent,
      createRuntime: async () => {
        await gate;
        return createRuntime();
      },
    });
    await expect.poll(() => existsSync(socket)).toBe(true);
    const health = await call(socket, 'GET', '/v1/health');
    expect(health.json).toMatchObject({ service: 'posbridge', state: 'starting', pid: process.pid });
    const busy = await call(socket, 'POST', '/v1/info', { port: 'mock://a' });
    expect(busy.status).toBe(503);
    expect(busy.json.error).toMatchObject({ code: 'CLOSED', message: 'the daemon is starting' });
    const second = await Daemon.start({
      socket: { path: socket, source: 'flag' },
      uid,
      logger: silent,
      createRuntime,
    }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(DaemonAlreadyRunning);
    open();
    const daemon = await starting;
    expect((await call(socket, 'POST', '/v1/info', { port: 'mock://a' })).status).toBe(200);
    await daemon.stop();
  });

  it('a stale socket (its daemon was killed) is removed and replaced', async () => {
    const dir = scratch();
    const socket = join(dir, 'run', 'daemon.sock');
    await staleSocket(socket);
    const d = await daemonIn(dir);
    expect(d.socket).toBe(socket);
    expect(lstatSync(socket).mode & 0o777).toBe(0o600);
    expect((await call(socket, 'GET', '/v1/health')).json.pid).toBe(process.pid);
  });

  it('a file that is not a socket is left alone', async () => {
    const dir = scratch();
    mkdirSync(join(dir, 'run'), { mode: 0o700 });
    const path = join(dir, 'run', 'daemon.sock');
    writeFileSync(path, 'my notes\n');
    const error = await startDaemon({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PosbridgeError);
    expect((error as PosbridgeError).message).toBe(
      `${path} exists and is not a socket; it was left untouched`,
    );
    expect(readFileSync(path, 'utf8')).toBe('my notes\n');
  });

  it('a socket held by something that is not posbridge is left alone', async () => {
    const dir = scratch();
    mkdirSync(join(dir, 'run'), { mode: 0o700 });
    const path = join(dir, 'run', 'daemon.sock');
    const other = createServer((_req, res) => res.writeHead(404).end('no'));
    await new Promise<void>((resolve) => other.listen(path, resolve));
    cleanups.push(() => new Promise<void>((resolve) => other.close(() => resolve())));
    const error = await startDaemon({ dir }).catch((e: unknown) => e);
    expect((error as PosbridgeError).code).toBe('PORT_BUSY');
    expect((error as PosbridgeError).message).toMatch(/^something holds .* but does not answer as posbridge/);
    expect(lstatSync(path).isSocket()).toBe(true);
  });

  it('if the port manager cannot start, the socket is released', async () => {
    const dir = scratch();
    const socket = join(dir, 'daemon.sock');
    const error = await Daemon.start({
      socket: { path: socket, source: 'flag' },
      uid,
      logger: silent,
      createRuntime: async () => {
        throw new PosbridgeError('PORT_LIST_FAILED', 'udevadm: not found');
      },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/udevadm/);
    expect(existsSync(socket)).toBe(false);
  });

  it('a socket path too long for a Unix socket is a usage error naming it', async () => {
    const dir = scratch();
    const socket = join(dir, 'x'.repeat(120), 'daemon.sock');
    const { createRuntime } = otherWorld();
    const refused = await Daemon.start({
      socket: { path: socket, source: 'flag' },
      uid,
      logger: silent,
      createRuntime,
    }).catch((e: unknown) => e);
    expect((refused as PosbridgeError).code).toBe('USAGE');
    expect((refused as PosbridgeError).message).toBe(
      `the socket path ${socket} is too long for a Unix socket`,
    );
    expect(createRuntime).not.toHaveBeenCalled();
  });
});

describe('findDaemon', () => {
  it('finds a daemon at --socket, POSBRIDGE_SOCKET or the default, and nothing elsewhere', async () => {
    const dir = scratch();
    const d = await daemonIn(dir);
    const viaFlag = await findDaemon({}, d.socket);
    expect(viaFlag).toBeInstanceOf(RemoteEngine);
    expect((await viaFlag!.health()).pid).toBe(process.pid);
    viaFlag!.close();
    const viaEnv = await findDaemon({ POSBRIDGE_SOCKET: d.socket });
    expect(viaEnv?.socketPath).toBe(d.socket);
    viaEnv?.close();
    expect(await findDaemon({ XDG_RUNTIME_DIR: join(dir, 'nowhere') })).toBeUndefined();
    expect(await findDaemon({}, join(dir, 'nothing.sock'))).toBeUndefined();
  });

  it('the default socket under $XDG_RUNTIME_DIR', async () => {
    const runtime = scratch();
    const { createRuntime } = otherWorld();
    const daemon = await Daemon.start({
      socket: { path: join(runtime, 'posbridge', 'daemon.sock'), source: 'default' },
      uid,
      logger: silent,
      createRuntime,
    });
    cleanups.push(() => daemon.stop());
    const found = await findDaemon({ XDG_RUNTIME_DIR: runtime });
    expect(found?.socketPath).toBe(join(runtime, 'posbridge', 'daemon.sock'));
    found?.close();
  });

  it('a stale socket is no daemon', async () => {
    const dir = scratch();
    const socket = join(dir, 'run', 'daemon.sock');
    await staleSocket(socket);
    expect(await findDaemon({}, socket)).toBeUndefined();
  });

  it('a socket in a directory others may write to (not sticky) is not trusted with secrets', async () => {
    const dir = scratch();
    const d = await daemonIn(dir);
    chmodSync(join(dir, 'run'), 0o777);
    cleanups.push(() => chmodSync(join(dir, 'run'), 0o700));
    expect(await findDaemon({}, d.socket)).toBeUndefined();
    chmodSync(join(dir, 'run'), 0o1777); // sticky, like /tmp: others cannot replace our socket
    const found = await findDaemon({}, d.socket);
    expect(found).toBeInstanceOf(RemoteEngine);
    found?.close();
  });

  it('a socket of another user is not trusted', async () => {
    const dir = scratch();
    const d = await daemonIn(dir);
    expect(await findDaemon({}, d.socket, { uid: uid + 1 })).toBeUndefined();
  });
});

describe('shutdown on SIGINT/SIGTERM', () => {
  /** A provisioned terminal whose full DIAG takes about a second. */
  const SLOW = 'mock://slow?diag-time-scale=1';

  async function provisioned(d: RunningDaemon, remote: RemoteEngine): Promise<void> {
    await remote.provision({
      request: {
        port: SLOW,
        merchant: MERCHANT,
        terminal: TERMINAL,
        adminPassword: new Secret(ADMIN_PW),
        profile: profileSchema.parse({ factoryOperator: 'delete', diagChecks: ['printer'] }),
        technician: 'tech',
        station: 'bench',
      },
    });
    expect(d.portManager.list()[0]?.state).toBe('present');
  }

  it('SIGTERM: a running operation finishes, then ports, engine and socket are closed', async () => {
    const dir = scratch();
    const engineClosed = vi.fn(async () => undefined);
    const world = new MockWorld();
    cleanups.push(() => world.close());
    const portManager = world.portManager();
    const socket = join(dir, 'daemon.sock');
    const daemon = await Daemon.start({
      socket: { path: socket, source: 'flag' },
      uid,
      logger: silent,
      now: fixedNow,
      createRuntime: async () => {
        const runtime = await world.serve(join(dir, 'audit.sqlite3'), portManager);
        return {
          ...runtime,
          close: async () => {
            await runtime.close();
            await engineClosed();
          },
        };
      },
    });
    const signals = new EventEmitter();
    const ended = runUntilSignal(daemon, signals);
    const remote = new RemoteEngine(socket);
    cleanups.push(() => remote.close());
    await provisioned({ portManager } as RunningDaemon, remote);

    const checks: string[] = [];
    let signalled = false;
    const diag = remote.diag(
      { port: SLOW, adminPassword: new Secret(ADMIN_PW) },
      {
        on: {
          check: (r) => {
            checks.push(r.check);
            if (!signalled) {
              signalled = true;
              signals.emit('SIGTERM');
            }
          },
        },
      },
    );
    const report = await diag;
    expect(report.diagnostics.results).toHaveLength(12);
    expect(checks).toHaveLength(12);
    expect(await ended).toBe('SIGTERM');
    expect(portManager.closed).toBe(true);
    expect(engineClosed).toHaveBeenCalledOnce();
    expect(existsSync(socket)).toBe(false);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });

  it('once stopping, new operations are refused and the event streams end', async () => {
    const dir = scratch();
    const d = await daemonIn(dir, { mock: { diagTimeScale: 1 } });
    const remote = new RemoteEngine(d.socket);
    cleanups.push(() => remote.close());
    const events = await remote.events(() => undefined);
    await provisioned(d, remote);
    let stopping: Promise<void> | undefined;
    const diag = remote.diag(
      { port: SLOW, adminPassword: new Secret(ADMIN_PW) },
      {
        on: {
          check: () => {
            stopping ??= d.daemon.stop({ reason: 'SIGINT' });
          },
        },
      },
    );
    await expect.poll(() => stopping !== undefined).toBe(true);
    await events.ended; // the hub stream was ended
    const refused = await remote.info({ port: SLOW }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PosbridgeError);
    expect((refused as PosbridgeError).toJSON()).toMatchObject({
      code: 'CLOSED',
      message: 'the daemon is shutting down',
    });
    // It still answers who it is, so a second daemon started now is refused, not racing it.
    expect(await remote.health()).toMatchObject({ state: 'stopping', operations: 1 });
    expect((await diag).diagnostics.results).toHaveLength(12);
    await stopping;
    expect(existsSync(d.socket)).toBe(false);
  });

  it('a second signal cuts the wait short: the running operation fails cleanly, nothing hangs', async () => {
    const dir = scratch();
    const d = await daemonIn(dir, { mock: { diagTimeScale: 1 } });
    const signals = new EventEmitter();
    const ended = runUntilSignal(d.daemon, signals);
    const remote = new RemoteEngine(d.socket);
    cleanups.push(() => remote.close());
    await provisioned(d, remote);
    let signalled = false;
    const started = performance.now();
    const diag = remote
      .diag(
        { port: SLOW, adminPassword: new Secret(ADMIN_PW) },
        {
          on: {
            check: () => {
              if (signalled) return;
              signalled = true;
              signals.emit('SIGINT');
              signals.emit('SIGTERM');
            },
          },
        },
      )
      .catch((e: unknown) => e);
    const error = await diag;
    expect(error).toBeInstanceOf(PosbridgeError);
    expect(['CLOSED', 'DISCONNECTED']).toContain((error as PosbridgeError).code);
    expect(await ended).toBe('SIGINT, then SIGTERM');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(d.portManager.closed).toBe(true);
    expect(existsSync(d.socket)).toBe(false);
  });

  it('past the drain timeout, the ports are closed under the running operation, which fails cleanly', async () => {
    const dir = scratch();
    const d = await daemonIn(dir, { mock: { diagTimeScale: 1 }, drainTimeoutMs: 50 });
    const remote = new RemoteEngine(d.socket);
    cleanups.push(() => remote.close());
    await provisioned(d, remote);
    let stopping: Promise<void> | undefined;
    const error = await remote
      .diag(
        { port: SLOW, adminPassword: new Secret(ADMIN_PW) },
        {
          on: {
            check: () => {
              stopping ??= d.daemon.stop({ reason: 'SIGTERM' });
            },
          },
        },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PosbridgeError);
    expect((error as PosbridgeError).message).not.toMatch(/\n\s+at /);
    await stopping;
    expect(existsSync(d.socket)).toBe(false);
  });
});
