/**
 * Issue 9 (items 3 and 8) with the production composition on both sides of the socket: a
 * `posbridge daemon` (its real port manager, its config file) and the CLI going through it.
 * What the user gives is carried out or refused, never dropped: --trace is written by the
 * user's own process from lines the daemon streams back, --timeout holds for that request,
 * `scan` asks the daemon instead of opening its ports, the config's station name and audit
 * trail are the ones used and reported, and `demo` never touches the daemon or the user's
 * audit trail.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/audit/index.js';
import { productionDeps } from '../../src/cli/compose.js';
import { runCli } from '../../src/cli/program.js';
import { ADMIN_PASSWORD, MERCHANT, TERMINAL } from '../support/cli-inproc.js';
import { provisionArgv } from '../support/constants.js';
import { type MemoryIo, memoryIo } from '../support/memory-io.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let socket: string;
let daemonAudit: string;
let work: string;
const stops: Array<() => Promise<unknown>> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-edge-'));
  socket = join(dir, 'run', 'daemon.sock');
  daemonAudit = join(dir, 'bench', 'audit.sqlite3');
  work = join(dir, 'work');
  mkdirSync(work);
  mkdirSync(join(dir, 'config'));
});

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Nothing from the caller's environment that posbridge reads; everything under `dir`. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('POSBRIDGE_') && !key.startsWith('XDG_')) clean[key] = value;
  return {
    ...clean,
    USER: 'tech-edge',
    NO_COLOR: '1',
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_RUNTIME_DIR: join(dir, 'run-user'),
    ...extra,
  };
}

function io(environment: NodeJS.ProcessEnv, stdin = ''): MemoryIo {
  return memoryIo(environment, stdin, work);
}

/** `posbridge daemon --config FILE` with the production composition, until stopped. */
async function startDaemon(config: string): Promise<{ stdout: () => string }> {
  const file = join(dir, 'daemon.yaml');
  writeFileSync(file, config);
  const signals = new EventEmitter();
  const daemonIo = io(env());
  const deps = { ...productionDeps(daemonIo, { defaults: { diagTimeScale: 0 } }), signals };
  const run = runCli(['daemon', '--socket', socket, '--config', file, '--log-level', 'silent'], deps);
  stops.push(async () => {
    signals.emit('SIGTERM');
    await run;
  });
  await expect.poll(() => daemonIo.out.join(''), { timeout: 10_000 }).toMatch(/listening on/);
  return { stdout: () => daemonIo.out.join('') };
}

/** The CLI as a user in `work` runs it, finding the daemon at POSBRIDGE_SOCKET. */
async function posbridge(argv: string[], stdin = '', extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  const cliIo = io(
    env({ POSBRIDGE_SOCKET: socket, POSBRIDGE_AUDIT: join(dir, 'mine.sqlite3'), ...extra }),
    stdin,
  );
  const code = await runCli(argv, productionDeps(cliIo, { defaults: { diagTimeScale: 0 } }));
  return { code, stdout: cliIo.out.join(''), stderr: cliIo.err.join('') };
}

function provisionArgs(port: string, extra: string[] = []): string[] {
  return [...provisionArgv(port, 'operator-passwords.txt'), ...extra];
}

function health(): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/v1/health' }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    });
    req.on('error', reject);
    req.end();
  });
}

const CONFIG = (extra = '') =>
  `station: counter-2\naudit: ${join(dir, 'bench', 'audit.sqlite3')}\nwatch: []\ntimeouts: { heartbeatMs: 0 }\n${extra}`;

describe("the daemon config's station name and audit trail", () => {
  it('are the ones the daemon records with, and it says so (stdout, /v1/health, the report)', async () => {
    const daemon = await startDaemon(CONFIG());
    expect(daemon.stdout()).toContain(
      `station name counter-2, audit trail ${daemonAudit}, config ${join(dir, 'daemon.yaml')}\n`,
    );
    expect(await health()).toMatchObject({ station: 'counter-2', audit: daemonAudit, baud: 115200 });

    const run = await posbridge(provisionArgs('mock://a', ['--json']), `${ADMIN_PASSWORD}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ outcome: 'provisioned', station: 'counter-2' });
    const store = AuditStore.open(daemonAudit, { readonly: true });
    try {
      expect(store.history().map((r) => [r.kind, r.station])).toEqual([['provision', 'counter-2']]);
    } finally {
      store.close();
    }
    // The client's own trail is not where the daemon's runs go.
    expect(existsSync(join(dir, 'mine.sqlite3'))).toBe(false);
  });

  it('a station name from the config is printed as data: its control characters made visible', async () => {
    const daemon = await startDaemon(
      `station: "bench\\e]0;owned\\a"\naudit: ${daemonAudit}\nwatch: []\ntimeouts: { heartbeatMs: 0 }\n`,
    );
    await expect.poll(daemon.stdout).toContain('station name bench\\x1b]0;owned\\x07, audit trail');
    expect(daemon.stdout()).not.toContain('\u001b');
  });

  it('station mode through the daemon runs and reports under them', async () => {
    await startDaemon(CONFIG('ports: [ "mock://st?sn=ST000001" ]\n'));
    writeFileSync(join(work, 'rows.csv'), `sn,merchant,terminal\nST000001,${MERCHANT},${TERMINAL}\n`);
    const run = await posbridge(
      ['station', '--manifest', join(work, 'rows.csv'), '--admin-password-stdin', '--until-idle'],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(
      `station name counter-2, audit trail ${daemonAudit} (recorded by the posbridge daemon, pid ${process.pid})\n`,
    );
    const json = await posbridge(['history', '--audit', daemonAudit, '--json']);
    expect(JSON.parse(json.stdout).runs.map((r: { station: string }) => r.station)).toEqual(['counter-2']);
  });
});

describe('--trace, --timeout through the daemon: carried out for the request', () => {
  it('the trace is written by the user, where the user asked, masked, 0600; and holds for that request only', async () => {
    await startDaemon(CONFIG());
    const run = await posbridge(provisionArgs('mock://b', ['--trace', 'wire.log']), `${ADMIN_PASSWORD}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('do not apply');
    const path = join(work, 'wire.log');
    const trace = readFileSync(path, 'latin1');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(trace).toMatch(/^\S+Z > @\d+ HELLO proto=1 \*[0-9A-F]{4}$/m);
    expect(trace).toMatch(/> @\d+ LOGIN user=admin password="\*\*\*" \*[0-9A-F]{4}/);
    expect(trace).not.toContain(ADMIN_PASSWORD);
    expect(trace).not.toContain('password=1234 ');
    // The next request (no --trace) and the daemon's own STATUS refresh are not in it.
    const lines = trace.split('\n').length;
    expect((await posbridge(['info', '--port', 'mock://b'])).code).toBe(0);
    expect(readFileSync(path, 'latin1').split('\n').length).toBe(lines);
  });

  it('--timeout is the reply timeout of that request', async () => {
    // Every reply takes 1 s: within the daemon's own 2 s (it identifies the terminal), not
    // within the 550 ms that waits of 50 ms, doubled, give this request.
    await startDaemon(CONFIG());
    const slow = 'mock://slow?fault=delay%3Ams%3D1000';
    const run = await posbridge(['info', '--port', slow, '--timeout', '50']);
    expect(run.code, run.stderr).toBe(3);
    // 50, 100, 200, 200 ms: doubled after each timeout, capped at 4 x 50, plus up to an eighth of
    // jitter (docs/protocol.md §18); the daemon's own 2000 ms would give 8000 and more.
    const waited = /HELLO on (\S+): no reply within (\d+) ms, sent 4 time\(s\)/.exec(run.stderr);
    expect(waited?.[1]).toBe(slow);
    expect(Number(waited?.[2])).toBeGreaterThanOrEqual(200);
    expect(Number(waited?.[2])).toBeLessThanOrEqual(225);
  });

  it('a trace asked of the API without an event stream is refused (400), nothing sent', async () => {
    await startDaemon(CONFIG());
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          socketPath: socket,
          path: '/v1/info',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ port: 'mock://c', link: { trace: true } }));
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error).toMatchObject({
      code: 'USAGE',
      message: 'link.trace: the wire lines come back on an event stream only',
    });
  });
});

describe('posbridge scan while the daemon owns the ports', () => {
  it('asks the daemon (no "port busy"), which reports its terminals and station', async () => {
    await startDaemon(CONFIG('ports: [ "mock://s1?sn=SC000001" ]\n'));
    const run = await posbridge(['scan', '--port', 'mock://s2?sn=SC000002', '--json']);
    expect(run.code, run.stderr).toBe(1); // both still hold a factory password
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      kind: 'scan',
      station: 'counter-2',
      withFactoryCredential: 2,
      problems: [],
      daemon: { socket, pid: process.pid },
    });
    expect(report.terminals.map((t: { sn: string }) => t.sn).sort()).toEqual(['SC000001', 'SC000002']);
    const people = await posbridge(['scan']);
    expect(people.stdout).toContain('read through the posbridge daemon (pid');
  });

  it('--config and a --baud the daemon does not use are refused (exit 2), not ignored', async () => {
    await startDaemon(CONFIG());
    const config = await posbridge(['scan', '--config', 'other.yaml']);
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('--config does not apply while the posbridge daemon');
    const baud = await posbridge(['scan', '--baud', '9600']);
    expect(baud.code).toBe(2);
    expect(baud.stderr).toContain('holds its serial ports at 115200 baud');
  });
});

describe('posbridge demo', () => {
  it("never goes through the daemon, never writes the user's audit trail, and says so", async () => {
    await startDaemon(CONFIG());
    const run = await posbridge(['demo']);
    expect(run.code, run.stderr).toBe(0);
    const said =
      /The demo recorded its runs in a temporary audit trail \((\S+)\), removed now: your own audit trail was not touched\./.exec(
        run.stdout,
      );
    expect(said).not.toBeNull();
    expect(existsSync(said![1]!)).toBe(false);
    expect(existsSync(join(dir, 'mine.sqlite3'))).toBe(false); // POSBRIDGE_AUDIT
    // The daemon recorded nothing: the demo ran in the user's process.
    const store = AuditStore.open(daemonAudit, { readonly: true });
    try {
      expect(store.history()).toEqual([]);
    } finally {
      store.close();
    }
    const json = await posbridge(['demo', '--json']);
    expect(JSON.parse(json.stdout).temporaryAudit).toMatchObject({ removed: true });
  });
});
