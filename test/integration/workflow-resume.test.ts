/**
 * "Re-running after a pulled cable resumes and finishes" (docs/cli.md, `posbridge provision`;
 * "Unplugging mid-command gives a clear error and a resumable state, never a hang").
 *
 * A full provisioning run is measured once (bytes both ways, and where the admin PASSWD and the
 * INIT requests end); then, for cut points stepping through the whole byte range and right at
 * those two requests, a fresh terminal gets `silent-after:bytes=N` (the cable is pulled after N
 * bytes, once), the cut run must exit 3, and a rerun must finish: fully provisioned, the admin
 * password changed exactly once, no login attempt lost.
 *
 * Request IDs start at a random number; Math.random is pinned so every run puts the same bytes on
 * the wire and a cut point measured once lands in the same place again.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProvisionReport } from '../../src/host/workflow/report.js';
import {
  expectProvisionedOverTheWire,
  expectProvisionedState,
  onlyJson,
} from '../support/workflow-expect.js';
import { FULL_PROFILE, FULL_PROFILE_ENV, writeProfile } from '../support/workflow-profile.js';
import { WorkflowRig, workflowRigs } from '../support/workflow-rig.js';

const newRig = workflowRigs();

const STEPS = 25;

interface Measure {
  total: number;
  bytesIn: number;
  bytesOut: number;
  /** Bytes on the wire (both ways) when the admin PASSWD request had arrived in full. */
  passwdEnd: number;
  initEnd: number;
  loginEnd: number;
  userAddEnd: number;
  operator01End: number;
  ms: number;
}

let measure: Measure;
/** What each cut run left, for the summary printed at the end. */
const cuts: Array<{ at: string; bytes: number; lastExecuted: string; rerunOutcome: string }> = [];

beforeAll(async () => {
  vi.spyOn(Math, 'random').mockReturnValue(0.25);
  const rig = await new WorkflowRig().init();
  try {
    const port = 'mock://measure';
    rig.terminal(port);
    const profile = await writeProfile(rig.path('profile.json'), FULL_PROFILE);
    const run = await rig.provision(port, ['--profile', profile], { env: FULL_PROFILE_ENV });
    expect(run.code).toBe(0);
    const meter = rig.meter(port);
    const at = (verb: string, match: RegExp) =>
      meter.requests.find((r) => r.verb === verb && match.test(r.raw))!.bytesSoFar;
    measure = {
      total: meter.total,
      bytesIn: meter.bytesIn,
      bytesOut: meter.bytesOut,
      passwdEnd: at('PASSWD', /\bold=/),
      initEnd: at('INIT', /merchant=/),
      loginEnd: at('LOGIN', /user=admin/),
      userAddEnd: at('USER-ADD', /\bid=02\b/),
      operator01End: at('PASSWD', /\buser=01\b/),
      ms: run.ms,
    };
    expect(measure.passwdEnd).toBeGreaterThan(0);
    expect(measure.initEnd).toBeGreaterThan(measure.passwdEnd);
  } finally {
    await rig.close();
  }
});

afterAll(() => {
  vi.restoreAllMocks();
  if (process.env.POSBRIDGE_TEST_FIGURES) {
    console.log(
      `full run: ${measure.total} bytes (${measure.bytesIn} to the terminal, ${measure.bytesOut} back) in ${measure.ms.toFixed(0)} ms; admin PASSWD ends at ${measure.passwdEnd}, INIT at ${measure.initEnd}`,
    );
    for (const cut of cuts)
      console.log(
        `  cut ${cut.at} (${cut.bytes} B): last executed ${cut.lastExecuted}; rerun ${cut.rerunOutcome}`,
      );
  }
});

/** Cut a fresh terminal's cable after `bytes`, then rerun without fault; check everything. */
async function cutAndResume(label: string, bytes: () => number): Promise<WorkflowRig> {
  const rig = await newRig();
  const profile = await writeProfile(rig.path('profile.json'), FULL_PROFILE);
  const n = bytes();
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThan(measure.total);
  const faulty = `mock://pos?fault=silent-after:bytes=${n}`;
  const terminal = rig.terminal(faulty);

  const cut = await rig.provision(faulty, ['--profile', profile], { env: FULL_PROFILE_ENV });

  expect(cut.code, `cut run:\n${cut.stdout}${cut.stderr}`).toBe(3);
  expect(`${cut.stdout}${cut.stderr}`).toContain(faulty);
  expect(`${cut.stdout}${cut.stderr}`).toMatch(/went away|closed|disconnect/i);
  expect(cut.ms).toBeLessThan(2000);
  const lastExecuted = rig.facts.executed().at(-1)?.verb ?? '(none)';
  expect(terminal.connectionCount).toBe(0);

  const rerun = await rig.provision('mock://pos', ['--profile', profile, '--json'], {
    env: FULL_PROFILE_ENV,
  });

  expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
  const report = onlyJson<ProvisionReport>(rerun.stdout);
  expect(['provisioned', 'already-provisioned']).toContain(report.outcome);
  // Exactly one admin password change across both runs, each command that creates something once.
  expect(rig.facts.executions('PASSWD', /\bold=/)).toBe(1);
  expect(rig.facts.executions('INIT')).toBe(1);
  expect(rig.facts.executions('USER-ADD', /\bid=02\b/)).toBe(1);
  expect(rig.facts.executions('USER-ADD', /\bid=03\b/)).toBe(1);
  // No login attempt was lost on the way (attempts_left back at lockout.max).
  expect(rig.facts.executed().filter((e) => e.verb === 'LOGIN' && e.reply !== 'OK')).toEqual([]);
  expectProvisionedState(terminal.snapshot(), FULL_PROFILE);
  expectProvisionedOverTheWire(rig, 'mock://pos', FULL_PROFILE);
  cuts.push({ at: label, bytes: n, lastExecuted, rerunOutcome: report.outcome });
  return rig;
}

describe('a run cut anywhere resumes', () => {
  const fractions = Array.from({ length: STEPS - 1 }, (_, i) => i + 1);
  it.each(fractions)(`cable pulled after %i/${STEPS} of a full run's bytes`, async (k) => {
    await cutAndResume(`${k}/${STEPS}`, () => Math.floor((measure.total * k) / STEPS));
  });

  // A request ends with CRLF and a receiver takes CR alone as the end of a line (TSP/1), so the
  // cut that keeps a request from running comes before its CR.
  it('cable pulled before the CRLF of the admin PASSWD request: not executed, the rerun changes it', async () => {
    await cutAndResume('PASSWD-2', () => measure.passwdEnd - 2);
    expect(cuts.at(-1)!.lastExecuted).toBe('STATUS');
  });

  it('cable pulled between the CR and the LF of the admin PASSWD request: executed (CR ends a line)', async () => {
    await cutAndResume('PASSWD-1', () => measure.passwdEnd - 1);
    expect(cuts.at(-1)!.lastExecuted).toBe('PASSWD');
  });

  it('cable pulled right after the admin PASSWD request: executed, reply lost, the rerun logs in with the new password', async () => {
    await cutAndResume('PASSWD', () => measure.passwdEnd);
    expect(cuts.at(-1)!.lastExecuted).toBe('PASSWD');
  });

  it('cable pulled before the CRLF of the INIT request: not executed, the rerun binds', async () => {
    await cutAndResume('INIT-2', () => measure.initEnd - 2);
    expect(cuts.at(-1)!.lastExecuted).toBe('PASSWD');
  });

  it('cable pulled right after the INIT request: bound, reply lost, the rerun finds it bound', async () => {
    await cutAndResume('INIT', () => measure.initEnd);
    expect(cuts.at(-1)!.lastExecuted).toBe('INIT');
  });

  it.each([
    ['the factory LOGIN', 'LOGIN', () => measure.loginEnd],
    ['the USER-ADD of operator 02', 'USER-ADD', () => measure.userAddEnd],
    ['the new password of operator 01', 'PASSWD', () => measure.operator01End],
  ])('cable pulled right after %s: executed, reply lost, the rerun goes on', async (label, verb, bytes) => {
    await cutAndResume(label, bytes);
    expect(cuts.at(-1)!.lastExecuted).toBe(verb);
  });
});

// A restart in the middle of a command: test/integration/workflow-reboot.test.ts (the run goes on).

describe('unplugged while DIAG runs', () => {
  it('exits 3 at once with a message naming the port, and a rerun finishes', async () => {
    const rig = await newRig();
    // DIAG takes its typical time x 0.05 (about 65 ms for the twelve checks): long enough to pull
    // the cable between two of its DATA lines.
    const port = 'mock://desk?diag-time-scale=0.05';
    const terminal = rig.terminal(port);
    let pulled = false;
    terminal.addBehaviour({
      name: 'test:unplug-during-diag',
      onLine(_connection, line) {
        if (pulled || !/^@\d+ DATA check=\w+ status=/.test(line.text)) return undefined;
        pulled = true;
        // Out of the terminal's write path, as a person pulling the USB plug would.
        setImmediate(() => rig.ports.binding.unplug(port));
        return undefined;
      },
    });

    const cut = await rig.provision(port);

    expect(pulled).toBe(true);
    expect(cut.code).toBe(3);
    expect(cut.ms).toBeLessThan(2000);
    expect(cut.stdout).toMatch(/diagnostics +FAILED .*mock:\/\/desk\?diag-time-scale=0\.05/);
    expect(cut.stdout).toMatch(/error: .*mock:\/\/desk/);
    expect(cut.stdout).toMatch(/what to do: .*cable/i);
    // Everything before DIAG is in the terminal's flash.
    expect(terminal.snapshot().binding?.merchant).toBe('822100052110023');
    expect(terminal.connectionCount).toBe(0);

    const rerun = await rig.provision(port);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('already provisioned: nothing changed');
    expect(rig.facts.executions('PASSWD', /\bold=/)).toBe(1);
    expectProvisionedState(terminal.snapshot());
  });
});
