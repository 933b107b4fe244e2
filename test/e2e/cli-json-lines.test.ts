/**
 * `--json` on every command that reports (docs/cli.md): the long-running ones (daemon, mock)
 * print each of their lines as one JSON object, which a supervisor or a script reads as it
 * comes; `report --json` is `report --format json`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, MERCHANT, TERMINAL } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';

let dir: string;
const children = new Children();
beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-jsonl-'));
});
afterEach(async () => {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('--json on the long-running commands', () => {
  it('mock --json: where it listens, as one JSON object per line', async () => {
    const mock = children.spawn(['mock', '--listen', 'tcp://127.0.0.1:0', '--json'], {
      cwd: dir,
      env: cleanEnv(dir),
    });
    const [line] = await mock.waitForStdout(/^.*\n/, 'the start line');
    const start = JSON.parse(line!);
    expect(start).toMatchObject({ kind: 'mock', event: 'listening', sn: 'PBM0000001', pid: mock.pid });
    expect(start.tcp).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    // The address is the one it answers on.
    const info = await runCliProcess(['info', '--port', start.tcp, '--json'], {
      cwd: dir,
      env: cleanEnv(dir),
    });
    expect(JSON.parse(info.stdout).hello.sn).toBe('PBM0000001');
  }, 60_000);

  it('daemon --json: a listening object with its socket, station and audit trail, then a stopped one', async () => {
    const socket = join(dir, 'd.sock');
    const daemon = children.spawn(['daemon', '--socket', socket, '--json', '--log-level', 'silent'], {
      cwd: dir,
      env: cleanEnv(dir),
    });
    const [line] = await daemon.waitForStdout(/^.*\n/, 'the start line');
    expect(JSON.parse(line!)).toMatchObject({
      kind: 'daemon',
      event: 'listening',
      socket,
      pid: daemon.pid,
      audit: join(dir, 'audit.sqlite3'),
    });
    daemon.kill('SIGTERM');
    expect((await daemon.waitForExit()).code).toBe(0);
    const lines = daemon.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ kind: 'daemon', event: 'stopped', reason: 'SIGTERM' });
  }, 60_000);
});

describe('report --json', () => {
  it('is --format json; with --format csv it is a usage error', async () => {
    const env = cleanEnv(dir);
    // One run in the trail (a dry run records too).
    const dry = await runCliProcess(
      ['provision', '--port', 'mock://r', '--merchant', MERCHANT, '--terminal', TERMINAL, '--dry-run'],
      { cwd: dir, env },
    );
    expect(dry.code, dry.stderr).toBe(0);
    // A dry run on a mock terminal: left out of the acquirer's report unless asked for.
    const all = ['--include-dry-runs', '--include-mocks'];
    const json = await runCliProcess(['report', '--json', ...all], { cwd: dir, env });
    const format = await runCliProcess(['report', '--format', 'json', ...all], { cwd: dir, env });
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).toBe(format.stdout);
    expect(JSON.parse(json.stdout)).toHaveLength(1);
    const both = await runCliProcess(['report', '--json', '--format', 'csv'], { cwd: dir, env });
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout).error.code).toBe('USAGE');
  }, 60_000);
});
