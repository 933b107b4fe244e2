/**
 * A DIAG takes seconds (each check answers in its own DATA line, docs/protocol.md): `diag` and
 * provision's diagnostics step show each check as it arrives, one line per check into a pipe and
 * with a spinner on a terminal (python3's pty), so the screen is never silent meanwhile.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, cleanEnv } from '../support/cli-inproc.js';
import { Children, requireBuiltCli } from '../support/cli-process.js';
import { provisionArgv } from '../support/constants.js';
import { runCliInPty } from '../support/pty-run.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
const CHECK_LINE = /^ {4}[a-z]+\s+(pass|warn|fail)\b/m;
let dir: string;
const children = new Children();
beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-progress-'));
});
afterEach(async () => {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A mock terminal on TCP (its own process, so it stays provisioned between commands), its DIAG
 * checks at 0.3 times their typical durations: about two seconds in all. */
async function mockTerminal(): Promise<string> {
  const mock = children.spawn(['mock', '--listen', 'tcp://127.0.0.1:0', '--diag-time-scale', '0.3'], {
    cwd: dir,
    env: cleanEnv(dir),
  });
  const [, port] = await mock.waitForStdout(/listening on (tcp:\/\/\S+)/, 'the mock to listen');
  return port!;
}

function provisionArgs(port: string): string[] {
  return provisionArgv(port, join(dir, 'creds.txt'));
}

async function provisioned(): Promise<string> {
  const port = await mockTerminal();
  const run = children.spawn(provisionArgs(port), {
    cwd: dir,
    env: cleanEnv(dir),
    input: `${ADMIN_PASSWORD}\n`,
  });
  expect((await run.waitForExit()).code, run.describe()).toBe(0);
  return port;
}

const withAdmin = (port: string, ...extra: string[]) => [
  'diag',
  '--port',
  port,
  '--admin-password-stdin',
  ...extra,
];

describe('diagnostics progress', () => {
  it('diag into a pipe: the first check is printed while DIAG still runs, one line per check', async () => {
    const port = await provisioned();
    const diag = children.spawn(withAdmin(port), {
      cwd: dir,
      env: cleanEnv(dir),
      input: `${ADMIN_PASSWORD}\n`,
    });
    await diag.waitForStdout(CHECK_LINE, 'the first check line');
    expect(diag.stdout).not.toContain('diagnostics of sn'); // the summary comes at the end
    expect(diag.running).toBe(true);
    await diag.waitForExit();
    expect(diag.stdout.startsWith(`diagnostics on ${port} (each check as it finishes):\n`)).toBe(true);
    expect(diag.stdout.match(new RegExp(CHECK_LINE.source, 'gm'))?.length).toBeGreaterThanOrEqual(5);
    expect(diag.stdout).not.toContain('\r'); // nothing redrawn into a pipe
    expect(diag.stdout).toMatch(/diagnostics of sn \S+: \d+ pass, \d+ warn, \d+ fail\n$/);
  }, 60_000);

  it('provision into a pipe: the checks appear during the diagnostics step, before the summary', async () => {
    const run = children.spawn(provisionArgs(await mockTerminal()), {
      cwd: dir,
      env: cleanEnv(dir),
      input: `${ADMIN_PASSWORD}\n`,
    });
    await run.waitForStdout(CHECK_LINE, 'the first check line');
    expect(run.stdout).not.toMatch(/^ {2}diagnostics /m); // its step line comes when it ends
    await run.waitForExit();
    expect(run.stdout.indexOf('  diagnostics ')).toBeGreaterThan(run.stdout.search(CHECK_LINE));
  }, 60_000);

  it('diag --json: no progress, one document', async () => {
    const port = await provisioned();
    const diag = children.spawn(withAdmin(port, '--json'), {
      cwd: dir,
      env: cleanEnv(dir),
      input: `${ADMIN_PASSWORD}\n`,
    });
    await diag.waitForExit();
    expect(JSON.parse(diag.stdout).kind, diag.describe()).toBe('diag');
  }, 60_000);

  it.skipIf(!hasPython)(
    'diag on a terminal: a spinner names the check under way, then each result',
    async () => {
      const port = await provisioned();
      const run = await runCliInPty(['diag', '--port', port], {
        cwd: dir,
        env: cleanEnv(dir, { POSBRIDGE_ADMIN_PASSWORD: ADMIN_PASSWORD }),
        tty: { stdout: true },
      });
      expect(run.code, run.stderr).toBe(0);
      // Drawn in place: carriage return, frame, the check under way, erase to the end of the line.
      expect(run.tty).toMatch(/\r {4}[|/\\-] printer \.\.\.\u001b\[K/);
      expect(run.tty).toMatch(/\r\u001b\[K {4}printer\s+pass/);
      expect(run.tty).toMatch(/diagnostics of sn \S+: \d+ pass, \d+ warn, 0 fail/);
    },
    60_000,
  );
});
