/**
 * A terminal that restarts in the middle of a provisioning (issue 9, item 8): the run identifies
 * it again, logs in again through the lockout-safe path and goes on, once, without a rerun; the
 * command the restart cut is never sent again blindly (its outcome is read back from the
 * terminal's state). A second restart in the same run stops it (REBOOTED, exit 3) as before.
 *
 * `reboot-at:n=N[,exec=0]` (docs/mock.md): the Nth request the terminal reads restarts it with no
 * reply, having run the command (exec=1) or not (exec=0). A full provisioning is measured once;
 * then every one of its requests is cut, both ways. Math.random is pinned so each run puts the same
 * requests on the wire (IDs and the jitter of the retransmission waits).
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ProvisionReport } from '../../src/host/workflow/report.js';
import {
  expectProvisionedOverTheWire,
  expectProvisionedState,
  onlyJson,
} from '../support/workflow-expect.js';
import { FULL_PROFILE, FULL_PROFILE_ENV, writeProfile } from '../support/workflow-profile.js';
import { ADMIN_PW, OTHER_PW, WorkflowRig, workflowRigs } from '../support/workflow-rig.js';

const newRig = workflowRigs();

/**
 * The verbs of a full provisioning with FULL_PROFILE, in order, as the terminal read them: measured
 * before the tests are collected, so that there is one case per request of the run.
 */
async function measure(): Promise<string[]> {
  const rig = await new WorkflowRig().init();
  try {
    const port = 'mock://measure';
    rig.terminal(port);
    const profile = await writeProfile(rig.path('profile.json'), FULL_PROFILE);
    const run = await rig.provision(port, ['--profile', profile], { env: FULL_PROFILE_ENV });
    if (run.code !== 0) throw new Error(`the measuring run failed: ${run.stdout}${run.stderr}`);
    return rig.meter(port).verbs();
  } finally {
    await rig.close();
  }
}

vi.spyOn(Math, 'random').mockReturnValue(0.25);
const verbs = await measure();
afterAll(() => {
  vi.restoreAllMocks();
});

/** Changes that must run exactly once however the run went: counted on the terminal's side. */
function expectEachChangeOnce(rig: WorkflowRig): void {
  expect(rig.facts.executions('PASSWD', /\bold=/), 'admin PASSWD').toBe(1);
  expect(rig.facts.executions('PASSWD', /\buser=01\b/), 'PASSWD of 01').toBe(1);
  expect(rig.facts.executions('INIT'), 'INIT').toBe(1);
  expect(rig.facts.executions('USER-ADD', /\bid=02\b/), 'USER-ADD 02').toBe(1);
  expect(rig.facts.executions('USER-ADD', /\bid=03\b/), 'USER-ADD 03').toBe(1);
  // No login attempt spent on the way.
  expect(
    rig.facts.executed().filter((e) => ['LOGIN', 'PASSWD'].includes(e.verb) && e.reply !== 'OK'),
  ).toEqual([]);
}

describe('a restart anywhere in a provisioning: logged in again, the run goes on', () => {
  it('the measured run is long enough to cut everywhere', () => {
    expect(verbs.length).toBeGreaterThan(30);
    for (const verb of ['HELLO', 'STATUS', 'LOGIN', 'PASSWD', 'INIT', 'TIME', 'SET', 'USER-ADD', 'DIAG'])
      expect(verbs).toContain(verb);
  });

  const cuts = verbs.flatMap(
    (verb, i): Array<[number, string, number]> => [
      [i + 1, verb, 1],
      [i + 1, verb, 0],
    ],
  );
  it.each(cuts)('request %i (%s) cut by a restart (exec=%i): one run, exit 0', async (n, _verb, exec) => {
    const rig = await newRig();
    const profile = await writeProfile(rig.path('profile.json'), FULL_PROFILE);
    const port = `mock://boot?fault=reboot-at:n=${n},exec=${exec}`;
    const terminal = rig.terminal(port);

    const run = await rig.provision(port, ['--profile', profile, '--json', '--timeout', '100'], {
      env: FULL_PROFILE_ENV,
    });

    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.outcome).toBe('provisioned');
    const cut = rig.meter(port).verbs()[n - 1];
    expect(cut).toBe(verbs[n - 1]);
    const resumes = report.steps.filter((s) => s.step === 'resume');
    expect(resumes).toHaveLength(1);
    expect(resumes[0]!.detail).toMatch(/^the terminal restarted \(EVT boot\) during [a-z-]+: /);
    // The step the restart cut is on the record, then the run from identify on.
    const at = report.steps.indexOf(resumes[0]!);
    expect(report.steps[at - 1]!.outcome).toBe('failed');
    expect(report.steps[at + 1]!.step).toBe('identify');
    expect(report.steps.at(-1)).toMatchObject({ step: 'logout', outcome: 'done' });
    expectEachChangeOnce(rig);
    expectProvisionedState(terminal.snapshot(), FULL_PROFILE);
    expectProvisionedOverTheWire(rig, 'mock://boot', FULL_PROFILE);
  });
});

describe('what the run does after the restart', () => {
  it('the admin PASSWD cut after it ran: not sent again; the new password logs in (STATUS has no factory admin)', async () => {
    const rig = await newRig();
    const n = verbs.indexOf('PASSWD') + 1;
    const port = `mock://boot?fault=reboot-at:n=${n}`;
    const terminal = rig.terminal(port);

    const run = await rig.provision(port, ['--timeout', '100']);

    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/admin-password +FAILED .*the terminal restarted/);
    expect(run.stdout).toMatch(/resume +done +the terminal restarted \(EVT boot\) during admin-password/);
    expect(run.stdout).toMatch(/login +done +logged in as admin with the admin password given/);
    expect(run.stdout).toMatch(/admin-password +already done +admin password already replaced/);
    expect(rig.facts.executions('PASSWD', /\bold=/)).toBe(1);
    expectProvisionedState(terminal.snapshot());
  });

  it('the admin PASSWD cut before it ran: STATUS still lists the factory admin, so the run logs in with it and changes it', async () => {
    const rig = await newRig();
    const n = verbs.indexOf('PASSWD') + 1;
    const port = `mock://boot?fault=reboot-at:n=${n},exec=0`;
    const terminal = rig.terminal(port);

    const run = await rig.provision(port, ['--timeout', '100']);

    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/login +done +logged in as admin with the factory admin password/);
    expect(run.stdout).toMatch(/admin-password +done +factory admin password replaced/);
    expect(rig.facts.executions('PASSWD', /\bold=/)).toBe(1);
    expectProvisionedState(terminal.snapshot());
  });

  it('a second restart in the same run stops it (REBOOTED, exit 3); a rerun finishes', async () => {
    const rig = await newRig();
    const first = verbs.indexOf('INIT') + 1;
    // The second: after the run has gone through identify and login again (HELLO, STATUS,
    // STATUS, LOGIN), at the clock step.
    const second = first + 6;
    const port = `mock://boot?fault=reboot-at:n=${first};reboot-at:n=${second}`;
    const terminal = rig.terminal(port);

    const run = await rig.provision(port, ['--timeout', '100']);

    expect(run.code, run.stdout).toBe(3);
    const read = rig.meter(port).verbs();
    expect(read[second - 1]).toBe('TIME');
    expect(read.slice(0, second).filter((v) => v === 'LOGIN')).toHaveLength(2);
    expect(run.stdout).toMatch(/resume +done/);
    expect(run.stdout).toMatch(
      /error: .*the terminal restarted .*; the terminal had already restarted once in this run/,
    );
    expect(run.stdout).toMatch(/what to do: A terminal that keeps restarting needs a look/);

    const rerun = await rig.provision('mock://boot', ['--timeout', '100']);
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rig.facts.executions('PASSWD', /\bold=/)).toBe(1);
    expect(rig.facts.executions('INIT')).toBe(1);
    expectProvisionedState(terminal.snapshot());
  });
});

describe('a LOGIN the restart cut, with a password not known to be right', () => {
  /**
   * A terminal provisioned before (its admin password is not the factory one, so the run logs in
   * with the password given, which posbridge cannot know is right), whose next LOGIN is cut by a
   * restart after it ran. `lockout` sets lockout.max first (0: disabled).
   */
  async function provisionedTerminal(rig: WorkflowRig, lockout?: number) {
    const port = 'mock://done';
    const terminal = rig.terminal(port);
    const first = await rig.provision(port);
    expect(first.code, first.stdout).toBe(0);
    if (lockout !== undefined) {
      const person = rig.byHand(port);
      expect(person.send(`LOGIN user=admin password="${ADMIN_PW}"`)).toEqual(['OK user=admin must_change=0']);
      expect(person.send(`SET key=lockout.max value=${lockout}`)[0]).toMatch(/^OK/);
      person.close();
    }
    let cut = false;
    terminal.addBehaviour(
      {
        name: 'test:reboot-at-login',
        onRequest: (info) => {
          if (cut || info.request.verb !== 'LOGIN') return undefined;
          cut = true;
          return { reboot: 'after' };
        },
      },
      'first',
    );
    rig.facts.clear();
    return { port, terminal, logins: () => rig.facts.executions('LOGIN') };
  }

  it('the right password: the count did not drop, so it is sent again and the run finishes', async () => {
    const rig = await newRig();
    const { port, terminal, logins } = await provisionedTerminal(rig);

    const run = await rig.provision(port, ['--timeout', '100']);

    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/resume +done +the terminal restarted \(EVT boot\) during login/);
    expect(logins()).toBe(2);
    expect(terminal.snapshot().lockout).toEqual({ failures: 0, lockedUntil: null });
  });

  it('a wrong password: the terminal counted a failure, so it is never sent again (exit 1)', async () => {
    const rig = await newRig();
    const { port, terminal, logins } = await provisionedTerminal(rig);

    const run = await rig.provision(port, ['--timeout', '100'], { password: OTHER_PW });

    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toMatch(
      /error: the terminal counted a failed attempt for the LOGIN a restart interrupted \(5 attempts left before it, 4 now\): the admin password given was most likely rejected; posbridge never resends a rejected password/,
    );
    expect(logins()).toBe(1);
    expect(terminal.snapshot().lockout.failures).toBe(1);
  });

  it('with lockout disabled there is no count to tell: it stops (REBOOTED, exit 3) and sends it once', async () => {
    const rig = await newRig();
    const { port, logins } = await provisionedTerminal(rig, 0);

    const run = await rig.provision(port, ['--timeout', '100'], { password: OTHER_PW });

    expect(run.code, run.stdout).toBe(3);
    expect(run.stdout).toMatch(
      /error: the terminal restarted before answering the LOGIN with the admin password given, and with lockout disabled STATUS counts no failed attempt/,
    );
    expect(logins()).toBe(1);
  });
});
