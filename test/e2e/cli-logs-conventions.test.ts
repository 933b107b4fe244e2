/**
 * Log lines as a terminal, a pipe and the systemd journal want them (docs/cli.md, "Logs"):
 * readable on a terminal and JSON otherwise without --log-format; a syslog priority prefix when
 * stderr is the journal's stream (JOURNAL_STREAM names its dev:inode); no stack for an expected
 * condition at the default level; one value per key.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv } from '../support/cli-inproc.js';
import { Children, CLI_MAIN, requireBuiltCli } from '../support/cli-process.js';
import { runCliInPty } from '../support/pty-run.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
let dir: string;
const children = new Children();
beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-logconv-'));
});
afterEach(async () => {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** `posbridge ...args` with stderr into a file (as systemd gives a service its journal stream). */
function runWithStderrFile(
  args: string[],
  env: NodeJS.ProcessEnv,
  file: string,
): { code: number | null; stderr: string } {
  const fd = openSync(file, 'w');
  try {
    const journalStream = `${statSync(file).dev}:${statSync(file).ino}`;
    const run = spawnSync(process.execPath, [CLI_MAIN, ...args], {
      cwd: dir,
      env: { ...env, JOURNAL_STREAM: env.JOURNAL_STREAM ?? journalStream },
      stdio: ['ignore', 'pipe', fd],
      timeout: 60_000,
    });
    return { code: run.status, stderr: readFileSync(file, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** A configured port whose terminal never answers: the scan logs a warning with its error. */
function silentPortConfigured(): NodeJS.ProcessEnv {
  const env = cleanEnv(dir);
  mkdirSync(join(env.XDG_CONFIG_HOME!, 'posbridge'), { recursive: true });
  writeFileSync(
    join(env.XDG_CONFIG_HOME!, 'posbridge', 'daemon.yaml'),
    `ports: ["mock://mute?fault=${encodeURIComponent('drop:p=1')}"]\ntimeouts: { requestMs: 200, identifyMs: 400 }\n`,
  );
  return env;
}

describe('log conventions', () => {
  it.skipIf(!hasPython)(
    'stderr on a terminal: readable lines, not JSON, without --log-format',
    async () => {
      const run = await runCliInPty(['info', '--port', 'mock://t', '--log-level', 'debug'], {
        cwd: dir,
        env: cleanEnv(dir),
        tty: { stderr: true },
      });
      expect(run.code).toBe(0);
      expect(run.tty).toMatch(/^\d\d:\d\d:\d\d\.\d{3} DEBUG /m);
      expect(run.tty).not.toContain('{"level"');
    },
    60_000,
  );

  it('stderr the journal: each JSON line carries its syslog priority; no stack for an expected warning', () => {
    const run = runWithStderrFile(['info', '--timeout', '200'], silentPortConfigured(), join(dir, 'journal'));
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('<'));
    const warning = lines.find((l) => l.includes('"level":40') && l.includes('"err"'));
    expect(warning, run.stderr).toMatch(/^<4>\{"level":40,/);
    expect(warning).not.toContain('"stack"');
    // The user-facing error lines are not log lines: no prefix (journald gives them its default).
    expect(run.stderr).toMatch(/^error: no --port given/m);
  }, 60_000);

  it('--log-level debug keeps the stack, and debug lines are <7>', () => {
    const run = runWithStderrFile(
      ['info', '--timeout', '200', '--log-level', 'debug'],
      silentPortConfigured(),
      join(dir, 'journal'),
    );
    const warning = run.stderr.split('\n').find((l) => l.includes('"level":40') && l.includes('"err"'));
    expect(warning).toContain('"stack"');
    expect(run.stderr).toMatch(/^<7>\{"level":20,/m);
  }, 60_000);

  it('JOURNAL_STREAM of another stream (stderr redirected): no prefix', () => {
    const run = runWithStderrFile(
      ['info', '--timeout', '200'],
      { ...silentPortConfigured(), JOURNAL_STREAM: '1:1' },
      join(dir, 'not-journal'),
    );
    expect(run.stderr).toMatch(/^\{"level":40,/m);
    expect(run.stderr).not.toMatch(/^<\d>/m);
  }, 60_000);

  it("the daemon's JSON lines name each key once", async () => {
    const daemon = children.spawn(['daemon', '--socket', join(dir, 'd.sock'), '--log-level', 'info'], {
      cwd: dir,
      env: cleanEnv(dir),
    });
    await daemon.waitForStderr(/"msg":"daemon ready"/, 'the daemon ready line');
    for (const line of daemon.stderr.split('\n').filter((l) => l.startsWith('{'))) {
      const keys = [...line.matchAll(/[{,]"([^"]+)":/g)].map((m) => m[1]);
      const top = Object.keys(JSON.parse(line));
      expect(keys.filter((k) => top.includes(k!)).length, line).toBe(top.length);
    }
    daemon.kill('SIGTERM');
    await daemon.waitForExit();
  }, 60_000);
});
