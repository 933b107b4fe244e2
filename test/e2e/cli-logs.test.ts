/**
 * Logs go to stderr, results to stdout (docs/cli.md): `--log-format json` gives one JSON object
 * per stderr line and leaves stdout to the one result document; `--log-format pretty` gives
 * readable lines. Neither ever holds a password: not the new admin password, not the factory
 * ones on the wire, not a generated operator password.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, STACK_LINE } from '../support/cli-inproc.js';
import { CliProcess, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_TIMEOUT_MS, provisionArgv } from '../support/constants.js';

let dir: string;

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-logs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function provisionArgs(port: string, ...extra: string[]): string[] {
  return [...provisionArgv(port, join(dir, 'creds.txt')), ...extra];
}

/** Every password this run knew: the new admin one, the factory ones, the generated ones. */
function expectNoSecret(text: string): void {
  expect(text).not.toContain(ADMIN_PASSWORD);
  expect(text).not.toMatch(/(password|old|new)=(")?(1234|123456)\b/);
  for (const [, generated] of readFileSync(join(dir, 'creds.txt'), 'utf8').matchAll(/password=(\S+)/g))
    expect(text).not.toContain(generated);
}

describe('posbridge logging', () => {
  it(
    '--log-level debug --log-format json: JSON lines on stderr only, the one result on stdout',
    async () => {
      const run = await runCliProcess(
        provisionArgs(
          'mock://logs?diag-time-scale=0',
          '--log-level',
          'debug',
          '--log-format',
          'json',
          '--json',
        ),
        { cwd: dir, input: `${ADMIN_PASSWORD}\n` },
      );
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { kind: string; outcome: string };
      expect(report).toMatchObject({ kind: 'provision', outcome: 'provisioned' });

      const lines = run.stderr.split('\n').filter((line) => line !== '');
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines) {
        const entry = JSON.parse(line) as { level: number; msg: string; time: number };
        expect(entry.level).toBeGreaterThanOrEqual(20);
        expect(typeof entry.msg).toBe('string');
      }
      // The wire at debug: LOGIN and PASSWD are there, their passwords masked.
      expect(run.stderr).toMatch(/LOGIN user=admin password=\\?"?\*\*\*/);
      expect(run.stderr).toMatch(/PASSWD old=\\?"?\*\*\*/);
      expectNoSecret(run.stderr);
      expectNoSecret(run.stdout);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    '--log-format pretty: one readable line per entry (time, LEVEL, message), no password',
    async () => {
      const run = await runCliProcess(
        provisionArgs('mock://logs?diag-time-scale=0', '--log-level', 'debug', '--log-format', 'pretty'),
        { cwd: dir, input: `${ADMIN_PASSWORD}\n` },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(': provisioned\n');
      expect(run.stdout).not.toMatch(/^\{/m);
      const lines = run.stderr.split('\n').filter((line) => line !== '');
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines)
        expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) \S/);
      expect(run.stderr).toMatch(/ DEBUG > .*LOGIN user=admin password=/);
      expectNoSecret(run.stderr);
      expectNoSecret(run.stdout);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'the default level (warn) keeps stderr empty on success, and info --json is one document',
    async () => {
      const run = await runCliProcess(['info', '--port', 'mock://quiet', '--json'], { cwd: dir });
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toMatchObject({ kind: 'info', status: { state: 'factory' } });
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'a reader that goes away (| head -1) is no crash: the command finishes, exit 0, no stack trace',
    async () => {
      // Found by this test: the EPIPE was an unhandled 'error' event, a crash with a stack trace.
      const child = new CliProcess(provisionArgs('mock://piped?diag-time-scale=0', '--log-level', 'info'), {
        cwd: dir,
        input: `${ADMIN_PASSWORD}\n`,
      });
      child.child.stdout.destroy(); // the reading end of the pipe is closed before anything is written
      const exit = await child.waitForExit();
      expect(child.stderr).not.toMatch(STACK_LINE);
      expect(child.stderr).not.toContain('EPIPE');
      expect(exit, child.stderr).toEqual({ code: 0, signal: null });
      // It ran to its end: the operator's generated first password was recorded.
      expect(readFileSync(join(dir, 'creds.txt'), 'utf8')).toMatch(/operator=01 password=/);
    },
    E2E_TIMEOUT_MS,
  );
});
