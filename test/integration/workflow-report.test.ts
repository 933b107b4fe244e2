/**
 * A provisioning always resolves to its report, whose outcome says how it ended; what stopped it
 * is the report's `error` (src/host/workflow/report.ts). Only what fails before a run can start
 * (the port does not open: no terminal, no report) is thrown. The engine here is the one the
 * composition root builds (buildRuntime: a LocalEngine, audited), over the rig's mock terminals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/audit/index.js';
import { exitCodeForReport } from '../../src/cli/exit-codes.js';
import { MockPorts } from '../../src/cli/mock-ports.js';
import type { Runtime } from '../../src/cli/runtime.js';
import { PosbridgeError } from '../../src/host/errors.js';
import type { RequestOf } from '../../src/host/operations/index.js';
import { Secret } from '../../src/host/secret.js';
import { DEFAULT_PROFILE } from '../../src/host/workflow/profile.js';
import { createMemoryLink, HostSession } from '../../src/mock-device/index.js';
import { ADMIN_PW, MERCHANT, TERMINAL } from '../support/constants.js';
import { inProcessRuntime } from '../support/runtime.js';

let dir: string;
let mockPorts: MockPorts;
let runtime: Runtime;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-report-'));
  mockPorts = new MockPorts({ defaults: { baud: 0, diagTimeScale: 0, rebootMs: 5 } });
  runtime = await inProcessRuntime({ mockPorts, audit: join(dir, 'audit.sqlite3') });
});

afterEach(async () => {
  await runtime.close();
  await mockPorts.close();
  rmSync(dir, { recursive: true, force: true });
});

function call(port: string): RequestOf<'provision'> {
  return {
    request: {
      port,
      merchant: MERCHANT,
      terminal: TERMINAL,
      adminPassword: new Secret(ADMIN_PW),
      profile: DEFAULT_PROFILE,
      technician: 'tech-tester',
      station: 'station-test',
    },
  };
}

/** The operator passwords the default profile generates are kept nowhere here. */
const quietly = { on: { generated: async () => undefined } };

/** What the audit trail holds of the last run. */
function lastRecorded() {
  const store = AuditStore.open(join(dir, 'audit.sqlite3'), { readonly: true });
  try {
    return store.history()[0];
  } finally {
    store.close();
  }
}

describe('a provisioning resolves to its report however it ends', () => {
  it('a tampered terminal: quarantined, what stopped it inside, recorded, exit 1', async () => {
    const report = await runtime.engine.provision(call('mock://t?tamper=1'), quietly);
    expect(report.outcome).toBe('quarantined');
    expect(report.error).toMatchObject({
      code: 'TAMPERED',
      message: expect.stringMatching(/reports tamper=1/),
      hint: expect.stringMatching(/return it to the vendor/),
    });
    expect(report.steps.map((s) => [s.step, s.outcome])).toEqual([['identify', 'done']]);
    expect(exitCodeForReport(report)).toBe(1);
    // The trail keeps the same outcome and code, and the report names its record.
    expect(lastRecorded()).toMatchObject({ outcome: 'quarantined', error: { code: 'TAMPERED' } });
    expect(report.auditHead).toBe(lastRecorded()?.auditHead);
  });

  it('a locked terminal: failed, stopped before any LOGIN (LOCKED), exit 4 from the report alone', async () => {
    const port = 'mock://locked';
    const person = new HostSession(attach(port));
    for (let i = 0; i < 5; i++) person.send('LOGIN user=admin password=not-it-42');
    person.close();
    const report = await runtime.engine.provision(call(port), quietly);
    expect(report.outcome).toBe('failed');
    expect(report.error?.code).toBe('LOCKED');
    expect(report.steps.at(-1)).toMatchObject({ step: 'login', outcome: 'failed' });
    expect(exitCodeForReport(JSON.parse(JSON.stringify(report)))).toBe(4);
  });

  it('a run that went through has no error', async () => {
    const report = await runtime.engine.provision(call('mock://fine'), quietly);
    expect(report.outcome).toBe('provisioned');
    expect(report.error).toBeUndefined();
    expect(exitCodeForReport(report)).toBe(0);
  });

  it('a port that cannot be opened throws: no terminal, so no report (the trail names the failure)', async () => {
    const error = await runtime.engine
      .provision(call('mock://x?colour=blue'), quietly)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PosbridgeError);
    expect((error as PosbridgeError).code).toBe('USAGE');
    expect((error as PosbridgeError).details.auditHead).toBe(lastRecorded()?.auditHead);
    expect(lastRecorded()).toMatchObject({ outcome: 'failed', error: { code: 'USAGE' } });
  });
});

/** A person at the terminal's other port (in memory, no CRC). */
function attach(port: string) {
  const { link, host } = createMemoryLink('by hand');
  mockPorts.terminal(port).attach(link);
  return host;
}
