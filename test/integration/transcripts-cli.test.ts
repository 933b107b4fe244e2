/**
 * `posbridge mock --replay TRACE` (issue 6, item 3): the terminal side of each golden transcript
 * played by the mock command, and the transcript's own CLI command (`command:`, `stdin:`) run
 * again against it, in-process: the CLI must reach the recorded result (`result:`: exit code,
 * outcome, error, each step's outcome) and the replay must see every recorded host line and no
 * other. Then what a developer meets when the host goes another way, and the option's errors.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTranscript, type Transcript } from '../../src/mock-device/replay/index.js';
import { fillCommand, summarize, TranscriptCli } from '../fixtures/transcripts/cli.js';
import { type MockCommandRun, runMockCommand } from '../support/mock-command.js';

const DIR = resolve(import.meta.dirname, '../fixtures/transcripts');
const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith('.trace'))
  .map((f) => f.slice(0, -'.trace'.length))
  .sort();

const file = (name: string): string => join(DIR, `${name}.trace`);
const load = (name: string): Transcript => readTranscript(name, readFileSync(file(name), 'utf8'));

const mock = runMockCommand;

async function printed(run: MockCommandRun, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const match = pattern.exec(run.stdout());
    if (match) return match[1]!;
    if (/posbridge mock:/.test(run.stderr())) throw new Error(run.stderr());
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the mock printed no address: ${run.stdout()} ${run.stderr()}`);
}

/** Log records of the mock (pino JSON lines on stderr). */
function records(run: MockCommandRun): Array<Record<string, unknown>> {
  return run
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const MOCK_ARGS = ['--baud', '0', '--log-level', 'info'];

describe('posbridge mock --replay TRACE', () => {
  it.each(NAMES)(
    '%s: the CLI command of the transcript, run against its replayed terminal side, reaches the recorded result',
    async (name) => {
      const transcript = load(name);
      const replay = mock(['--replay', file(name), '--listen', 'tcp://127.0.0.1:0', ...MOCK_ARGS]);
      const port = await printed(replay, /listening on (tcp:\/\/\S+)/);
      const cli = new TranscriptCli();
      try {
        const run = await cli.run(
          fillCommand(transcript.command, { port, credentials: join(cli.dir, 'ops.txt') }),
          transcript.stdin,
        );
        expect(summarize(run), `${run.stdout}\n${run.stderr}\n${replay.stderr()}`).toEqual(transcript.result);
      } finally {
        cli.dispose();
        replay.stop();
      }
      expect(await replay.code).toBe(0);
      const logs = records(replay);
      expect(logs.filter((r) => String(r.msg).startsWith('replay: unexpected line'))).toEqual([]);
      expect(logs.some((r) => r.msg === 'replay: the trace was played to its end')).toBe(true);
    },
  );

  it('a host that goes another way gets ERR 500 "replay: unexpected line", and the log says expected vs got', async () => {
    // `diag` on the factory terminal of provision-factory: like provision it identifies and logs
    // in with the factory password, but then, the password still to change, it logs out where
    // provision read STATUS before its PASSWD.
    const replay = mock([
      '--replay',
      file('provision-factory'),
      '--listen',
      'tcp://127.0.0.1:0',
      ...MOCK_ARGS,
    ]);
    const port = await printed(replay, /listening on (tcp:\/\/\S+)/);
    const cli = new TranscriptCli();
    try {
      const run = await cli.run(['diag', '--port', port, '--json'], []);
      expect(run.code).not.toBe(0);
      expect(run.stdout).toContain('replay: unexpected line');
    } finally {
      cli.dispose();
      replay.stop();
    }
    expect(await replay.code).toBe(0);
    const mismatch = records(replay).find((r) => String(r.msg).startsWith('replay: unexpected line'));
    expect(mismatch).toMatchObject({ expected: '@5 STATUS *0485', traceLine: expect.any(Number) });
    expect(String(mismatch!.got)).toMatch(/^@[0-9]+ LOGOUT \*[0-9A-F]{4}$/);
    expect(String(mismatch!.msg)).toMatch(/expected "@5 STATUS \*0485", got "@[0-9]+ LOGOUT/);
    expect(records(replay).some((r) => String(r.msg).includes('host line(s) of the trace not seen'))).toBe(
      true,
    );
  });

  it.skipIf(spawnSync('python3', ['--version']).status !== 0)(
    'works over a pseudo-terminal too (--pty, needs python3), opened by the CLI with the real serialport binding',
    async () => {
      const transcript = load('provision-rerun');
      const cli = new TranscriptCli();
      const link = join(cli.dir, 'pos0');
      const replay = mock(['--replay', file('provision-rerun'), '--pty', link, ...MOCK_ARGS]);
      try {
        await printed(replay, /on pty (\S+)/);
        const run = await cli.run(
          fillCommand(transcript.command, { port: link, credentials: join(cli.dir, 'ops.txt') }),
          transcript.stdin,
        );
        expect(summarize(run), `${run.stdout}\n${run.stderr}\n${replay.stderr()}`).toEqual(transcript.result);
      } finally {
        replay.stop();
        expect(await replay.code).toBe(0);
        cli.dispose();
      }
      expect(records(replay).some((r) => r.msg === 'replay: the trace was played to its end')).toBe(true);
    },
  );

  it.each([
    [['--replay', '/nonexistent/field.trace'], /cannot read the trace/],
    [['--replay', file('reboot'), '--fault', 'drop:p=0.1'], /--fault does not apply/],
    [['--replay', file('reboot'), '--state', '/tmp/x.json'], /--state does not apply/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const run = mock([...args, '--listen', 'tcp://127.0.0.1:0']);
    expect(await run.code).toBe(2);
    expect(run.stderr()).toMatch(message);
  });

  it('a file that is not a trace is a usage error naming the line', async () => {
    const run = mock(['--replay', join(DIR, 'cli.ts'), '--listen', 'tcp://127.0.0.1:0']);
    expect(await run.code).toBe(2);
    expect(run.stderr()).toMatch(/cli\.ts: line 1: not a trace line/);
  });
});
