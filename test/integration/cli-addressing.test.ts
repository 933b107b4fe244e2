/**
 * Choosing the terminal as adb and esptool do (docs/cli.md, "Choosing the terminal"), run
 * in-process as a person would: `-p`, `--sn`, POSBRIDGE_PORT, the only terminal connected (said
 * on stderr), several listed with exit 2. Without a daemon the connected terminals are the
 * config's ports (here mock:// terminals with their own serial numbers), read with HELLO and
 * STATUS only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliHarness } from '../support/cli-inproc.js';

let cli: CliHarness;
beforeEach(() => {
  cli = new CliHarness();
});
afterEach(() => cli.dispose());

/** The daemon config the scan reads ($XDG_CONFIG_HOME/posbridge/daemon.yaml). */
function connect(...ports: string[]): void {
  const dir = join(cli.env.XDG_CONFIG_HOME!, 'posbridge');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'daemon.yaml'), `ports: [${ports.map((p) => `"${p}"`).join(', ')}]\n`);
}

const A = 'mock://a?sn=PBA0000001';
const B = 'mock://b?sn=PBB0000002';

describe('choosing the terminal', () => {
  it('-p is --port', async () => {
    const run = await cli.run(['info', '-p', 'mock://p?sn=PBP0000009', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).hello.sn).toBe('PBP0000009');
  });

  it('POSBRIDGE_PORT stands for --port; --port wins over it', async () => {
    cli.env.POSBRIDGE_PORT = 'mock://env?sn=PBE0000001';
    const fromEnv = await cli.run(['info', '--json']);
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout).hello.sn).toBe('PBE0000001');
    const given = await cli.run(['info', '--port', 'mock://flag?sn=PBF0000001', '--json']);
    expect(JSON.parse(given.stdout).hello.sn).toBe('PBF0000001');
  });

  it('no port and one terminal connected: it is used, and stderr says which', async () => {
    connect(A);
    const run = await cli.run(['info', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).port).toBe(A);
    expect(run.stderr).toContain(
      `posbridge: no --port given: using ${A} (PB-MOCK sn PBA0000001), the only terminal connected (found by a scan of the allow-listed ports)`,
    );
  });

  it('no port and several connected: they are listed, exit 2, no command run on any', async () => {
    connect(A, B);
    const run = await cli.run(['info']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('no --port given, and 2 terminals are connected');
    expect(run.stderr).toContain(`${A}  PB-MOCK sn PBA0000001`);
    expect(run.stderr).toContain(`${B}  PB-MOCK sn PBB0000002`);
    const json = await cli.run(['info', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('USAGE');
  });

  it('no port and none connected: a usage error that says how to name one', async () => {
    connect(`mock://mute?sn=PBX0000001&fault=${encodeURIComponent('drop:p=1')}`);
    const run = await cli.run(['info', '--timeout', '200']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/no --port given, and no terminal is connected/);
    expect(run.stderr).toMatch(/-p\/--port P or POSBRIDGE_PORT/);
  });

  it('--sn picks the terminal with that serial number among several', async () => {
    connect(A, B);
    const run = await cli.run(['info', '--sn', 'PBB0000002', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).hello.sn).toBe('PBB0000002');
    expect(run.stderr).toContain(
      `posbridge: --sn PBB0000002: using ${B} (PB-MOCK sn PBB0000002), found by a scan of the allow-listed ports`,
    );
  });

  it('--sn that no connected terminal has: exit 3, naming the ones that are', async () => {
    connect(A);
    const run = await cli.run(['info', '--sn', 'PBZ0000000']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('no connected terminal has serial number PBZ0000000');
    expect(run.stderr).toContain(`${A}  PB-MOCK sn PBA0000001`);
  });

  it('--sn wins over POSBRIDGE_PORT; --sn with --port is a usage error', async () => {
    connect(A, B);
    cli.env.POSBRIDGE_PORT = A;
    const run = await cli.run(['info', '--sn', 'PBB0000002', '--json']);
    expect(JSON.parse(run.stdout).hello.sn).toBe('PBB0000002');
    const both = await cli.run(['info', '--sn', 'PBB0000002', '--port', A]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--port and --sn both name a terminal');
  });
});
