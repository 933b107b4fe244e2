/**
 * Issue 9, items 3, 4 and 8, the way a bench runs: `posbridge daemon` started in one directory
 * (a systemd unit, another shell), the technician in another, two mock terminals on real
 * pseudo-terminals both reachable as `./pty0` from their own directories. The built CLI as
 * processes, the real serialport binding.
 *
 * - `--port ./pty0` is the technician's ./pty0, not the daemon's;
 * - `posbridge scan` goes through the daemon (the README flow: `posbridge daemon &` then
 *   `posbridge scan`), where it answered "port busy";
 * - `--baud` other than the rate the daemon holds a port at is exit 2 with nothing sent;
 * - `--trace` is written by the technician's process, in the technician's directory;
 * - generated operator passwords go to the state directory, never the working directory.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockTerminal } from '../../src/mock-device/index.js';
import { openPty, type PtyTransport } from '../../src/mock-device/transports/index.js';
import { ADMIN_PASSWORD, cleanEnv, MERCHANT, TERMINAL } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';

let dir: string;
let env: NodeJS.ProcessEnv;
const children = new Children();
const ptys: PtyTransport[] = [];
const terminals: MockTerminal[] = [];

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'pb-e2e-paths-'));
  for (const sub of ['daemon-cwd', 'tech-cwd', 'config/posbridge', 'run'])
    mkdirSync(join(dir, sub), { recursive: true });
  env = cleanEnv(dir, {
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    POSBRIDGE_SOCKET: join(dir, 'run', 'd.sock'),
  });
});

afterEach(async () => {
  await children.stopAll();
  for (const pty of ptys.splice(0)) await pty.close();
  for (const terminal of terminals.splice(0)) terminal.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A mock terminal on a pty linked at `link`; `requests` counts what it was asked. */
async function terminalAt(link: string, sn: string): Promise<{ requests: string[] }> {
  const terminal = new MockTerminal({ identity: { sn }, baud: 0, diagTimeScale: 0 });
  terminals.push(terminal);
  const requests: string[] = [];
  terminal.addBehaviour({
    name: 'spy',
    onRequest: (info) => {
      requests.push(info.request.verb);
      return undefined;
    },
  });
  ptys.push(await openPty({ linkPath: link }, (l) => terminal.attach(l)));
  return { requests };
}

const daemonCwd = () => join(dir, 'daemon-cwd');
const techCwd = () => join(dir, 'tech-cwd');

/** Two terminals, each `./pty0` of its own directory; the daemon started in the first. */
async function bench(): Promise<{
  mine: { requests: string[] };
  daemonPid: number;
  daemonOut: () => string;
}> {
  await terminalAt(join(daemonCwd(), 'pty0'), 'DAEMON01');
  const mine = await terminalAt(join(techCwd(), 'pty0'), 'TECH0001');
  writeFileSync(
    join(dir, 'config', 'posbridge', 'daemon.yaml'),
    `station: bench-7\nports: [ "${join(daemonCwd(), 'pty0')}" ]\nwatch: []\ntimeouts: { heartbeatMs: 0 }\n`,
  );
  const daemon = children.spawn(['daemon', '--log-level', 'warn'], { cwd: daemonCwd(), env });
  await daemon.waitForStdout(/listening on/, 'the daemon to listen');
  return { mine, daemonPid: daemon.pid, daemonOut: () => daemon.stdout };
}

function tech(args: string[], input = '') {
  return runCliProcess(args, { cwd: techCwd(), env, input });
}

describe('a daemon started in another directory', () => {
  it("--port ./pty0 is the technician's; --baud it cannot honour is refused; --trace is the technician's file", async () => {
    const { mine } = await bench();
    const info = await tech(['info', '--port', './pty0', '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({
      port: join(techCwd(), 'pty0'),
      hello: { sn: 'TECH0001' },
    });

    // A rate the daemon does not hold the port at: refused, nothing sent. (The daemon first
    // identified the port it opened on demand, then lent it, then refreshed its STATUS.)
    await expect.poll(() => mine.requests.join(' ')).toBe('HELLO STATUS HELLO STATUS STATUS');
    const baud = await tech(['info', '--port', './pty0', '--baud', '9600']);
    expect(baud.code).toBe(2);
    expect(baud.stderr).toContain(
      `${join(techCwd(), 'pty0')} is held open at 115200 baud; --baud 9600 cannot apply to it`,
    );
    expect(mine.requests).toHaveLength(5);

    // The trace is the technician's file, written by the technician's process.
    const traced = await tech(['info', '--port', './pty0', '--baud', '115200', '--trace', 'wire.log']);
    expect(traced.code, traced.stderr).toBe(0);
    expect(readFileSync(join(techCwd(), 'wire.log'), 'latin1')).toMatch(
      /> @\d+ HELLO proto=1 \*[0-9A-F]{4}\n/,
    );
    expect(readdirSync(daemonCwd())).toEqual(['pty0']);
  }, 120_000);

  it('the README flow: scan through the daemon, under its station; operator passwords in the state directory', async () => {
    const { daemonPid, daemonOut } = await bench();
    const scan = await tech(['scan', '--json']);
    expect(scan.code, scan.stdout + scan.stderr).toBe(1);
    const report = JSON.parse(scan.stdout);
    expect(report).toMatchObject({ station: 'bench-7', problems: [], daemon: { pid: daemonPid } });
    expect(report.terminals.map((t: { sn: string }) => t.sn)).toEqual(['DAEMON01']);
    expect(daemonOut()).toMatch(/^station name bench-7, audit trail \S+, config \S+daemon\.yaml\n/m);

    const provision = await tech(
      [
        'provision',
        '--port',
        './pty0',
        '--merchant',
        MERCHANT,
        '--terminal',
        TERMINAL,
        '--admin-password-stdin',
      ],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(provision.code, provision.stdout + provision.stderr).toBe(0);
    const kept = join(dir, 'state', 'posbridge', 'operator-passwords.txt');
    expect(provision.stdout).toContain(`operator first passwords written to ${kept} (owner-only)`);
    expect(provision.stdout).toContain('station bench-7');
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(readFileSync(kept, 'utf8')).toMatch(/ sn=TECH0001 operator=01 password=\S+\n$/);
    expect(readdirSync(techCwd())).toEqual(['pty0']);
  }, 120_000);
});
