/**
 * Colour is decided per stream, on a real terminal (python3's pty): stdout's report is coloured
 * when stdout is a terminal, the error lines on stderr when stderr is one, whatever the other
 * stream is; `--no-color`, NO_COLOR and TERM=dumb turn it off, FORCE_COLOR on (docs/cli.md,
 * "Colour").
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv } from '../support/cli-inproc.js';
import { runCliProcess } from '../support/cli-process.js';
import { runCliInPty } from '../support/pty-run.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
const ESC = '\u001b[';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-colour-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The environment of a person at a colour terminal (cleanEnv sets NO_COLOR for the other tests). */
function colourEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = cleanEnv(dir, { TERM: 'xterm-256color', ...extra });
  if (!('NO_COLOR' in extra)) delete env.NO_COLOR;
  return env;
}

const INFO = ['info', '--port', 'mock://c'];
/** Nothing listens on port 1: an error report on stderr (exit 3). */
const UNREACHABLE = ['info', '--port', 'tcp://127.0.0.1:1', '--timeout', '500'];

describe.skipIf(!hasPython)('colour per stream on a terminal', () => {
  it('stdout on a terminal: the report is coloured', async () => {
    const run = await runCliInPty(INFO, { cwd: dir, env: colourEnv(), tty: { stdout: true } });
    expect(run.code).toBe(0);
    expect(run.tty).toContain(ESC);
  }, 60_000);

  it('--no-color (after the command too), NO_COLOR=1 and TERM=dumb: no colour on the terminal', async () => {
    for (const [args, env] of [
      [[...INFO, '--no-color'], colourEnv()],
      [['--no-color', ...INFO], colourEnv()],
      [INFO, colourEnv({ NO_COLOR: '1' })],
      [INFO, colourEnv({ TERM: 'dumb' })],
    ] as const) {
      const run = await runCliInPty([...args], { cwd: dir, env, tty: { stdout: true } });
      expect(run.code, run.stderr).toBe(0);
      expect(run.tty).toMatch(/sn /);
      expect(run.tty, `${args.join(' ')} ${env.TERM} ${env.NO_COLOR}`).not.toContain(ESC);
    }
  }, 120_000);

  it('stderr on a terminal, stdout a pipe: the error is coloured', async () => {
    const run = await runCliInPty(UNREACHABLE, { cwd: dir, env: colourEnv(), tty: { stderr: true } });
    expect(run.code).toBe(3);
    expect(run.tty).toContain(`${ESC}31merror:`);
  }, 60_000);

  it('stdout on a terminal, stderr a pipe: the error on the pipe is plain', async () => {
    const run = await runCliInPty(UNREACHABLE, { cwd: dir, env: colourEnv(), tty: { stdout: true } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: /);
    expect(run.stderr).not.toContain(ESC);
  }, 60_000);

  it('FORCE_COLOR=1 colours a pipe', async () => {
    const run = await runCliProcess(INFO, { cwd: dir, env: colourEnv({ FORCE_COLOR: '1' }) });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(ESC);
  }, 60_000);
});
