/**
 * The suite's runner: a check never hangs the run (reply timeouts, a time limit per check that
 * aborts its waits, and a runner that does not even wait for a check that ignores the abort), a
 * pulled cable stops the run (exit 3 later), and what happens before the first check follows
 * posbridge's rules: nothing but HELLO before the serial number is compared, no credential on a
 * tampered terminal, never a second try of a refused password, never the last attempt.
 */
import { describe, expect, it } from 'vitest';
import { expectOk } from '../../src/conformance/expect.js';
import { type Check, check, runSuite, selectChecks } from '../../src/conformance/index.js';
import { PosbridgeError } from '../../src/host/errors.js';
import { createMemoryLink } from '../../src/host/ports/memory.js';
import { Secret } from '../../src/host/secret.js';
import { MockTerminal } from '../../src/mock-device/index.js';
import { systemTimers } from '../../src/protocol/index.js';
import { bench, runSuiteOn, spyRequests, startSuite } from '../support/conformance-rig.js';

const mock = () => new MockTerminal({ baud: 0, diagTimeScale: 0, rebootMs: 50 });
const byId = (id: string) => selectChecks().find((c) => c.id === id)!;

function custom(name: string, run: Check['run'], budgetMs?: number): Check {
  return check('framing', {
    name,
    section: '§3',
    title: name,
    start: 'factory',
    readOnly: true,
    run,
    ...(budgetMs !== undefined && { budgetMs }),
  });
}

describe('the runner never hangs', () => {
  it('a terminal that never answers HELLO is unreachable (TIMEOUT), within the reply timeout', async () => {
    const { transport, peer } = createMemoryLink('memory://silent');
    peer.onReceive(() => undefined);
    const started = Date.now();
    const error = await runSuite({
      transport,
      checks: selectChecks(),
      groups: ['framing'],
      adminPassword: async () => undefined,
      timers: systemTimers,
      now: () => Date.now(),
      timeoutMs: 100,
      diagTimeoutMs: 100,
      rebootTimeoutMs: 100,
      firstId: 1,
      version: 'test',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PosbridgeError);
    expect((error as PosbridgeError).code).toBe('TIMEOUT');
    expect((error as PosbridgeError).message).toMatch(/no answer to HELLO within 100 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a reply that never comes fails that check (reply timeout) and the run goes on', async () => {
    const terminal = mock();
    terminal.addBehaviour({
      name: 'mute STATUS',
      onRequest: ({ request }) => (request.raw.includes(' status') ? { dropReply: true } : undefined),
    });
    const report = await runSuiteOn(terminal, {
      timeoutMs: 200,
      checks: [byId('framing.verbs-any-case'), byId('framing.crlf')],
    });
    expect(report.results.map((r) => [r.id, r.outcome])).toEqual([
      ['framing.verbs-any-case', 'fail'],
      ['framing.crlf', 'pass'],
    ]);
    expect(report.results[0]!.failure!.message).toMatch(/no final line \(OK or ERR\) within 200 ms/);
  });

  it('a check over its time limit is stopped, its waits aborted, and the next one runs', async () => {
    const report = await runSuiteOn(mock(), {
      checks: [
        custom('sleeps', (t) => t.sleep(60_000), 100),
        custom('never-settles', () => new Promise<void>(() => undefined), 100),
        byId('framing.crlf'),
      ],
    });
    expect(report.results.map((r) => [r.id, r.outcome, r.failure?.message])).toEqual([
      ['framing.sleeps', 'fail', 'the check did not finish within 100 ms'],
      ['framing.never-settles', 'fail', 'the check did not finish within 100 ms'],
      ['framing.crlf', 'pass', undefined],
    ]);
  });

  it('a pulled cable stops the run: that check fails, the rest are skipped, no final RESET', async () => {
    const terminal = mock();
    let pull: () => void = () => undefined;
    const run = startSuite(terminal, {
      checks: [
        custom('pulled', async (t) => {
          pull();
          expectOk(await t.request('STATUS'));
        }),
        byId('framing.crlf'),
      ],
    });
    pull = () => run.peer.close();
    const report = await run.report;
    expect(report.results.map((r) => [r.id, r.outcome])).toEqual([
      ['framing.pulled', 'fail'],
      ['framing.crlf', 'skip'],
    ]);
    expect(report.stopped?.reason).toBe('link-lost');
    expect(report.finalReset).toBe('failed');
  });

  it('late lines of a failed check are not taken for the next check (the line is drained)', async () => {
    const terminal = mock();
    // Every reply to a HELLO comes 300 ms late: after the 100 ms reply timeout.
    terminal.addBehaviour({
      name: 'slow HELLO',
      onRequest: ({ request }) =>
        request.verb === 'HELLO' && request.raw.includes('proto=2') ? { delayMs: 300 } : undefined,
    });
    const report = await runSuiteOn(terminal, {
      timeoutMs: 100,
      settleMs: 400,
      checks: [byId('commands.hello-any-proto'), byId('framing.crlf'), byId('commands.status-factory')],
    });
    expect(report.results.map((r) => [r.id, r.outcome])).toEqual([
      ['commands.hello-any-proto', 'fail'],
      ['framing.crlf', 'pass'],
      ['commands.status-factory', 'pass'],
    ]);
  });
});

describe('before the first check', () => {
  it("a serial number that is not the terminal's stops the run after HELLO, nothing else sent", async () => {
    const terminal = mock();
    const verbs = spyRequests(terminal);
    const error = await runSuiteOn(terminal, { confirmSn: 'PBM9999999' }).catch((e: unknown) => e);
    expect((error as PosbridgeError).code).toBe('USAGE');
    expect((error as PosbridgeError).message).toMatch(/is PBM0000001, not PBM9999999: nothing was changed/);
    expect(verbs).toEqual(['HELLO']);
  });

  it('a tampered terminal gets no credential: HELLO and STATUS only, then TAMPERED', async () => {
    const terminal = new MockTerminal({ baud: 0, tamper: true });
    const verbs = spyRequests(terminal);
    const error = await runSuiteOn(terminal).catch((e: unknown) => e);
    expect((error as PosbridgeError).code).toBe('TAMPERED');
    expect(verbs).toEqual(['HELLO', 'STATUS']);
  });

  it('a provisioned terminal without an admin password: a usage error after HELLO and STATUS', async () => {
    const terminal = mock();
    bench(terminal, 'LOGIN user=admin password=1234', 'PASSWD old=1234 new=Adm1n-2026');
    const verbs = spyRequests(terminal);
    const error = await runSuiteOn(terminal).catch((e: unknown) => e);
    expect((error as PosbridgeError).code).toBe('USAGE');
    expect((error as PosbridgeError).hint).toMatch(/--admin-password-stdin/);
    expect(verbs).toEqual(['HELLO', 'STATUS']);
  });

  it('a wrong admin password is tried once, never again (BAD_CREDENTIALS)', async () => {
    const terminal = mock();
    bench(terminal, 'LOGIN user=admin password=1234', 'PASSWD old=1234 new=Adm1n-2026', 'LOGOUT');
    const verbs = spyRequests(terminal);
    const error = await runSuiteOn(terminal, { adminPassword: new Secret('Not-The-One9') }).catch(
      (e: unknown) => e,
    );
    expect((error as PosbridgeError).code).toBe('BAD_CREDENTIALS');
    expect(verbs).toEqual(['HELLO', 'STATUS', 'LOGIN']);
    expect(bench(terminal, 'STATUS')[0]).toMatch(/attempts_left=4/);
  });

  it('the last attempt is never spent on a password given by a person (LOCKOUT_RISK)', async () => {
    const terminal = mock();
    bench(
      terminal,
      'LOGIN user=admin password=1234',
      'PASSWD old=1234 new=Adm1n-2026',
      ...Array.from({ length: 4 }, () => 'LOGIN user=admin password=Wrong-1x'),
      'LOGOUT',
    );
    const verbs = spyRequests(terminal);
    const error = await runSuiteOn(terminal, { adminPassword: new Secret('Adm1n-2026') }).catch(
      (e: unknown) => e,
    );
    expect((error as PosbridgeError).code).toBe('LOCKOUT_RISK');
    expect(verbs).toEqual(['HELLO', 'STATUS']);
  });

  it('with the right password: one LOGIN, a RESET, the checks, and a RESET again at the end', async () => {
    const terminal = mock();
    bench(
      terminal,
      'LOGIN user=admin password=1234',
      'PASSWD old=1234 new=Adm1n-2026',
      'INIT merchant=104110058120001 terminal=21017745',
    );
    const verbs = spyRequests(terminal);
    const report = await runSuiteOn(terminal, {
      adminPassword: new Secret('Adm1n-2026'),
      checks: [byId('commands.status-factory')],
    });
    expect(report.results[0]!.outcome).toBe('pass');
    expect(verbs.slice(0, 5)).toEqual(['HELLO', 'STATUS', 'LOGIN', 'RESET', 'STATUS']);
    expect(report.finalReset).toBe('done');
    expect(terminal.snapshot().binding).toBeNull();
  });
});
