/**
 * The "done when", as a technician and a CI job run it: `posbridge mock` in one process,
 * `posbridge provision` in others, over TCP and over a pseudo-terminal opened by the real
 * serialport binding. First run provisions, a rerun changes nothing and says so, and the mock
 * stops cleanly on SIGTERM.
 */
import { lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, MERCHANT, STACK_LINE, TERMINAL } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_TIMEOUT_MS } from '../support/constants.js';

let dir: string;
const children = new Children();

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-provision-'));
});
afterEach(async () => {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** `printf 'Adm1n-2026\n' | posbridge provision --port PORT ... --admin-password-stdin` */
function provision(port: string) {
  return runCliProcess(
    ['provision', '--port', port, '--merchant', MERCHANT, '--terminal', TERMINAL, '--admin-password-stdin'],
    { cwd: dir, input: `${ADMIN_PASSWORD}\n` },
  );
}

const CHANGING_STEPS = ['admin-password', 'bind', 'factory-operator'];

function expectFirstRun(run: Awaited<ReturnType<typeof provision>>): void {
  expect(run.stderr, run.stderr).not.toMatch(/error/i);
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  expect(run.stdout).toMatch(/PB-MOCK sn PBM0000001 fw 1\.0\.0: provisioned\n/);
  for (const step of CHANGING_STEPS) expect(run.stdout).toMatch(new RegExp(`^ {2}${step} +done `, 'm'));
  expect(run.stdout).toContain(`merchant ${MERCHANT}  terminal ${TERMINAL}`);
  // The generated first password of operator 01 went to the default file in the state directory.
  const kept = join(dir, 'state', 'posbridge', 'operator-passwords.txt');
  expect(run.stdout).toContain(`operator first passwords written to ${kept}`);
  const credentials = readFileSync(kept, 'utf8');
  expect(credentials).toMatch(/ sn=PBM0000001 operator=01 password=\S{6,}\n$/);
  expect(run.stdout).not.toContain(ADMIN_PASSWORD);
  expect(run.stdout).not.toContain(/password=(\S+)/.exec(credentials)![1]);
}

function expectRerun(run: Awaited<ReturnType<typeof provision>>): void {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  expect(run.stdout).toContain('already provisioned: nothing changed');
  for (const step of CHANGING_STEPS)
    expect(run.stdout).toMatch(new RegExp(`^ {2}${step} +already done `, 'm'));
  expect(run.stdout).not.toMatch(/ FAILED /);
  expect(run.stderr).not.toMatch(STACK_LINE);
}

describe('posbridge provision against posbridge mock, each its own process', () => {
  it(
    'over TCP (the mock picks a free port and prints it): provisions, then a rerun changes nothing',
    async () => {
      const mock = children.spawn(['mock', '--listen', 'tcp://127.0.0.1:0'], { cwd: dir });
      const [, port] = await mock.waitForStdout(
        /^mock terminal PBM0000001 listening on tcp:\/\/127\.0\.0\.1:(\d+)$/m,
        'the mock to print its address',
      );
      expect(Number(port)).toBeGreaterThan(0);
      const address = `tcp://127.0.0.1:${port}`;

      expectFirstRun(await provision(address));
      expectRerun(await provision(address));

      mock.kill('SIGTERM');
      expect(await mock.waitForExit()).toEqual({ code: 0, signal: null });
      // The mock logs every request, masked: no password reached its log either.
      expect(mock.stderr).toContain('"msg":"stopping"');
      expect(mock.stderr).not.toContain(ADMIN_PASSWORD);
      expect(mock.stderr).not.toMatch(/password=1234\b/);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'over a pty with the real serialport binding; SIGTERM then exits 0 and removes the link',
    async () => {
      const link = join(dir, 'pos0');
      const mock = children.spawn(['mock', '--pty', link], { cwd: dir });
      await mock.waitForStdout(
        new RegExp(`^mock terminal PBM0000001 on pty ${link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
        'the mock to print its pty',
      );
      expect(lstatSync(link).isSymbolicLink()).toBe(true);

      expectFirstRun(await provision(link));
      expectRerun(await provision(link));

      mock.kill('SIGTERM');
      expect(await mock.waitForExit()).toEqual({ code: 0, signal: null });
      expect(() => lstatSync(link)).toThrow(/ENOENT/);
    },
    E2E_TIMEOUT_MS,
  );
});
