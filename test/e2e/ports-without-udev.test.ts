/**
 * Issue 9, item 8 (part): on a machine without udevadm (containers, minimal images), `posbridge
 * ports` used to fail ("cannot list serial ports: spawn udevadm ENOENT", exit 3) and `posbridge
 * scan` (the daemon's discovery, one code path) could check nothing. The CLI runs here with a PATH
 * that has node and nothing else, so udevadm cannot be found whether or not it is installed; the
 * ports are then this machine's own, read from sysfs.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listSysfsPorts } from '../../src/host/ports/sysfs-list.js';
import { cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_SHORT_TIMEOUT_MS as E2E_TIMEOUT_MS } from '../support/constants.js';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-noudev-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  env = cleanEnv(dir, { PATH: bin, XDG_CONFIG_HOME: join(dir, 'config') });
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('without udevadm', () => {
  it(
    'posbridge ports lists the ports sysfs shows, exit 0',
    async () => {
      const expected = (await listSysfsPorts()).map((p) => p.path);
      const run = await runCliProcess(['ports', '--json'], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      const { kind, ports } = JSON.parse(run.stdout);
      expect(kind).toBe('ports');
      expect(ports.map((p: { path: string }) => p.path).sort()).toEqual([...expected].sort());

      const text = await runCliProcess(['ports'], { cwd: dir, env });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stderr).not.toMatch(/udevadm|error/);
      for (const path of expected) expect(text.stdout).toContain(path);
      expect(text.stderr).not.toMatch(STACK_LINE);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "posbridge scan (the daemon's discovery) lists the ports instead of failing",
    async () => {
      const run = await runCliProcess(['scan', '--json'], { cwd: dir, env });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report.kind).toBe('scan');
      expect(report.listError).toBeUndefined();
      // This machine's ports are not on the terminal allow-list: listed, then left alone.
      const expected = (await listSysfsPorts()).map((p) => p.path);
      expect(report.ignored.map((p: { path: string }) => p.path).sort()).toEqual([...expected].sort());
    },
    E2E_TIMEOUT_MS,
  );
});
