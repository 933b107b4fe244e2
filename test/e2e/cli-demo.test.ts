/**
 * `posbridge demo`, as a newcomer runs it: the whole job against the built-in mock terminal,
 * twice, and the second run says nothing changed.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_TIMEOUT_MS } from '../support/constants.js';

let dir: string;
/** The working directory of the runs (dir holds the sandboxed environment). */
let work: string;
/** The demo keeps its generated operator passwords in a temporary directory: ours, to clean up. */
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-demo-'));
  work = join(dir, 'work');
  mkdirSync(work);
  mkdirSync(join(dir, 'tmp'));
  env = cleanEnv(dir, { TMPDIR: join(dir, 'tmp') });
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('posbridge demo', () => {
  it(
    'provisions the built-in mock, then the second run reports "already provisioned: nothing changed"',
    async () => {
      const run = await runCliProcess(['demo'], { cwd: work, env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(STACK_LINE);
      const first = run.stdout.indexOf('1. First run: provision it');
      const second = run.stdout.indexOf('2. Second run: same command again');
      const after = run.stdout.indexOf('3. The terminal now');
      expect(first).toBeGreaterThanOrEqual(0);
      expect(second).toBeGreaterThan(first);
      expect(after).toBeGreaterThan(second);
      const firstRun = run.stdout.slice(first, second);
      const secondRun = run.stdout.slice(second, after);
      expect(firstRun).toMatch(/PB-MOCK sn PBM0000001 fw 1\.0\.0: provisioned\n/);
      expect(firstRun).toMatch(/^ {2}admin-password +done /m);
      expect(secondRun).toMatch(/PB-MOCK sn PBM0000001 fw 1\.0\.0: already provisioned: nothing changed\n/);
      expect(secondRun).toMatch(/^ {2}admin-password +already done /m);
      expect(secondRun).not.toMatch(/^ {2}\S+ +done .*(created|replaced|deleted)/m);
      // The failed printer is on purpose, and explained.
      expect(run.stdout).toContain('printer   fail paper_out');
      expect(run.stdout).toMatch(/factory pw +none/);
      // The demo keeps nothing in the working directory; the operators' first passwords went to
      // a temporary directory, named in the report.
      expect(readdirSync(work)).toEqual([]);
      const [demoDir] = readdirSync(join(dir, 'tmp'));
      expect(demoDir).toMatch(/^posbridge-demo-/);
      expect(run.stdout).toContain(
        `operator first passwords written to ${join(dir, 'tmp', demoDir!, 'operator-passwords.txt')}`,
      );
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'with --json prints exactly one JSON document: both runs and the terminal before and after',
    async () => {
      const run = await runCliProcess(['demo', '--json'], { cwd: work, env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      const document = JSON.parse(run.stdout) as {
        kind: string;
        runs: { outcome: string; steps: { step: string; outcome: string }[] }[];
        before: { status: { state: string } };
        after: { status: { state: string; factoryPw: string[] } };
      };
      expect(run.stdout.trim().startsWith('{')).toBe(true);
      expect(document.kind).toBe('demo');
      expect(document.runs.map((r) => r.outcome)).toEqual(['provisioned', 'already-provisioned']);
      expect(document.before.status.state).toBe('factory');
      expect(document.after.status).toMatchObject({ state: 'initialized', factoryPw: [] });
      const step = (index: number, name: string) =>
        document.runs[index]!.steps.find((s) => s.step === name)?.outcome;
      expect(step(0, 'admin-password')).toBe('done');
      expect(step(1, 'admin-password')).toBe('already');
    },
    E2E_TIMEOUT_MS,
  );
});
