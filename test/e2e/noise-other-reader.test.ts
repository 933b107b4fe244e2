/**
 * Issue 9, item 2: when the replies on a real serial port look like noise, posbridge says that
 * another program may be reading the port, and names the one /proc shows with the device open,
 * instead of blaming the cable. The terminal (`posbridge mock --pty`) damages every line it sends
 * (`--fault corrupt:p=1`), so the outcome does not depend on who wins a read; the other program is
 * a python3 process holding the pty open, as a forgotten `cat /dev/ttyUSB0` would.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_SHORT_TIMEOUT_MS as E2E_TIMEOUT_MS } from '../support/constants.js';

let dir: string;
const children = new Children();
let reader: ChildProcessWithoutNullStreams | undefined;

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-noise-'));
});
afterEach(async () => {
  reader?.kill('SIGKILL');
  reader = undefined;
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A process that opens `path` and keeps it open until killed. */
async function holdOpen(path: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(
    'python3',
    [
      '-c',
      'import os,sys,time; fd=os.open(sys.argv[1], os.O_RDWR|os.O_NOCTTY); print("open", flush=True); time.sleep(300)',
      path,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`python3 exited (${code}) before opening ${path}`)));
  });
  return child;
}

describe('damaged replies on a serial port', () => {
  it(
    'names the other program that has the port open; without one, still says it may be another program',
    async () => {
      const link = join(dir, 'pos0');
      const mock = children.spawn(
        ['mock', '--pty', link, '--fault', 'corrupt:p=1', '--seed', '1', '--log-level', 'warn'],
        { cwd: dir },
      );
      await mock.waitForStdout(/ on pty /, 'the mock to print its pty');
      const env = cleanEnv(dir);
      const args = ['info', '--port', link, '--timeout', '300'];

      const alone = await runCliProcess(args, { cwd: dir, env });
      expect(alone.code, alone.stderr).toBe(3);
      expect(alone.stderr).toContain('another program may be reading the port');
      expect(alone.stderr).not.toMatch(STACK_LINE);

      reader = await holdOpen(link);
      const shared = await runCliProcess(args, { cwd: dir, env });
      expect(shared.code, shared.stderr).toBe(3);
      expect(shared.stderr).toMatch(
        new RegExp(
          `Another program has ${link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} open and is probably reading the terminal's replies: pid ${reader.pid} \\(\\S*python3 -c `,
        ),
      );
      expect(shared.stderr).not.toMatch(STACK_LINE);
    },
    E2E_TIMEOUT_MS,
  );
});
