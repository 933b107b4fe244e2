/**
 * `posbridge status` and `posbridge watch` against a running daemon (its socket, mock://
 * terminals in an in-memory port manager), the CLI in-process with the production composition:
 * the table's columns, --json, one line per event, NDJSON with IDs, resuming with --after, and
 * the exit codes when no daemon runs or it goes away.
 */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { ADMIN_PW, call, MERCHANT, type RunningDaemon, startDaemon, TERMINAL } from './api-rig.helper.js';

const running: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

class Cli extends EventEmitter {
  out = '';
  err = '';
  private stop!: () => void;
  readonly stopped = new Promise<void>((resolve) => {
    this.stop = resolve;
  });

  constructor(private readonly dir: string) {
    super();
  }

  run(argv: string[]): Promise<number> {
    const io: CliIo = {
      stdout: {
        write: (text: string) => {
          this.out += text;
          this.emit('out');
          return true;
        },
      },
      stderr: {
        write: (text: string) => {
          this.err += text;
          this.emit('err');
          return true;
        },
      },
      stdin: Readable.from([]),
      env: cleanEnv(this.dir),
    } as unknown as CliIo;
    return runCli(argv, { ...productionDeps(io), watchStop: () => this.stopped });
  }

  /** Ctrl-C, for watch. */
  interrupt(): void {
    this.stop();
  }

  waitForOut(pattern: RegExp, what: string, ms = 5000, stream: 'out' | 'err' = 'out'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pattern.test(this[stream])) return;
        clearTimeout(timer);
        this.off(stream, check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off(stream, check);
        reject(new Error(`no ${what} within ${ms} ms; std${stream} so far:\n${this[stream]}`));
      }, ms);
      this.on(stream, check);
      check();
    });
  }

  /** watch says on stderr once it is subscribed. */
  subscribed(): Promise<void> {
    return this.waitForOut(
      /^watching the posbridge daemon at .* \(pid \d+\); Ctrl-C stops$/m,
      'watching',
      5000,
      'err',
    );
  }
}

async function daemon(): Promise<RunningDaemon> {
  const d = await startDaemon();
  running.push(d);
  return d;
}

function provision(d: RunningDaemon, port: string) {
  return call(d.socket, 'POST', '/v1/provision', {
    request: {
      port,
      merchant: MERCHANT,
      terminal: TERMINAL,
      adminPassword: ADMIN_PW,
      technician: 'tech',
      station: 'bench-1',
    },
    recordGenerated: false,
  });
}

describe('posbridge status', () => {
  it("prints the daemon's terminals as a table: identity, state, factory passwords, lock, last result", async () => {
    const d = await daemon();
    await d.portManager.plug('mock://a');
    await d.portManager.plug('mock://b');
    // (This rig's port manager does not re-read STATUS after a run, as the real one does: b's
    // factory passwords stay as first read.)
    expect((await provision(d, 'mock://b')).status).toBe(200);
    const cli = new Cli(d.dir);
    const code = await cli.run(['status', '--socket', d.socket]);
    expect(code, cli.err).toBe(0);
    const lines = cli.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PORT +SN +MODEL +FW +STATE +FACTORY PW +LOCKED +BUSY +LAST RESULT$/);
    expect(lines[1]).toMatch(
      /^mock:\/\/a +PBM0000001 +PB-MOCK +1\.0\.0 +factory +admin,01 +no \(5 left\) +- +-$/,
    );
    expect(lines[2]).toMatch(
      /^mock:\/\/b +PBM0000001 +PB-MOCK +1\.0\.0 +provisioned +admin,01 +no \(5 left\) +- +provision provisioned$/,
    );
    expect(cli.out).not.toContain(ADMIN_PW);
  });

  it('--json gives each terminal with its condition and last result', async () => {
    const d = await daemon();
    await d.portManager.plug('mock://a');
    const cli = new Cli(d.dir);
    expect(await cli.run(['status', '--socket', d.socket, '--json'])).toBe(0);
    const doc = JSON.parse(cli.out);
    expect(doc.kind).toBe('status');
    expect(doc.terminals).toEqual([
      expect.objectContaining({ port: 'mock://a', state: 'present', condition: 'factory' }),
    ]);
  });

  it('without a daemon: exit 3, saying to start one, no stack', async () => {
    const d = await daemon();
    const cli = new Cli(d.dir);
    const code = await cli.run(['status', '--socket', `${d.dir}/nobody.sock`]);
    expect(code).toBe(3);
    expect(cli.err).toMatch(/no posbridge daemon answers at .*nobody\.sock/);
    expect(cli.err).not.toMatch(STACK_LINE);
  });
});

describe('posbridge watch', () => {
  it('prints one line per event until Ctrl-C (exit 0)', async () => {
    const d = await daemon();
    const cli = new Cli(d.dir);
    const done = cli.run(['watch', '--socket', d.socket]);
    // Subscribed once the daemon logs the stream; plug until the line shows (no sleeping).
    await cli.subscribed();
    await d.portManager.plug('mock://a');
    await cli.waitForOut(/mock:\/\/a \(sn PBM0000001\) plugged in: present/, 'the plug line');
    expect((await provision(d, 'mock://a')).status).toBe(200);
    await cli.waitForOut(/mock:\/\/a provision finished: provisioned/, 'the result line');
    expect(cli.out).toMatch(/^\d\d:\d\d:\d\d mock:\/\/a provision started$/m);
    expect(cli.out).toMatch(/^\d\d:\d\d:\d\d mock:\/\/a provision login done: /m);
    await d.portManager.unplug('mock://a');
    await cli.waitForOut(/mock:\/\/a \(sn PBM0000001\) gone/, 'the unplug line');
    cli.interrupt();
    expect(await done).toBe(0);
    expect(cli.out).not.toContain(ADMIN_PW);
  });

  it('--json prints NDJSON with IDs; --after ID resumes with what followed', async () => {
    const d = await daemon();
    const first = new Cli(d.dir);
    const done = first.run(['watch', '--socket', d.socket, '--json']);
    await first.subscribed();
    await d.portManager.plug('mock://a');
    await first.waitForOut(/"terminal-added"/, 'terminal-added');
    first.interrupt();
    expect(await done).toBe(0);
    const events = first.out
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    const added = events.find((e) => e.type === 'terminal-added');
    expect(added).toMatchObject({
      id: expect.stringMatching(/^[0-9a-z]+-\d+$/),
      terminal: { port: 'mock://a' },
    });

    await d.portManager.unplug('mock://a');
    const second = new Cli(d.dir);
    const resumed = second.run(['watch', '--socket', d.socket, '--json', '--after', added.id]);
    await second.waitForOut(/"terminal-removed"/, 'the missed terminal-removed');
    second.interrupt();
    expect(await resumed).toBe(0);
    expect(second.out).not.toContain('"terminal-added"');
  });

  it('exits 3 when the daemon goes away, saying how to resume', async () => {
    const d = await daemon();
    const cli = new Cli(d.dir);
    const done = cli.run(['watch', '--socket', d.socket]);
    await cli.subscribed();
    await d.daemon.stop({ reason: 'test' });
    expect(await done).toBe(3);
    expect(cli.err).toMatch(/went away/);
    expect(cli.err).toMatch(/--after ID/);
  });
});
