/**
 * RemoteEngine against the in-process engine: the same calls on two identical mock worlds, one in
 * this process and one behind the daemon's socket (both engines as the composition root builds
 * them, each audited in its own trail), give deep-equal reports (but for the audit head, a hash of
 * its own trail), the same callbacks in the same order (steps, identification, checks, generated
 * passwords) and the same errors (class, code, message, hint, details, exit code). That is what
 * lets every CLI command behave identically through the daemon.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeFor, exitCodeForReport } from '../../src/cli/exit-codes.js';
import type { Runtime } from '../../src/cli/runtime.js';
import { RemoteEngine } from '../../src/daemon/api/client.js';
import type { Engine, OperatorAction } from '../../src/host/engine.js';
import { PosbridgeError, TerminalError } from '../../src/host/errors.js';
import { type RequestOf, readOperatorPasswords } from '../../src/host/operations/index.js';
import { Secret } from '../../src/host/secret.js';
import { profileSchema } from '../../src/host/workflow/profile.js';
import type { ProvisionReport, StepRecord, TerminalIdentity } from '../../src/host/workflow/report.js';
import {
  ADMIN_PW,
  MERCHANT,
  MockWorld,
  type RunningDaemon,
  scratchDir,
  startDaemon,
  TERMINAL,
  withoutAuditHead,
} from './api-rig.helper.js';

let local: MockWorld;
let localRuntime: Runtime;
let localEngine: Engine;
let localDir: string;
let daemon: RunningDaemon;
let remote: RemoteEngine;

beforeEach(async () => {
  local = new MockWorld();
  localDir = scratchDir();
  localRuntime = await local.runtime(join(localDir, 'audit.sqlite3'));
  localEngine = localRuntime.engine;
  daemon = await startDaemon();
  remote = new RemoteEngine(daemon.socket);
});

afterEach(async () => {
  remote.close();
  await daemon.stop();
  await localRuntime.close();
  await local.close();
  rmSync(localDir, { recursive: true, force: true });
});

/** What a call gave, in a form two worlds can be compared in. */
async function outcome<T>(promise: Promise<T>): Promise<unknown> {
  try {
    const value = withoutAuditHead(await promise);
    // A run that stopped early resolves to its report: what stopped it, and the exit code.
    const stopped = value as Partial<ProvisionReport>;
    if (stopped.kind === 'provision' && stopped.error) {
      const report = { ...stopped, error: withoutRequestId(stopped.error) } as ProvisionReport;
      return { value: report, exit: exitCodeForReport(report) };
    }
    return { value };
  } catch (error) {
    return {
      error: {
        class: (error as Error).constructor.name,
        json: error instanceof PosbridgeError ? withoutRequestId(error.toJSON()) : String(error),
        exit: exitCodeFor(error),
        ...(error instanceof TerminalError && { status: error.status, reason: error.reason }),
      },
    };
  }
}

/**
 * A request ID is drawn at random per session, and an audit head hashes its own trail: the things
 * two worlds cannot share.
 */
function withoutRequestId<T extends Record<string, unknown>>(json: T): Omit<T, 'id' | 'auditHead'> {
  const { id, auditHead: _head, ...rest } = json;
  if (id !== undefined) expect(id).toMatch(/^[0-9]+$/);
  return rest;
}

/** Runs `body` on both engines and expects the same outcome; returns it. */
// biome-ignore lint/suspicious/noExplicitAny: reports and errors, read field by field in the tests
async function same(body: (engine: Engine) => Promise<unknown>): Promise<any> {
  const there = await outcome(body(remote));
  const here = await outcome(body(localEngine));
  expect(there).toEqual(here);
  return here;
}

const PROFILE = profileSchema.parse({
  settings: {
    'net.mode': 'eth',
    'host.addr': 'acq.example.com',
    'host.port': 7001,
    'settle.account': '6222020200112233445',
  },
  operators: [
    { id: '02', name: 'Cashier', perms: ['sale', 'query'] },
    { id: '03', name: 'Supervisor', perms: ['sale', 'refund', 'report'], password: { env: 'OP03' } },
  ],
});

interface Recorded {
  steps: unknown[];
  identified: unknown[];
  generated: Array<[string, string]>;
}

/** A provisioning as the CLI makes one: its request, its handlers, where operator passwords come from. */
interface ProvisionCall {
  request: RequestOf<'provision'>['request'];
  onStep?: (step: StepRecord) => void;
  onIdentified?: (terminal: TerminalIdentity) => void;
  recordGenerated?: ((id: string, password: Secret) => Promise<void>) | undefined;
  readOperatorSecret: (id: string) => Promise<Secret>;
}

/** Runs `call` on `engine` as the CLI does: operator passwords read first, events to the handlers. */
async function provisionOn(engine: Engine, call: ProvisionCall): Promise<ProvisionReport> {
  const { recordGenerated } = call;
  return engine.provision(
    {
      request: call.request,
      operatorPasswords: await readOperatorPasswords(call.request.profile, call.readOperatorSecret),
    },
    {
      on: {
        ...(call.onStep && { step: call.onStep }),
        ...(call.onIdentified && { identified: call.onIdentified }),
        ...(recordGenerated && { generated: ({ id, password }) => recordGenerated(id, password) }),
      },
    },
  );
}

function provisionCall(
  port: string,
  recorded: Recorded,
  overrides: Partial<ProvisionCall> = {},
): ProvisionCall {
  return {
    request: {
      port,
      merchant: MERCHANT,
      terminal: TERMINAL,
      name: 'Corner Shop',
      adminPassword: new Secret(ADMIN_PW),
      profile: PROFILE,
      technician: 'tech',
      station: 'bench-1',
    },
    onStep: (step) => recorded.steps.push(step),
    onIdentified: (terminal) => recorded.identified.push(terminal),
    recordGenerated: async (id, password) => {
      expect(password).toBeInstanceOf(Secret);
      recorded.generated.push([id, password.reveal()]);
    },
    readOperatorSecret: async (id) => {
      if (id === '03') return new Secret('Sup3r-Visor-88');
      throw new PosbridgeError('USAGE', `no password source for operator ${id}`);
    },
    ...overrides,
  };
}

function recorder(): Recorded {
  return { steps: [], identified: [], generated: [] };
}

async function provisionBoth(port: string) {
  const there = recorder();
  const here = recorder();
  const remoteRun = await provisionOn(remote, provisionCall(port, there));
  const localRun = await provisionOn(localEngine, provisionCall(port, here));
  const heads = [remoteRun.auditHead, localRun.auditHead];
  return {
    there,
    here,
    remoteReport: withoutAuditHead(remoteRun),
    localReport: withoutAuditHead(localRun),
    heads,
  };
}

describe('RemoteEngine gives what LocalEngine gives', () => {
  it('info', async () => {
    const result = await same((e) => e.info({ port: 'mock://a' }));
    expect(result.value).toMatchObject({ kind: 'info', hello: { sn: 'PBM0000001' } });
  });

  it('provision: the report, its steps as they happen, the identification and the generated passwords', async () => {
    const { there, here, remoteReport, localReport, heads } = await provisionBoth('mock://a');
    // Both audited, each in its own trail (the daemon's, this process's).
    expect(heads).toEqual([
      expect.stringMatching(/^\d+:[0-9a-f]+$/),
      expect.stringMatching(/^\d+:[0-9a-f]+$/),
    ]);
    expect(remoteReport).toEqual(localReport);
    expect(localReport.outcome).toBe('provisioned');
    expect(there.steps).toEqual(here.steps);
    expect(there.steps).toEqual(localReport.steps);
    expect(there.identified).toEqual([{ model: 'PB-MOCK', sn: 'PBM0000001', fw: '1.0.0' }]);
    expect(there.identified).toEqual(here.identified);
    expect(there.generated.map(([id]) => id)).toEqual(['02', '01']);
    expect(there.generated).toEqual(here.generated);
    // The recorded passwords are the ones the terminal got: operator 02 logs in with it.
    const state = daemon.world.mockPorts.terminal('mock://a').snapshot();
    expect(Object.keys(state.operators).sort()).toEqual(['01', '02', '03']);
    const lease = await daemon.portManager.lease('mock://a');
    try {
      const password = new Secret(there.generated.find(([id]) => id === '02')![1]);
      expect(await lease.login('02', password)).toMatchObject({ user: '02', mustChange: true });
      await lease.logout();
    } finally {
      await lease.close();
    }

    // Again: already provisioned, still the same on both sides.
    const again = await provisionBoth('mock://a');
    expect(again.remoteReport).toEqual(again.localReport);
    expect(again.localReport.outcome).toBe('already-provisioned');
    expect(again.there.generated).toEqual([]);
  });

  it('provision --dry-run', async () => {
    const dryRun = (r: Recorded): ProvisionCall => {
      const call = provisionCall('mock://a', r);
      return { ...call, request: { ...call.request, dryRun: true } };
    };
    const result = await same((e) => provisionOn(e, dryRun(recorder())));
    expect(result.value.outcome).toBe('planned');
  });

  it('provision --dry-run needs no admin password; a real run without one stops the same way', async () => {
    const withoutPassword = (r: Recorded, dryRun: boolean): ProvisionCall => {
      const call = provisionCall('mock://a', r);
      const { adminPassword: _omitted, ...request } = call.request;
      return { ...call, request: { ...request, dryRun } };
    };
    const dry = await same((e) => provisionOn(e, withoutPassword(recorder(), true)));
    expect(dry.value.outcome).toBe('planned');
    const real = await same((e) => provisionOn(e, withoutPassword(recorder(), false)));
    expect(real).toMatchObject({ value: { outcome: 'failed', error: { code: 'USAGE' } }, exit: 2 });
  });

  it('diag, with and without the per-check callback', async () => {
    await provisionBoth('mock://a');
    const checksThere: unknown[] = [];
    const checksHere: unknown[] = [];
    const there = await remote.diag(
      {
        port: 'mock://a',
        adminPassword: new Secret(ADMIN_PW),
      },
      { on: { check: (r) => checksThere.push(r) } },
    );
    const here = await localEngine.diag(
      {
        port: 'mock://a',
        adminPassword: new Secret(ADMIN_PW),
      },
      { on: { check: (r) => checksHere.push(r) } },
    );
    expect(there).toEqual(here);
    expect(checksThere).toEqual(checksHere);
    expect(checksThere).toEqual(here.diagnostics.results);
    const some = await same((e) =>
      e.diag({ port: 'mock://a', adminPassword: new Secret(ADMIN_PW), checks: ['printer', 'clock'] }),
    );
    expect(some.value.diagnostics.results.map((r: { check: string }) => r.check)).toEqual([
      'printer',
      'clock',
    ]);
  });

  it('diag on a terminal with a failing check', async () => {
    const port = 'mock://f?diag-fail=printer:paper_out';
    await provisionBoth(port);
    const result = await same((e) => e.diag({ port: port, adminPassword: new Secret(ADMIN_PW) }));
    expect(result.value.diagnostics.fail).toBe(1);
  });

  it('passwd and every operator action', async () => {
    await provisionBoth('mock://a');
    const admin = new Secret(ADMIN_PW);
    const actions: OperatorAction[] = [
      { action: 'list' },
      { action: 'add', id: '04', name: 'Evening', perms: ['sale'], password: new Secret('Ev3ning-Shift-4') },
      { action: 'set', id: '04', perms: ['sale', 'refund'] },
      { action: 'set', id: '04', name: 'Late evening' },
      { action: 'del', id: '04' },
    ];
    for (const operation of actions) {
      const result = await same((e) => e.operator({ port: 'mock://a', adminPassword: admin, operation }));
      expect(result.value.action).toBe(operation.action);
    }
    await same((e) =>
      e.passwd({
        port: 'mock://a',
        user: '02',
        adminPassword: admin,
        newPassword: new Secret('N3w-Cashier-22'),
      }),
    );
    const changed = await same((e) =>
      e.passwd({ port: 'mock://a', adminPassword: admin, newPassword: new Secret('N3w-Adm1n-Pass!') }),
    );
    expect(changed.value).toMatchObject({ kind: 'passwd', user: 'admin' });
  });
});

describe('RemoteEngine raises what LocalEngine raises', () => {
  it('a terminal error keeps its class, status, reason, hint and exit code', async () => {
    await provisionBoth('mock://a');
    const result = await same((e) =>
      e.operator({
        port: 'mock://a',
        adminPassword: new Secret(ADMIN_PW),
        operation: { action: 'set', id: '55', name: 'Nobody' },
      }),
    );
    expect(result.error).toMatchObject({
      class: 'TerminalError',
      status: 422,
      reason: 'unknown-user',
      exit: 1,
    });
  });

  it('a wrong admin password', async () => {
    await provisionBoth('mock://a');
    const result = await same((e) =>
      e.diag({ port: 'mock://a', adminPassword: new Secret('Wr0ng-Guess-77') }),
    );
    expect(result.error.json.code).toBe('BAD_CREDENTIALS');
  });

  it('passwd on a terminal that still has its factory password', async () => {
    const result = await same((e) =>
      e.passwd({
        port: 'mock://a',
        adminPassword: new Secret(ADMIN_PW),
        newPassword: new Secret('N3w-Adm1n-Pass!'),
      }),
    );
    expect(result.error).toMatchObject({ class: 'PosbridgeError', json: { code: 'NOT_PROVISIONED' } });
  });

  it('a bad port name', async () => {
    const result = await same((e) => e.info({ port: 'mock://a?colour=blue' }));
    expect(result.error.json).toMatchObject({ code: 'USAGE', message: 'unknown mock:// option "colour"' });
  });

  it('a stopped run resolves to the same report on both sides (tampered terminal)', async () => {
    const result = await same((e) => provisionOn(e, provisionCall('mock://t?tamper=1', recorder())));
    expect(result).toMatchObject({
      value: { outcome: 'quarantined', error: { code: 'TAMPERED' } },
      exit: 1,
    });
  });

  it('an operator password the caller cannot read stops the run the same way', async () => {
    const call = (r: Recorded) =>
      provisionCall('mock://a', r, {
        readOperatorSecret: async () => {
          throw new PosbridgeError('USAGE', 'OP03 is empty', { hint: 'set it' });
        },
      });
    const result = await same((e) => provisionOn(e, call(recorder())));
    expect(result.value).toMatchObject({
      outcome: 'failed',
      error: { code: 'USAGE', message: 'OP03 is empty', hint: 'set it' },
    });
    // And a callback that fails with a plain Error is reported as the engine reports it.
    const plain = await same((e) =>
      provisionOn(
        e,
        provisionCall('mock://b', recorder(), {
          readOperatorSecret: async () => {
            throw new Error('disk on fire');
          },
        }),
      ),
    );
    expect(plain.value.error.message).toMatch(/disk on fire/);
  });

  it('a recorder that fails: the password is not sent, on both sides', async () => {
    const call = (r: Recorded) =>
      provisionCall('mock://a', r, {
        recordGenerated: async () => {
          throw new PosbridgeError('USAGE', 'cannot write the credentials file: EACCES');
        },
      });
    const result = await same((e) => provisionOn(e, call(recorder())));
    expect(result.value.steps.at(-1)).toMatchObject({ step: 'operators', outcome: 'failed' });
    const remoteState = daemon.world.mockPorts.terminal('mock://a').snapshot();
    const localState = local.mockPorts.terminal('mock://a').snapshot();
    expect(Object.keys(remoteState.operators)).toEqual(['01']);
    expect(Object.keys(localState.operators)).toEqual(['01']);
  });

  it('no recorder: generated passwords are dropped on both sides (as the engine does)', async () => {
    const result = await same((e) =>
      provisionOn(e, provisionCall('mock://a', recorder(), { recordGenerated: undefined })),
    );
    expect(result.value.outcome).toBe('provisioned');
  });
});

describe('RemoteEngine on its own', () => {
  it('lists terminals and follows events', async () => {
    const seen: string[] = [];
    const subscription = await remote.events((event) => seen.push(event.type));
    await daemon.portManager.plug('mock://a');
    expect((await remote.terminals()).map((t) => t.port)).toEqual(['mock://a']);
    await provisionOn(remote, provisionCall('mock://a', recorder()));
    await expect.poll(() => seen.at(-1)).toBe('operation-finished');
    expect(seen[0]).toBe('terminal-added');
    expect(seen.filter((t) => t === 'step').length).toBeGreaterThan(5);
    subscription.close();
    await subscription.ended;
    expect((await remote.health()).pid).toBe(process.pid);
  });

  it('a daemon that went away is DISCONNECTED, with a hint', async () => {
    await daemon.daemon.stop();
    const error = await remote.info({ port: 'mock://a' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PosbridgeError);
    expect((error as PosbridgeError).code).toBe('DISCONNECTED');
    expect((error as PosbridgeError).message).toContain(daemon.socket);
    expect(exitCodeFor(error)).toBe(3);
  });
});
