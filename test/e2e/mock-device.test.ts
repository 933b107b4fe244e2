/**
 * `posbridge mock --device PATH` on a tty someone else made: one end of a socat pair, with the
 * real serialport binding on both sides. `posbridge info` and a full provision go through the
 * other end; socat killed and restarted (a hang-up: the tty vanishes and comes back) and the mock
 * serves again; stopping the mock leaves socat's links alone.
 */
import { lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, MERCHANT, STACK_LINE, TERMINAL } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_TIMEOUT_MS } from '../support/constants.js';
import { requireSocat, SocatPair } from '../support/socat.js';

let dir: string;
const children = new Children();
const pairs: SocatPair[] = [];

beforeEach(() => {
  requireBuiltCli();
  requireSocat();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-device-'));
});
afterEach(async () => {
  await children.stopAll();
  for (const pair of pairs.splice(0)) await pair.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function socat(): Promise<SocatPair> {
  const pair = new SocatPair(join(dir, 'terminal-end'), join(dir, 'host-end'));
  pairs.push(pair);
  return pair.start();
}

/** Occurrences of `pattern` in `text`. */
function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

describe('posbridge mock --device', () => {
  it(
    'serves one end of a socat pair: info and a full provision through the other end; a hang-up (socat restarted) and it serves again',
    async () => {
      const pair = await socat();
      const mock = children.spawn(['mock', '--device', pair.a, '--baud', '0', '--diag-time-scale', '0'], {
        cwd: dir,
      });
      await mock.waitForStdout(
        /^mock terminal PBM0000001 on device .*terminal-end$/m,
        'the mock to open the tty',
      );

      const info = await runCliProcess(['info', '--port', pair.b], { cwd: dir });
      expect(info.code, info.stderr).toBe(0);
      expect(info.stdout).toMatch(/^PB-MOCK sn PBM0000001 .* on .*host-end\n\s+state\s+factory/);

      const provision = await runCliProcess(
        [
          'provision',
          '--port',
          pair.b,
          '--merchant',
          MERCHANT,
          '--terminal',
          TERMINAL,
          '--admin-password-stdin',
        ],
        { cwd: dir, input: `${ADMIN_PASSWORD}\n` },
      );
      expect(provision.code, `${provision.stdout}\n${provision.stderr}`).toBe(0);
      expect(provision.stdout).toMatch(/PB-MOCK sn PBM0000001 fw 1\.0\.0: provisioned\n/);

      // The hang-up: socat goes, both ttys and both links with it.
      await pair.stop();
      await mock.waitForStderr(/device hung up: reopening it when it is back/, 'the mock to see the hang-up');
      expect(() => lstatSync(pair.a)).toThrow(/ENOENT/);

      await pair.start();
      await mock.waitForStderr(/"msg":"device open"[\s\S]*"msg":"device open"/, 'the mock to reopen the tty');
      // Each open is one connection; the log lines may reach the pipe in separate writes.
      await mock.waitForStderr(
        /"msg":"connection opened"[\s\S]*"msg":"connection opened"/,
        'the second connection',
      );
      expect(count(mock.stderr, /"msg":"connection opened"/)).toBe(2);
      const after = await runCliProcess(['info', '--port', pair.b, '--json'], { cwd: dir });
      expect(after.code, after.stderr).toBe(0);
      expect(JSON.parse(after.stdout)).toMatchObject({ status: { state: 'initialized', factoryPw: [] } });

      // Stopping the mock closes its end and leaves socat's links as they were.
      const target = readlinkSync(pair.a);
      mock.kill('SIGTERM');
      expect(await mock.waitForExit()).toEqual({ code: 0, signal: null });
      expect(readlinkSync(pair.a)).toBe(target);
      expect(lstatSync(pair.b).isSymbolicLink()).toBe(true);
      expect(mock.stderr).not.toMatch(STACK_LINE);
      expect(mock.stderr).not.toContain(ADMIN_PASSWORD);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'a path that does not exist is a usage error (exit 2) and nothing is created there',
    async () => {
      const missing = join(dir, 'no-such-tty');
      const run = await runCliProcess(['mock', '--device', missing], { cwd: dir });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`posbridge mock: No such device: ${missing}`);
      expect(() => lstatSync(missing)).toThrow(/ENOENT/);
    },
    E2E_TIMEOUT_MS,
  );
});
