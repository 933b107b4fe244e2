/**
 * The hidden password prompt, on a real terminal (python3's pty), says which password it wants:
 * provision asks for the new admin password it will set, the other commands for the current one
 * (docs/cli.md, "Secrets"). A technician who types the current one into a provision prompt gets
 * it set again instead of the one they meant.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, cleanEnv, MERCHANT, TERMINAL } from '../support/cli-inproc.js';
import { runCliInPty } from '../support/pty-run.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-prompt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasPython)('password prompts on a terminal', () => {
  it('provision asks for the new admin password, twice, and uses it', async () => {
    const run = await runCliInPty(
      ['provision', '--port', 'mock://p?diag-time-scale=0', '--merchant', MERCHANT, '--terminal', TERMINAL],
      {
        cwd: dir,
        env: cleanEnv(dir),
        tty: { stdin: true, stderr: true },
        answers: [
          ['new admin password to set (replaces the factory one): ', `${ADMIN_PASSWORD}\r`],
          ['new admin password to set (replaces the factory one) (again): ', `${ADMIN_PASSWORD}\r`],
        ],
      },
    );
    expect(run.stderr + run.tty).not.toContain('current admin password');
    expect(run.tty).not.toContain(ADMIN_PASSWORD); // not echoed
    expect(run.stdout).toMatch(/provisioned/i);
    expect(run.code).toBe(0);
  }, 120_000);

  it('diag asks for the current admin password', async () => {
    const run = await runCliInPty(['diag', '--port', 'mock://d?diag-time-scale=0'], {
      cwd: dir,
      env: cleanEnv(dir),
      tty: { stdin: true, stderr: true },
      answers: [['current admin password of the terminal: ', '\u0003']],
    });
    expect(run.tty).toContain('current admin password of the terminal: ');
    expect(run.tty).toContain('cancelled');
    expect(run.code).toBe(2);
  }, 120_000);
});
