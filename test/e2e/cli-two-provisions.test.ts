/**
 * Issue 9, item 1: two `posbridge provision` processes started at once against one network
 * terminal (`posbridge mock --listen`, lockout.max=2). Without a host-wide lock both read STATUS
 * (factory_pw=admin), both log in, and the loser's password attempts lock the terminal. With the
 * endpoint lock (src/host/ports/endpoint-lock.ts) the second run is refused before it connects:
 * exit 3, "busy: <port> is held by pid N (...)", and the terminal never sees a failed attempt.
 *
 * Each round is a fresh mock (state file with lockout.max=2) and two provisions spawned together,
 * unpaced and paced at 9600 baud (a slower line widens the window in which both runs overlap).
 * POSBRIDGE_RACE_ROUNDS sets the rounds per pacing (default 5; docs/evidence.md has a run of 20).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockTerminal } from '../../src/mock-device/index.js';
import { ADMIN_PASSWORD, cleanEnv, MERCHANT, STACK_LINE, TERMINAL } from '../support/cli-inproc.js';
import { Children, type CliProcess, requireBuiltCli } from '../support/cli-process.js';

const ROUNDS = Number(process.env.POSBRIDGE_RACE_ROUNDS ?? 5);
const E2E_TIMEOUT_MS = 600_000;

let dir: string;
const children = new Children();

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-race-'));
});
afterEach(async () => {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A factory-fresh terminal's flash with lockout after 2 failed attempts. */
function writeLockoutState(file: string): void {
  const terminal = new MockTerminal();
  const state = terminal.snapshot();
  terminal.close();
  state.settings['lockout.max'] = '2';
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function provision(port: string, name: string): CliProcess {
  const cwd = join(dir, name);
  mkdirSync(cwd, { recursive: true });
  return children.spawn(
    ['provision', '--port', port, '--merchant', MERCHANT, '--terminal', TERMINAL, '--admin-password-stdin'],
    { cwd, env: cleanEnv(cwd), input: `${ADMIN_PASSWORD}\n` },
  );
}

interface Round {
  codes: Array<number | null>;
  failures: number;
  locked: boolean;
  busy: number;
  connections: number;
  problems: string[];
}

async function round(index: number, baud: number): Promise<Round> {
  const roundDir = join(dir, `round-${baud}-${index}`);
  mkdirSync(roundDir);
  const stateFile = join(roundDir, 'terminal.json');
  writeLockoutState(stateFile);
  const mock = children.spawn(
    [
      'mock',
      '--listen',
      'tcp://127.0.0.1:0',
      '--state',
      stateFile,
      '--baud',
      String(baud),
      '--log-level',
      'info',
    ],
    { cwd: roundDir },
  );
  const [, tcpPort] = await mock.waitForStdout(
    /listening on tcp:\/\/127\.0\.0\.1:(\d+)$/m,
    'the mock address',
  );
  const address = `tcp://127.0.0.1:${tcpPort}`;

  const runs = [
    provision(address, `round-${baud}-${index}/a`),
    provision(address, `round-${baud}-${index}/b`),
  ];
  const exits = await Promise.all(runs.map((run) => run.waitForExit()));
  mock.kill('SIGTERM');
  await mock.waitForExit();

  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  const problems: string[] = [];
  let busy = 0;
  exits.forEach((exit, i) => {
    const run = runs[i]!;
    const other = runs[1 - i]!;
    if (exit.code === 0) return;
    if (exit.code !== 3) {
      problems.push(`run ${i} exited ${exit.code}: ${run.stderr.trim()}`);
      return;
    }
    busy++;
    const expected = `busy: ${address} is held by pid ${other.pid} (`;
    if (!run.stderr.includes(expected)) problems.push(`run ${i}: no "${expected}" in ${run.stderr.trim()}`);
    if (!/provision/.test(run.stderr)) problems.push(`run ${i}: the holder's command is not named`);
    if (STACK_LINE.test(run.stderr)) problems.push(`run ${i}: stack trace`);
    // Only the progress line that precedes the open: no step ran.
    if (run.stdout.trim() !== `provisioning ${address} ...`) problems.push(`run ${i}: printed ${run.stdout}`);
  });
  if (!exits.some((exit) => exit.code === 0)) problems.push('no run provisioned the terminal');
  // Each provision opens one connection: a refused run never connected, so sent nothing.
  const connections = (mock.stderr.match(/"msg":"connection opened"/g) ?? []).length;
  if (connections !== 2 - busy)
    problems.push(`${connections} connection(s) for ${2 - busy} run(s) that got the port`);
  return {
    codes: exits.map((e) => e.code),
    failures: state.lockout.failures,
    locked: state.lockout.lockedUntil !== null,
    busy,
    connections,
    problems,
  };
}

describe('two provisions at once against one tcp:// terminal with lockout.max=2', () => {
  for (const baud of [0, 9600]) {
    it(
      `${ROUNDS} rounds ${baud === 0 ? 'unpaced' : `at ${baud} baud`}: never a failed login, the second run refused as busy`,
      async () => {
        const rounds: Round[] = [];
        for (let i = 0; i < ROUNDS; i++) rounds.push(await round(i, baud));
        const summary = rounds.map(
          (r, i) =>
            `round ${i}: exits ${r.codes.join('/')}, failed logins ${r.failures}${r.locked ? ' LOCKED' : ''}, ` +
            `connections ${r.connections}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`,
        );
        const overlapped = rounds.filter((r) => r.busy > 0).length;
        console.log(`[race baud=${baud}] ${overlapped}/${ROUNDS} rounds overlapped\n${summary.join('\n')}`);
        expect(
          rounds.filter((r) => r.locked || r.failures > 0).map((r) => rounds.indexOf(r)),
          summary.join('\n'),
        ).toEqual([]);
        expect(
          rounds.flatMap((r) => r.problems),
          summary.join('\n'),
        ).toEqual([]);
      },
      E2E_TIMEOUT_MS,
    );
  }
});
