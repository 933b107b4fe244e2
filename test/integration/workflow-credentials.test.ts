/**
 * Terminals are precious (docs/architecture.md, "Lockout safety lives in one place": "A tool that burns login attempts bricks the terminal for the
 * technician: never retry a rejected password"; "A terminal whose STATUS says tamper=1 is
 * quarantined: no credential is set"). What the terminal saw is counted on its side: LOGIN and
 * PASSWD requests read (the cable meter) and attempts spent (its lockout count).
 */
import { describe, expect, it } from 'vitest';
import type { ProvisionReport } from '../../src/host/workflow/report.js';
import { onlyJson } from '../support/workflow-expect.js';
import { ADMIN_PW, OTHER_PW, type WorkflowRig, workflowRigs } from '../support/workflow-rig.js';

const newRig = workflowRigs();

const LOCKOUT_MAX = 5;

/** Wrong admin logins typed by hand on another cable; returns the terminal's last answer. */
function failLoginsByHand(rig: WorkflowRig, port: string, times: number): string {
  const person = rig.byHand(port);
  let last = '';
  for (let i = 0; i < times; i++) last = person.send('LOGIN user=admin password=not-it-42').join('\n');
  person.close();
  return last;
}

function statusByHand(rig: WorkflowRig, port: string): string {
  const person = rig.byHand(port);
  const [status] = person.send('STATUS');
  person.close();
  return status!;
}

describe('a stored admin password that is wrong', () => {
  it('costs exactly one attempt, is reported as rejected and is not resent (exit 1)', async () => {
    const rig = await newRig();
    const port = 'mock://wrongpw';
    const terminal = rig.terminal(port);
    expect((await rig.provision(port)).code).toBe(0);
    rig.meter(port).reset();
    rig.facts.clear();
    const before = terminal.snapshot();

    const run = await rig.provision(port, [], { password: OTHER_PW });

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /error: the terminal rejected the admin password given \(4 attempts left\); posbridge never resends a rejected password/,
    );
    expect(run.stdout).toMatch(/login +FAILED/);
    // One LOGIN read, none resent, one attempt spent; nothing else changed.
    expect(rig.meter(port).count('LOGIN')).toBe(1);
    expect(rig.facts.executions('LOGIN')).toBe(1);
    expect(rig.meter(port).verbs()).not.toContain('PASSWD');
    const after = terminal.snapshot();
    expect(after.lockout).toEqual({ failures: 1, lockedUntil: null });
    expect(statusByHand(rig, port)).toContain(`attempts_left=${LOCKOUT_MAX - 1}`);
    expect({ ...after, lockout: before.lockout }).toEqual(before);
  });

  it('with one attempt left, it is not tried at all (exit 4, zero attempts spent)', async () => {
    const rig = await newRig();
    const port = 'mock://lastattempt';
    const terminal = rig.terminal(port);
    expect((await rig.provision(port)).code).toBe(0);
    expect((await rig.provision(port, [], { password: OTHER_PW })).code).toBe(1);
    failLoginsByHand(rig, port, LOCKOUT_MAX - 2);
    expect(statusByHand(rig, port)).toContain('attempts_left=1');
    rig.meter(port).reset();

    const run = await rig.provision(port, ['--json'], { password: OTHER_PW });

    expect(run.code).toBe(4);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.outcome).toBe('failed');
    expect(report.error?.code).toBe('LOCKOUT_RISK');
    expect(report.error?.message).toMatch(/only 1 (login )?attempt left .* posbridge will not spend it/);
    expect(rig.meter(port).count('LOGIN')).toBe(0);
    expect(terminal.snapshot().lockout).toEqual({ failures: LOCKOUT_MAX - 1, lockedUntil: null });
    expect(statusByHand(rig, port)).toContain('attempts_left=1');
  });

  it('with one attempt left even the right password is not tried: nothing proves it is right', async () => {
    const rig = await newRig();
    const port = 'mock://lastattempt2';
    const terminal = rig.terminal(port);
    expect((await rig.provision(port)).code).toBe(0);
    failLoginsByHand(rig, port, LOCKOUT_MAX - 1);
    rig.meter(port).reset();

    const run = await rig.provision(port);

    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/error: only 1 (login )?attempt left/);
    expect(run.stdout).toMatch(/what to do: .*log in by hand/);
    expect(run.stdout).toMatch(
      /what to do: One attempt left; posbridge will not spend it on a password it does not know is right\. Waiting does not give attempts back/,
    );
    expect(rig.meter(port).count('LOGIN')).toBe(0);
    expect(terminal.snapshot().lockout.failures).toBe(LOCKOUT_MAX - 1);
  });
});

describe('a locked terminal', () => {
  it.each([
    ['factory', false],
    ['provisioned', true],
  ])('%s: exit 4, no LOGIN sent, the lock left as it was', async (_label, provisioned) => {
    const rig = await newRig();
    const port = `mock://locked-${_label}`;
    const terminal = rig.terminal(port);
    if (provisioned) expect((await rig.provision(port)).code).toBe(0);
    expect(failLoginsByHand(rig, port, LOCKOUT_MAX)).toMatch(
      /^ERR code=401 reason=bad-credentials remaining=0/,
    );
    expect(statusByHand(rig, port)).toContain('locked=1');
    const before = terminal.snapshot();
    rig.meter(port).reset();

    const run = await rig.provision(port);

    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(
      /error: the terminal is locked after failed login attempts; posbridge sent no password/,
    );
    expect(run.stdout).toMatch(
      /what to do: The terminal stays locked until its lockout time runs out .* Waiting ends the lock but does not recover the password/,
    );
    expect(rig.meter(port).verbs()).toEqual(['HELLO', 'STATUS', 'STATUS']);
    expect(terminal.snapshot()).toEqual(before);
  });

  it('--json says LOCKED with the report of what was read', async () => {
    const rig = await newRig();
    const port = 'mock://locked-json';
    rig.terminal(port);
    failLoginsByHand(rig, port, LOCKOUT_MAX);

    const run = await rig.provision(port, ['--json']);

    expect(run.code).toBe(4);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report).toMatchObject({ outcome: 'failed', error: { code: 'LOCKED' } });
    expect(report.terminal?.sn).toBe('PBM0000001');
    expect(report.steps.map((s) => [s.step, s.outcome])).toEqual([
      ['identify', 'done'],
      ['login', 'failed'],
    ]);
  });
});

describe('a tampered terminal', () => {
  it('is quarantined: exit 1, no LOGIN or PASSWD sent, the report says why', async () => {
    const rig = await newRig();
    const port = 'mock://t?tamper=1';
    const terminal = rig.terminal(port);
    const seen: string[] = [];
    terminal.addBehaviour({
      name: 'test:credential-watch',
      onRequest: ({ request }) => {
        seen.push(request.verb);
        return undefined;
      },
    });
    const before = terminal.snapshot();

    const run = await rig.provision(port, ['--json']);

    expect(run.code).toBe(1);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.outcome).toBe('quarantined');
    expect(report.error?.code).toBe('TAMPERED');
    expect(report.error?.message).toMatch(/reports tamper=1: quarantined, no credential was touched/);
    expect(report.error?.hint).toMatch(/return it to the vendor/);
    expect(seen).not.toContain('LOGIN');
    expect(seen).not.toContain('PASSWD');
    expect(seen).toEqual(['HELLO', 'STATUS']);
    expect(terminal.snapshot()).toEqual(before);
    expect(terminal.snapshot().admin.factoryPassword).toBe(true);
  });

  it('says QUARANTINED to people', async () => {
    const rig = await newRig();
    const port = 'mock://t2?tamper=1';
    rig.terminal(port);
    const run = await rig.provision(port);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('QUARANTINED: tampered terminal, no credential touched');
    expect(rig.meter(port).verbs()).toEqual(['HELLO', 'STATUS']);
  });
});

describe('the new admin password is never the one rejected', () => {
  it('a second run with the right password after a rejected one finishes, spending no more attempts', async () => {
    const rig = await newRig();
    const port = 'mock://recover';
    const terminal = rig.terminal(port);
    expect((await rig.provision(port)).code).toBe(0);
    expect((await rig.provision(port, [], { password: OTHER_PW })).code).toBe(1);
    expect(terminal.snapshot().lockout.failures).toBe(1);

    const run = await rig.provision(port, [], { password: ADMIN_PW });

    expect(run.code).toBe(0);
    // A successful login resets the count.
    expect(terminal.snapshot().lockout).toEqual({ failures: 0, lockedUntil: null });
  });
});
