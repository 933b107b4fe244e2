/**
 * `posbridge daemon` run in-process as a person would run it, and the other commands going
 * through it: the output of info, provision, diag, operator and passwd is the same through the
 * daemon as in-process (two identical mock worlds, each audited in its own trail: the audit heads
 * printed differ only in their hashes), exit codes included; a second daemon is
 * refused with a message naming the socket and the pid; SIGTERM stops it with exit 0 and
 * removes the socket.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerDaemon } from '../../src/cli/commands/daemon.js';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliDeps } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/program.js';
import { loadRuntimeConfig } from '../../src/cli/runtime-config.js';
import { PosbridgeError } from '../../src/host/errors.js';
import { type MemoryIo, memoryIo } from '../support/memory-io.js';
import { ADMIN_PW, fixedNow, MockWorld, scratchDir, seededBytes } from './api-rig.helper.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let socket: string;
const worlds: MockWorld[] = [];

beforeEach(() => {
  dir = scratchDir();
  socket = join(dir, 'daemon.sock');
});

afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(env: NodeJS.ProcessEnv, stdin = ''): MemoryIo {
  return memoryIo(
    {
      USER: 'tech-tester',
      NO_COLOR: '1',
      POSBRIDGE_AUDIT: join(dir, 'audit.sqlite3'),
      // The daemon config (read first): the scratch directory's, absent, never the user's.
      XDG_CONFIG_HOME: join(dir, 'config'),
      ...env,
    },
    stdin,
  );
}

/**
 * posbridge as main.ts runs it, plus `daemon` (registered here until program.ts does): the
 * commands pick the daemon when one answers, else `world`'s terminals in-process (the runtime the
 * composition root builds, audited in its own trail). Without a world, nothing opens in-process.
 */
async function posbridge(
  argv: string[],
  options: {
    world?: MockWorld;
    env?: NodeJS.ProcessEnv;
    stdin?: string;
    daemon?: Partial<CliDeps>;
    /** Sees each stdout write as it is made (the daemon's lines, say), before it is kept. */
    onStdout?: (text: string) => void;
  } = {},
): Promise<Run> {
  const cliIo = io(options.env ?? {}, options.stdin);
  const onStdout = options.onStdout;
  if (onStdout) {
    const write = cliIo.stdout.write;
    cliIo.stdout.write = (text: string) => {
      onStdout(text);
      return write(text);
    };
  }
  const world = options.world;
  const deps: CliDeps = {
    ...productionDeps(cliIo, world?.mockPorts),
    now: fixedNow,
    hostname: () => 'station-test',
    randomBytes: seededBytes(),
    ...(!world && {
      portRegistry: () => {
        throw new Error('this run should have gone through the daemon');
      },
    }),
    ...options.daemon,
    result: { exitCode: 0 },
  };
  const program = buildProgram(deps);
  // Until program.ts registers it.
  if (!program.commands.some((c) => c.name() === 'daemon')) registerDaemon(program, deps);
  for (const command of program.commands) command.exitOverride();
  let code: number;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = deps.result.exitCode;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    code = 2;
  }
  return { code, stdout: cliIo.out.join(''), stderr: cliIo.err.join('') };
}

/** `posbridge daemon --socket S` over its own mock world, until `signals` says stop. */
function startDaemonCommand(signals: EventEmitter, extra: string[] = []) {
  const world = new MockWorld();
  worlds.push(world);
  const run = posbridge(['daemon', '--socket', socket, '--log-level', 'silent', ...extra], {
    world,
    daemon: { startPortManager: async () => world.portManager(), signals },
  });
  return { world, run };
}

/**
 * The socket is there and, with `signals`, the daemon listens for them: a signal sent before
 * runUntilSignal has its handlers (while the runtime is still being built) would be lost.
 */
async function listening(signals?: EventEmitter): Promise<void> {
  await expect.poll(() => existsSync(socket), { timeout: 5000 }).toBe(true);
  if (signals) await expect.poll(() => signals.listenerCount('SIGTERM'), { timeout: 5000 }).toBe(1);
}

describe('posbridge daemon', () => {
  it('serves until SIGTERM, then exits 0 and removes its socket', async () => {
    const signals = new EventEmitter();
    const { run } = startDaemonCommand(signals);
    await listening(signals);
    const viaDaemon = await posbridge(['info', '--port', 'mock://a', '--json'], {
      env: { POSBRIDGE_SOCKET: socket },
    });
    expect(viaDaemon.code).toBe(0);
    expect(JSON.parse(viaDaemon.stdout)).toMatchObject({ kind: 'info', port: 'mock://a' });
    signals.emit('SIGTERM');
    const daemon = await run;
    expect(daemon.code).toBe(0);
    expect(daemon.stdout).toBe(
      `posbridge daemon listening on ${socket} (pid ${process.pid})\n` +
        `station name station-test, audit trail ${join(dir, 'audit.sqlite3')}, config ${join(dir, 'config', 'posbridge', 'daemon.yaml')} (absent: defaults)\n` +
        'posbridge daemon stopped (SIGTERM)\n',
    );
    expect(existsSync(socket)).toBe(false);
  });

  it('a SIGTERM sent the moment the listening line is read stops it in order (a supervisor may)', async () => {
    const signals = new EventEmitter();
    const world = new MockWorld();
    worlds.push(world);
    // Emitted from inside the write: with no handler yet, EventEmitter drops it and the daemon
    // would serve on (as a real one would be killed by the signal's default action).
    const daemon = await posbridge(['daemon', '--socket', socket, '--log-level', 'silent', '--json'], {
      world,
      daemon: { startPortManager: async () => world.portManager(), signals },
      onStdout: (text) => {
        if (text.includes('"listening"')) signals.emit('SIGTERM');
      },
    });
    expect(daemon.code).toBe(0);
    expect(JSON.parse(daemon.stdout.trim().split('\n').at(-1)!)).toEqual({
      kind: 'daemon',
      event: 'stopped',
      reason: 'SIGTERM',
    });
    expect(existsSync(socket)).toBe(false);
  });

  it('a second daemon on the same socket is refused, naming the socket and the pid', async () => {
    const signals = new EventEmitter();
    const { run } = startDaemonCommand(signals);
    await listening(signals);
    const second = await posbridge(['daemon', '--socket', socket], {
      daemon: {
        startPortManager: async () => {
          throw new Error('the second daemon must not build a port manager');
        },
      },
    });
    expect(second.code).toBe(3);
    expect(second.stdout).toBe('');
    expect(second.stderr).toContain(
      `a posbridge daemon (pid ${process.pid}) is already running at ${socket}`,
    );
    expect(second.stderr).toMatch(/what to do: stop it first/);
    expect(existsSync(socket)).toBe(true);
    signals.emit('SIGINT');
    expect((await run).code).toBe(0);
  });

  it('reads its config first: a bad file is exit 2 naming it, before the socket is claimed', async () => {
    const config = join(dir, 'daemon.yaml');
    writeFileSync(config, 'allow: [ { vendorId: "nope" } ]\n');
    const run = await posbridge(['daemon', '--socket', socket, '--config', config, '--log-level', 'info'], {
      daemon: {
        startPortManager: async () => {
          throw new Error('a daemon with a bad config must not build a port manager');
        },
      },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(config);
    expect(run.stderr).toMatch(/allow\[0\]\.vendorId/);
    // Nothing was claimed: the socket was never bound, not even for a moment.
    expect(run.stderr).not.toMatch(/socket claimed/);
    expect(existsSync(socket)).toBe(false);
  });

  it('a bad --log-level is a usage error', async () => {
    const run = await posbridge(['daemon', '--socket', socket, '--log-level', 'loud'], {
      daemon: { startPortManager: async () => new MockWorld().portManager() },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--log-level must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(existsSync(socket)).toBe(false);
  });

  it('takes its socket from POSBRIDGE_SOCKET when --socket is not given', async () => {
    const signals = new EventEmitter();
    const world = new MockWorld();
    worlds.push(world);
    const run = posbridge(['daemon', '--log-level', 'silent'], {
      env: { POSBRIDGE_SOCKET: socket },
      world,
      daemon: { startPortManager: async () => world.portManager(), signals },
    });
    await listening(signals);
    signals.emit('SIGTERM');
    expect((await run).stdout).toContain(`listening on ${socket}`);
  });
});

describe('the commands through the daemon print what they print in-process', () => {
  it('info, provision, diag, operator, passwd; and their errors', async () => {
    const signals = new EventEmitter();
    const { run } = startDaemonCommand(signals);
    await listening(signals);
    const local = new MockWorld();
    worlds.push(local);
    const through = { env: { POSBRIDGE_SOCKET: socket } };
    const inProcess = {
      world: local,
      // No daemon here; its own trail.
      env: {
        XDG_RUNTIME_DIR: join(dir, 'no-daemon-here'),
        POSBRIDGE_AUDIT: join(dir, 'in-process-audit.sqlite3'),
      },
    };
    const credentials = join(dir, 'operator-passwords.txt');

    const both = async (argv: string[], stdin = ''): Promise<Run> => {
      const here = await posbridge(argv, { ...inProcess, stdin });
      const hereCredentials = existsSync(credentials) ? readFileSync(credentials, 'utf8') : '';
      rmSync(credentials, { force: true });
      const there = await posbridge(argv, { ...through, stdin });
      const thereCredentials = existsSync(credentials) ? readFileSync(credentials, 'utf8') : '';
      rmSync(credentials, { force: true });
      // Two trails: the same record numbers, other hashes (times differ).
      const heads = (run: Run) => ({
        ...run,
        stdout: run.stdout.replace(/\b(\d+):[0-9a-f]{64}\b/g, '$1:<hash>'),
      });
      expect(heads(there), argv.join(' ')).toEqual(heads(here));
      expect(thereCredentials).toEqual(hereCredentials);
      return here;
    };

    const port = ['--port', 'mock://a'];
    expect((await both(['info', ...port])).stdout).toMatch(/PB-MOCK sn PBM0000001/);
    expect((await both(['info', ...port, '--json'])).code).toBe(0);
    const provision = await both(
      [
        'provision',
        ...port,
        '--merchant',
        '822100052110023',
        '--terminal',
        '10023456',
        '--admin-password-stdin',
        '--credentials-out',
        credentials,
      ],
      `${ADMIN_PW}\n`,
    );
    expect(provision.code).toBe(0);
    expect(provision.stdout).toMatch(/provisioned/);
    expect(provision.stdout).toMatch(/factory-operator\s+done/);
    const again = await both(
      [
        'provision',
        ...port,
        '--merchant',
        '822100052110023',
        '--terminal',
        '10023456',
        '--admin-password-stdin',
        '--json',
      ],
      `${ADMIN_PW}\n`,
    );
    expect(JSON.parse(again.stdout).outcome).toBe('already-provisioned');
    expect((await both(['diag', ...port, '--admin-password-stdin'], `${ADMIN_PW}\n`)).code).toBe(0);
    expect(
      (
        await both(
          ['diag', ...port, '--admin-password-stdin', '--json', '--checks', 'printer'],
          `${ADMIN_PW}\n`,
        )
      ).code,
    ).toBe(0);
    const add = await both(
      [
        'operator',
        'add',
        ...port,
        '--id',
        '05',
        '--name',
        'Weekend',
        '--perms',
        'sale',
        '--admin-password-stdin',
        '--password-stdin',
      ],
      `${ADMIN_PW}\nW33kend-Shift!\n`,
    );
    expect(add.code).toBe(0);
    expect(
      (await both(['operator', 'list', ...port, '--admin-password-stdin'], `${ADMIN_PW}\n`)).stdout,
    ).toMatch(/05\s+Weekend/);
    const wrong = await both(['diag', ...port, '--admin-password-stdin'], 'Wr0ng-Guess-77\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/error:/);
    const unknown = await both(
      ['operator', 'del', ...port, '--id', '66', '--admin-password-stdin', '--json'],
      `${ADMIN_PW}\n`,
    );
    expect(JSON.parse(unknown.stdout).error.code).toBe('TERMINAL_ERROR');
    const passwd = await both(
      ['passwd', ...port, '--admin-password-stdin', '--new-password-stdin'],
      `${ADMIN_PW}\nN3w-Adm1n-Pass!\n`,
    );
    expect(passwd.code).toBe(0);
    const tampered = await both(
      [
        'provision',
        '--port',
        'mock://t?tamper=1',
        '--merchant',
        '822100052110023',
        '--terminal',
        '10023456',
        '--admin-password-stdin',
      ],
      `${ADMIN_PW}\n`,
    );
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/QUARANTINED/);

    signals.emit('SIGTERM');
    expect((await run).code).toBe(0);
  });
});

describe('which engine a command uses (the config, settled first)', () => {
  const system = { uid: process.getuid!(), hostname: () => 'station-test' };

  it('--socket insists on a daemon there', async () => {
    const error = await loadRuntimeConfig({ env: {} }, { socket: join(dir, 'none.sock') }, system).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PosbridgeError);
    expect((error as PosbridgeError).code).toBe('PORT_NOT_FOUND');
    expect((error as PosbridgeError).message).toBe(
      `no posbridge daemon answers at ${join(dir, 'none.sock')}`,
    );
  });

  it('POSBRIDGE_SOCKET or the default socket without a daemon: in-process', async () => {
    for (const env of [{ POSBRIDGE_SOCKET: join(dir, 'none.sock') }, { XDG_RUNTIME_DIR: dir }]) {
      const config = await loadRuntimeConfig({ env }, {}, system);
      expect(config.daemon).toBeUndefined();
      // No daemon config read: this process opens the ports it is given.
      expect(config.file).toBeUndefined();
    }
  });
});
