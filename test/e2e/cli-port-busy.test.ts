/**
 * One process owns a port at a time (docs/cli.md, "One owner per terminal"): while `posbridge console`
 * holds a pty, a second posbridge gets "port busy" naming the port and the holder, exit 3, and
 * the holder's session is not disturbed. Once the holder leaves, the port works again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_TIMEOUT_MS } from '../support/constants.js';

let dir: string;
const children = new Children();

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-busy-'));
});
afterEach(async () => {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('two posbridge processes on one pty', () => {
  it(
    'the second gets exit 3 and "port busy" naming the port and the holder pid',
    async () => {
      const link = join(dir, 'pos0');
      const mock = children.spawn(['mock', '--pty', link, '--log-level', 'warn'], { cwd: dir });
      await mock.waitForStdout(/ on pty /, 'the mock to print its pty');

      const env = cleanEnv(dir);
      const holder = children.spawn(['console', '--port', link], { cwd: dir, env });
      holder.child.stdin.write('HELLO\n');
      // Once the reply is shown the console has the port open (and locked).
      await holder.waitForStdout(/^< @\d+ OK proto=1 /m, 'the console to show the HELLO reply');

      for (const args of [
        ['info', '--port', link],
        ['diag', '--port', link],
      ]) {
        const second = await runCliProcess(args, { cwd: dir, env });
        expect(second.code, second.stderr).toBe(3);
        expect(second.stdout).toBe('');
        expect(second.stderr).toContain('port busy');
        expect(second.stderr).toContain(link);
        expect(second.stderr).toContain(`pid ${holder.pid}`);
        expect(second.stderr).not.toMatch(STACK_LINE);
      }
      const asJson = await runCliProcess(['info', '--port', link, '--json'], { cwd: dir, env });
      expect(asJson.code).toBe(3);
      expect(JSON.parse(asJson.stdout)).toMatchObject({ error: { code: 'PORT_BUSY' } });

      // The holder's session went on undisturbed; it leaves cleanly at the end of its input.
      holder.child.stdin.end('STATUS\n');
      expect(await holder.waitForExit()).toEqual({ code: 0, signal: null });
      expect(holder.stdout).toMatch(/^< @\d+ OK state=factory /m);
      expect(holder.stderr).toBe('');

      const free = await runCliProcess(['info', '--port', link], { cwd: dir, env });
      expect(free.code, free.stderr).toBe(0);
      expect(free.stdout).toContain(`PB-MOCK sn PBM0000001 (fw 1.0.0, TSP/1) on ${link}`);

      mock.kill('SIGTERM');
      expect((await mock.waitForExit()).code).toBe(0);
    },
    E2E_TIMEOUT_MS,
  );
});
