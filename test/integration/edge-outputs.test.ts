/**
 * Issue 9, item 4, as a technician meets it: every output (--credentials-out, --trace, --junit)
 * that cannot be written safely (a symlink, a directory, a missing directory, a file or
 * directory that cannot be written) is refused with exit 2 and a sentence before the terminal is
 * touched. The proof is the terminal's own record: a mock terminal on TCP that counts the
 * connections it got and every byte it received. A trace that fails during a run (a full disk)
 * is a warning, and the terminal still ends up provisioned.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockTerminal } from '../../src/mock-device/index.js';
import { listenTcp, type TcpListener } from '../../src/mock-device/transports/tcp.js';
import { ADMIN_PASSWORD, CliHarness, MERCHANT, STACK_LINE, TERMINAL } from '../support/cli-inproc.js';
import { provisionArgv } from '../support/constants.js';

/** A terminal on tcp:// that keeps count of what reached it. */
class RecordingTerminal {
  connections = 0;
  bytesIn = 0;
  readonly terminal = new MockTerminal({ baud: 0, diagTimeScale: 0 });
  private server: TcpListener | undefined;

  async start(): Promise<string> {
    this.terminal.addBehaviour({
      name: 'record',
      onBytes: (_connection, direction, count) => {
        if (direction === 'in') this.bytesIn += count;
        return undefined;
      },
    });
    this.server = await listenTcp({ port: 0 }, (link) => {
      this.connections++;
      this.terminal.attach(link);
    });
    return `tcp://127.0.0.1:${this.server.address.port}`;
  }

  async stop(): Promise<void> {
    this.terminal.close();
    await this.server?.close();
  }
}

let cli: CliHarness;
let recorder: RecordingTerminal;
let port: string;

beforeEach(async () => {
  cli = new CliHarness();
  // No daemon of the machine's: these runs are in-process.
  cli.env.XDG_RUNTIME_DIR = join(cli.dir, 'run');
  recorder = new RecordingTerminal();
  port = await recorder.start();
});

afterEach(async () => {
  await recorder.stop();
  cli.dispose();
});

function provision(extra: string[]) {
  return cli.run([...provisionArgv(port), ...extra], `${ADMIN_PASSWORD}\n`);
}

/** The terminal never saw the run: no connection, not one byte. */
function untouched(): void {
  expect({ connections: recorder.connections, bytes: recorder.bytesIn }).toEqual({
    connections: 0,
    bytes: 0,
  });
}

describe('an output that cannot be written safely: exit 2 before the first byte', () => {
  it('--credentials-out as a symlink: refused, and the file it points to is untouched', async () => {
    const target = join(cli.dir, 'notes.txt');
    writeFileSync(target, 'my notes\n');
    const link = join(cli.dir, 'passwords.txt');
    symlinkSync(target, link);
    const run = await provision(['--credentials-out', link]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot write --credentials-out ${link}: it is a symbolic link`);
    expect(run.stderr).toContain('nothing was sent to the terminal');
    expect(run.stderr).not.toMatch(STACK_LINE);
    untouched();
    expect(readFileSync(target, 'utf8')).toBe('my notes\n');
  });

  it.each([
    ['--credentials-out', 'a directory', (d: string) => d, 'it is a directory'],
    [
      '--credentials-out',
      'in a missing directory',
      (d: string) => join(d, 'nope', 'p.txt'),
      'does not exist',
    ],
    ['--trace', 'a directory', (d: string) => d, 'it is a directory'],
    ['--trace', 'in a missing directory', (d: string) => join(d, 'nope', 't.log'), 'does not exist'],
    [
      '--trace',
      'in a directory that takes no new file',
      () => '/proc/sys/posbridge.log',
      'files cannot be created in /proc/sys',
    ],
  ])('provision %s %s', async (flag, _what, path, problem) => {
    const run = await provision([flag, path(cli.dir)]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`cannot write ${flag} `);
    expect(run.stderr).toContain(problem);
    untouched();
  });

  it('--trace as a symlink, for info and diag too', async () => {
    const target = join(cli.dir, 'elsewhere.log');
    writeFileSync(target, 'x\n');
    const link = join(cli.dir, 'wire.log');
    symlinkSync(target, link);
    for (const argv of [
      ['info', '--port', port, '--trace', link],
      ['diag', '--port', port, '--admin-password-stdin', '--trace', link],
      [...provisionArgv(port), '--trace', link],
    ]) {
      const run = await cli.run(argv, `${ADMIN_PASSWORD}\n`);
      expect(run.code, `${argv[0]}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(`cannot write --trace ${link}: it is a symbolic link`);
    }
    untouched();
    expect(readFileSync(target, 'utf8')).toBe('x\n');
  });

  it('station --junit as a symlink or a directory', async () => {
    writeFileSync(join(cli.dir, 'rows.csv'), `sn,merchant,terminal\nPBM0000001,${MERCHANT},${TERMINAL}\n`);
    const target = join(cli.dir, 'ci.xml');
    writeFileSync(target, '<keep/>\n');
    const link = join(cli.dir, 'junit.xml');
    symlinkSync(target, link);
    mkdirSync(join(cli.dir, 'reports'));
    for (const [junit, problem] of [
      [link, 'it is a symbolic link'],
      [join(cli.dir, 'reports'), 'it is a directory'],
    ] as const) {
      const run = await cli.run(
        [
          'station',
          '--manifest',
          join(cli.dir, 'rows.csv'),
          '--port',
          port,
          '--admin-password-stdin',
          '--junit',
          junit,
        ],
        `${ADMIN_PASSWORD}\n`,
      );
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`cannot write --junit ${junit}: ${problem}`);
    }
    untouched();
    expect(readFileSync(target, 'utf8')).toBe('<keep/>\n');
  });

  it('operator add --generate-password with --credentials-out as a symlink', async () => {
    const target = join(cli.dir, 'notes.txt');
    writeFileSync(target, 'mine\n');
    const link = join(cli.dir, 'ops.txt');
    symlinkSync(target, link);
    const run = await cli.run(
      [
        'operator',
        'add',
        '--port',
        port,
        '--id',
        '02',
        '--name',
        'Cashier',
        '--perms',
        'sale',
        '--generate-password',
        '--credentials-out',
        link,
        '--admin-password-stdin',
      ],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot write --credentials-out ${link}: it is a symbolic link`);
    untouched();
    expect(readFileSync(target, 'utf8')).toBe('mine\n');
  });
});

describe('a trace that fails during the run', () => {
  it('--trace /dev/full (disk full): one warning, and the terminal is provisioned all the same', async () => {
    const run = await provision([
      '--trace',
      '/dev/full',
      '--credentials-out',
      join(cli.dir, 'p.txt'),
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ outcome: 'provisioned' });
    expect(run.stderr).toBe(
      'warning: cannot write the trace file /dev/full (ENOSPC): tracing stopped there; the run goes on\n',
    );
    expect(recorder.bytesIn).toBeGreaterThan(0);
  });
});
