/**
 * A bad line (TSP/1, "At-most-once execution"): replies lost (`drop`) or damaged (`corrupt`) are
 * recovered by retransmitting the same request with the same ID; the terminal replays its stored
 * reply instead of executing again. Provisioning over such a line must succeed, and the terminal
 * must have executed every changing command exactly once (its log tells executions from replays).
 *
 * The seeds are fixed (the same seed gives the same faults) and chosen so that no request loses
 * all four of its tries (3 retransmissions) and no DIAG reply is dropped (DIAG's reply timeout
 * is 15 s and not shortened by --timeout); --timeout 250 keeps each lost reply's cost small (and
 * well above the in-process round trip, so no spurious retransmission shifts the seeded draws).
 */
import { describe, expect, it } from 'vitest';
import type { ProvisionReport } from '../../src/host/workflow/report.js';
import {
  expectProvisionedOverTheWire,
  expectProvisionedState,
  onlyJson,
} from '../support/workflow-expect.js';
import { FULL_PROFILE, FULL_PROFILE_ENV, writeProfile } from '../support/workflow-profile.js';
import { workflowRigs } from '../support/workflow-rig.js';

const newRig = workflowRigs();

describe('provisioning over a lossy line', () => {
  it.each([
    ['drop:p=0.3', 4],
    ['drop:p=0.3;corrupt:p=0.05', 8],
  ])(
    '%s (seed %i): succeeds by retransmission, each command executed once',
    async (fault, seed) => {
      const rig = await newRig();
      const port = `mock://noisy?fault=${fault}&seed=${seed}`;
      const terminal = rig.terminal(port);
      const profile = await writeProfile(rig.path('profile.json'), FULL_PROFILE);

      const run = await rig.provision(port, ['--profile', profile, '--json', '--timeout', '250'], {
        env: FULL_PROFILE_ENV,
      });

      expect(run.code, run.stdout + run.stderr).toBe(0);
      const report = onlyJson<ProvisionReport>(run.stdout);
      expect(report.outcome).toBe('provisioned');
      // The line really was bad: replies were lost and the retransmissions were replayed.
      const lost = rig.facts.executed().filter((e) => e.replyDropped).length;
      const replayed = rig.facts.requests().filter((r) => r.outcome === 'replayed').length;
      expect(lost).toBeGreaterThanOrEqual(5);
      expect(replayed).toBeGreaterThanOrEqual(lost);
      expect(run.stderr).toContain('resending request');
      if (fault.includes('corrupt')) expect(run.stderr).toMatch(/"reason":"(unreadable|bad-crc)"/);

      // Every changing command ran exactly once.
      expect(rig.facts.executions('PASSWD', /\bold=/)).toBe(1);
      expect(rig.facts.executions('PASSWD', /\buser=01\b/)).toBe(1);
      expect(rig.facts.executions('INIT')).toBe(1);
      expect(rig.facts.executions('TIME', /\butc=/)).toBe(1);
      expect(rig.facts.executions('USER-ADD', /\bid=02\b/)).toBe(1);
      expect(rig.facts.executions('USER-ADD', /\bid=03\b/)).toBe(1);
      for (const key of Object.keys(FULL_PROFILE.settings!))
        expect(rig.facts.executions('SET', new RegExp(`key=${key.replace(/\./g, '\\.')} `)), key).toBe(1);
      expect(rig.facts.executions('LOGIN')).toBe(1);
      expect(rig.facts.executions('DIAG')).toBe(1);

      expectProvisionedState(terminal.snapshot(), FULL_PROFILE);
      // The line is mended (the faults removed) before a person checks the terminal by hand.
      for (const behaviour of [...terminal.behaviours])
        if (!behaviour.name.startsWith('test:')) terminal.removeBehaviour(behaviour);
      expectProvisionedOverTheWire(rig, port, FULL_PROFILE);
    },
    60_000,
  );
});
