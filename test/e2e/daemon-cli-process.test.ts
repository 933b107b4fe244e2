/**
 * `posbridge daemon` as a real process with real signals: the CLI (in this process) finds it at
 * its socket and goes through it with the same output as in-process; a second daemon process
 * is refused with a message naming the first one's pid and exits non-zero; SIGTERM during a
 * running DIAG lets it finish, then the process exits 0 and the socket is gone; a daemon killed
 * with SIGKILL leaves a stale socket that the next one replaces.
 *
 * The child runs src/ transpiled to a temporary directory (test/e2e/daemon-cli-child.helper.ts
 * composes it), so the test needs no build step.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RemoteEngine } from '../../src/daemon/api/client.js';
import { probeSocket } from '../../src/daemon/api/socket.js';
import { Secret } from '../../src/host/secret.js';
import { profileSchema } from '../../src/host/workflow/profile.js';
import { ADMIN_PW, MERCHANT, MockWorld, TERMINAL } from '../integration/api-rig.helper.js';
import { deadline } from '../support/wait.js';

const root = resolve(import.meta.dirname, '../..');
let build: string;
let childScript: string;
let dir: string;
const children: ChildProcess[] = [];

function transpileTree(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const path = join(from, name);
    if (statSync(path).isDirectory()) transpileTree(path, join(to, name));
    else if (name.endsWith('.ts')) transpile(path, join(to, name.replace(/\.ts$/, '.js')));
  }
}

function transpile(from: string, to: string): void {
  const output = ts.transpileModule(readFileSync(from, 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: false,
    },
    fileName: from,
  });
  mkdirSync(dirname(to), { recursive: true });
  writeFileSync(to, output.outputText);
}

beforeAll(() => {
  build = mkdtempSync(join(tmpdir(), 'pb-e2e-build-'));
  writeFileSync(join(build, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(root, 'node_modules'), join(build, 'node_modules'));
  transpileTree(join(root, 'src'), join(build, 'src'));
  for (const file of [
    'test/integration/api-rig.helper.ts',
    'test/support/constants.ts',
    'test/support/runtime.ts',
    'test/e2e/daemon-cli-child.helper.ts',
  ])
    transpile(join(root, file), join(build, file.replace(/\.ts$/, '.js')));
  childScript = join(build, 'test/e2e/daemon-cli-child.helper.js');
}, 60_000);

afterAll(() => {
  rmSync(build, { recursive: true, force: true });
});

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface DaemonProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function daemonProcess(socket: string): DaemonProcess {
  const child = spawn(process.execPath, [childScript, socket], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NO_COLOR: '1',
      POSBRIDGE_AUDIT: join(dir, 'audit.sqlite3'),
      // The daemon reads its config first: the sandbox's (absent: defaults), never the user's.
      XDG_CONFIG_HOME: join(dir, 'config'),
    },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    out += t;
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    err += t;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function ready(d: DaemonProcess, socket: string): Promise<void> {
  const waitForLine = async () => {
    while (!d.stdout().includes('listening on')) {
      if (d.child.exitCode !== null) throw new Error(`the daemon exited: ${d.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await deadline(waitForLine(), 'the daemon to listen', 15_000);
  expect(d.stdout()).toMatch(
    new RegExp(`^posbridge daemon listening on ${socket} \\(pid ${d.child.pid}\\)\n`),
  );
}

function request(port: string) {
  return {
    request: {
      port,
      merchant: MERCHANT,
      terminal: TERMINAL,
      adminPassword: new Secret(ADMIN_PW),
      profile: profileSchema.parse({ factoryOperator: 'delete' as const }),
      technician: 'tech',
      station: 'bench',
    },
  };
}

describe('posbridge daemon, a real process', () => {
  it('serves the CLI, refuses a second daemon, and stops in order on SIGTERM', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pb-e2e-'));
    const socket = join(dir, 'run', 'daemon.sock');
    const first = daemonProcess(socket);
    await ready(first, socket);
    expect(lstatSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(socket)).mode & 0o777).toBe(0o700);

    // Same reports through the daemon process as in this process.
    const remote = new RemoteEngine(socket);
    const local = new MockWorld();
    const runtime = await local.runtime(join(dir, 'in-process-audit.sqlite3'));
    try {
      const { engine } = runtime;
      expect(await remote.info({ port: 'mock://a' })).toEqual(await engine.info({ port: 'mock://a' }));
      // Each records the run in its own trail: the report names the record.
      const { auditHead, ...report } = await remote.provision(request('mock://a'));
      expect(auditHead).toMatch(/^\d+:[0-9a-f]{64}$/);
      const { auditHead: localHead, ...localReport } = await engine.provision(request('mock://a'));
      expect(localHead).toMatch(/^\d+:[0-9a-f]{64}$/);
      expect(report).toEqual(localReport);
      const diag = { port: 'mock://a', adminPassword: new Secret(ADMIN_PW) };
      expect(await remote.diag(diag)).toEqual(await engine.diag(diag));
    } finally {
      await runtime.close();
      await local.close();
    }

    // A second daemon on the same socket: refused, naming the socket and the first one's pid.
    const second = daemonProcess(socket);
    const secondExit = await deadline(second.exited, 'the second daemon to give up', 15_000);
    expect(secondExit.code).toBe(3);
    expect(second.stderr()).toContain(
      `a posbridge daemon (pid ${first.child.pid}) is already running at ${socket}`,
    );
    expect((await probeSocket(socket)).kind).toBe('daemon');

    // SIGTERM during a DIAG: the DIAG finishes, then the process exits 0 and the socket is gone.
    const slow = 'mock://slow?diag-time-scale=1';
    const quick = request(slow);
    quick.request.profile = profileSchema.parse({ factoryOperator: 'delete', diagChecks: ['printer'] });
    await remote.provision(quick);
    let signalled = false;
    const checks: string[] = [];
    const diag = remote.diag(
      { port: slow, adminPassword: new Secret(ADMIN_PW) },
      {
        on: {
          check: (r) => {
            checks.push(r.check);
            if (!signalled) {
              signalled = true;
              first.child.kill('SIGTERM');
            }
          },
        },
      },
    );
    const report = await diag;
    expect(report.diagnostics.results).toHaveLength(12);
    const exit = await deadline(first.exited, 'the daemon to exit after SIGTERM', 15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(first.stdout()).toContain('posbridge daemon stopped (SIGTERM)');
    expect(existsSync(socket)).toBe(false);
    remote.close();
    // Its log says what happened, and never a secret.
    expect(first.stderr()).toMatch(/"msg":"daemon stopped"/);
    expect(first.stderr()).not.toContain(ADMIN_PW);
  }, 60_000);

  it('a daemon killed with SIGKILL leaves a stale socket; the next one replaces it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pb-e2e-'));
    const socket = join(dir, 'run', 'daemon.sock');
    const killed = daemonProcess(socket);
    await ready(killed, socket);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(lstatSync(socket).isSocket()).toBe(true);
    expect((await probeSocket(socket)).kind).toBe('stale');

    const next = daemonProcess(socket);
    await ready(next, socket);
    const health = await new RemoteEngine(socket).health();
    expect(health.pid).toBe(next.child.pid);
    next.child.kill('SIGINT');
    expect(await deadline(next.exited, 'the daemon to exit after SIGINT', 15_000)).toEqual({
      code: 0,
      signal: null,
    });
    expect(existsSync(socket)).toBe(false);
  }, 60_000);
});
