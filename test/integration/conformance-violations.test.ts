/**
 * The suite has teeth: a mock terminal that breaks one rule of docs/protocol.md on purpose
 * (`violate:rule=NAME`, docs/mock.md) must fail it, through the CLI as CI runs it (exit 1), with
 * the check that tests that rule named among the failures. Each variant runs only the groups
 * that test its rule, to keep the table quick; a conforming terminal that merely sends unknown
 * events between reply lines (§9: a receiver accepts them) must still pass.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { VIOLATION_NAMES, type Violation } from '../../src/mock-device/index.js';
import { CliHarness } from '../support/cli-inproc.js';

const h = new CliHarness({ diagTimeScale: 0, rebootMs: 50 });
afterAll(() => h.dispose());

/** Each violation: the groups to run, and the checks that must fail. */
const VARIANTS: Record<Violation, { only: string; caughtBy: string[] }> = {
  'no-crc-data': { only: 'crc', caughtBy: ['crc.mirror-with-crc'] },
  'crc-never': { only: 'crc', caughtBy: ['crc.mirror-with-crc', 'crc.bad-crc-460'] },
  'crc-always': { only: 'crc', caughtBy: ['crc.mirror-without-crc'] },
  'no-id-echo': { only: 'ids', caughtBy: ['ids.echoed', 'ids.verbatim'] },
  'id-in-413': { only: 'framing', caughtBy: ['framing.line-of-513-bytes'] },
  'long-replies': {
    only: 'framing,errors',
    caughtBy: ['framing.line-of-513-bytes', 'errors.unknown-command'],
  },
  'no-boot-event': {
    only: 'events,reboot',
    caughtBy: ['events.boot-after-reboot', 'reboot.not-ready-while-down'],
  },
  'cr-not-terminator': { only: 'framing', caughtBy: ['framing.cr-alone'] },
  'no-replay': {
    only: 'replay',
    caughtBy: ['replay.retransmission-replayed', 'replay.wrong-login-costs-one-attempt'],
  },
  'replay-rejections': { only: 'replay', caughtBy: ['replay.not-stored-400', 'replay.not-stored-460'] },
  'auth-before-unknown': { only: 'errors', caughtBy: ['errors.order-404-before-401'] },
  'value-before-auth': { only: 'errors', caughtBy: ['errors.order-401-before-422'] },
  'lockout-never-locks': { only: 'lockout', caughtBy: ['lockout.locks-at-max'] },
  'failures-not-counted': { only: 'lockout', caughtBy: ['lockout.remaining-counts-down'] },
  'lock-never-ends': { only: 'lockout', caughtBy: ['lockout.lock-ends'] },
  'weak-straight-run': { only: 'policy', caughtBy: ['policy.straight-run-up', 'policy.straight-run-down'] },
  'weak-known-default': { only: 'policy', caughtBy: ['policy.known-defaults'] },
  'diag-repeats-first': { only: 'diag', caughtBy: ['diag.names-before-repeats'] },
  'settle-account-clear': { only: 'settings', caughtBy: ['settings.settle.account'] },
  'reset-keeps-logins': { only: 'reset', caughtBy: ['reset.logins-ended'] },
};

interface Result {
  id: string;
  outcome: string;
}

async function conformance(port: string, only: string): Promise<{ code: number; failed: string[] }> {
  const run = await h.run([
    'conformance',
    '--port',
    port,
    '--yes-erase-this-terminal',
    '--only',
    only,
    '--json',
    '--reboot-timeout',
    '2000',
    '--timeout',
    '500',
  ]);
  const report = JSON.parse(run.stdout);
  return {
    code: run.code,
    failed: report.results.filter((r: Result) => r.outcome !== 'pass').map((r: Result) => r.id),
  };
}

describe('broken terminals fail the suite, each by the check of the rule it breaks', () => {
  it('every violation of the mock has a row', () => {
    expect(Object.keys(VARIANTS).sort()).toEqual([...VIOLATION_NAMES].sort());
  });

  it.each(Object.entries(VARIANTS))(
    'violate:rule=%s',
    async (rule, { only, caughtBy }) => {
      const port = `mock://${rule}?fault=${encodeURIComponent(`violate:rule=${rule}`)}`;
      const { code, failed } = await conformance(port, only);
      expect(failed).toEqual(expect.arrayContaining(caughtBy));
      expect(code).toBe(1);
    },
    60_000,
  );

  it('the same groups pass on a conforming terminal that sends unknown events between reply lines', async () => {
    const groups = [...new Set(Object.values(VARIANTS).flatMap((v) => v.only.split(',')))].join(',');
    const port = `mock://noisy?fault=${encodeURIComponent('spurious-evt:p=0.3')}&seed=7`;
    const { code, failed } = await conformance(port, groups);
    expect(failed).toEqual([]);
    expect(code).toBe(0);
  }, 120_000);
});
