/**
 * The whole conformance suite passes the mock terminal served by `posbridge mock` over TCP and on
 * a pseudo-terminal opened by the real serialport binding (mock:// is in
 * test/integration/conformance-cli.test.ts). The mock is unpaced (--baud 0) but its DIAG keeps
 * its real durations (about 1.6 s for the twelve checks), longer than the reply timeout given: a
 * slow DIAG is fine as long as each DATA line comes in time (docs/protocol.md §18).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../../src/conformance/index.js';
import { CliHarness } from '../support/cli-inproc.js';
import { type MockCommandRun, runMockCommand } from '../support/mock-command.js';
import { deadline } from '../support/wait.js';

let dir: string;
let h: CliHarness;
let mock: MockCommandRun | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posbridge-conformance-'));
  h = new CliHarness();
});
afterEach(async () => {
  mock?.stop();
  if (mock) await deadline(mock.code, 'posbridge mock to stop');
  mock = undefined;
  h.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts `posbridge mock ARGS` and waits for the line that says where it serves. */
async function serve(args: string[], ready: RegExp): Promise<RegExpExecArray> {
  mock = runMockCommand([...args, '--baud', '0', '--reboot-ms', '200', '--log-level', 'silent']);
  const current = mock;
  return deadline(
    (async () => {
      for (;;) {
        const match = ready.exec(current.stdout());
        if (match) return match;
        if (current.stderr() !== '') throw new Error(current.stderr());
        await new Promise((resolve) => setImmediate(resolve));
      }
    })(),
    'posbridge mock to be ready',
    20_000,
  );
}

async function conformance(port: string): Promise<{
  code: number;
  report: { counts: unknown; durationMs: number; results: { id: string; outcome: string }[] };
}> {
  const run = await h.run([
    'conformance',
    '--port',
    port,
    '--yes-erase-this-terminal',
    '--json',
    '--timeout',
    '1000',
  ]);
  expect(run.stderr).toBe('');
  return { code: run.code, report: JSON.parse(run.stdout) };
}

describe('posbridge conformance passes posbridge mock on every transport', () => {
  it('over TCP (posbridge mock --listen)', async () => {
    const [, url] = await serve(['--listen', 'tcp://127.0.0.1:0'], /listening on (tcp:\/\/[0-9.:]+)/);
    const { code, report } = await conformance(url!);
    expect(report.results.filter((r) => r.outcome !== 'pass')).toEqual([]);
    expect(report.counts).toEqual({ total: ALL_CHECKS.length, pass: ALL_CHECKS.length, fail: 0, skip: 0 });
    expect(code).toBe(0);
    process.stdout.write(`conformance over tcp: ${report.durationMs} ms\n`);
  }, 120_000);

  it('on a pty, through the real serialport binding (posbridge mock --pty)', async () => {
    const link = path.join(dir, 'pos0');
    await serve(['--pty', link], /on pty (\S+)/);
    const { code, report } = await conformance(link);
    expect(report.results.filter((r) => r.outcome !== 'pass')).toEqual([]);
    expect(report.counts).toEqual({ total: ALL_CHECKS.length, pass: ALL_CHECKS.length, fail: 0, skip: 0 });
    expect(code).toBe(0);
    process.stdout.write(`conformance over a pty: ${report.durationMs} ms\n`);
  }, 120_000);
});
