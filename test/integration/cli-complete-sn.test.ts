/**
 * `posbridge __complete sn`: the serial numbers a running daemon knows, for the shell
 * completions. Against a real daemon on a socket (the API rig): the terminals' serial numbers,
 * sorted, one per line; nothing (exit 0) with no daemon; through bash's `_posbridge`, `--sn`
 * completes them with the built CLI.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { complete } from '../../src/cli/manual/complete.js';
import { CliHarness } from '../support/cli-inproc.js';
import { type RunningDaemon, scratchDir, startDaemon } from './api-rig.helper.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
  await daemon.portManager.plug('mock://b?sn=PB00002');
  await daemon.portManager.plug('mock://a?sn=PB00001');
});

afterAll(async () => {
  await daemon.stop();
});

async function completeSn(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await complete(['sn'], env, (text) => {
    out += text;
  });
  return { code, out };
}

describe('__complete sn', () => {
  it("prints the daemon's terminals' serial numbers, sorted, one per line", async () => {
    expect(await completeSn({ POSBRIDGE_SOCKET: daemon.socket })).toEqual({
      code: 0,
      out: 'PB00001\nPB00002\n',
    });
  });

  it('prints nothing and exits 0 when no daemon answers', async () => {
    const dir = scratchDir();
    try {
      expect(await completeSn({ POSBRIDGE_SOCKET: join(dir, 'daemon.sock') })).toEqual({ code: 0, out: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a usage error for anything but `sn`', async () => {
    const cli = new CliHarness();
    try {
      expect((await cli.run(['__complete', 'port'])).code).toBe(2);
    } finally {
      cli.dispose();
    }
  });

  it.skipIf(!existsSync(CLI))('completes --sn in bash through the built CLI', async () => {
    const script = join(daemon.dir, 'posbridge.bash');
    const generated = spawnSync(process.execPath, [CLI, 'completion', 'bash'], { encoding: 'utf8' });
    expect(generated.status, generated.stderr).toBe(0);
    writeFileSync(script, generated.stdout);
    // `posbridge` as bash finds it: a function that runs the built CLI.
    // Asynchronously: the daemon answers from this process's event loop.
    const run = await promisify(execFile)(
      'bash',
      [
        '--norc',
        '--noprofile',
        '-c',
        `posbridge() { '${process.execPath}' '${CLI}' "$@"; }
source '${script}'
COMP_WORDS=(posbridge history --sn PB); COMP_CWORD=3
_posbridge
printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { env: { ...process.env, POSBRIDGE_SOCKET: daemon.socket } },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n').filter(Boolean)).toEqual(['PB00001', 'PB00002']);
  });
});
