/**
 * The local API over its Unix socket, spoken as curl would: routes and their shapes, the event
 * streams (hub events, an operation's own steps), validation at the boundary (400 naming the
 * field, never a stack), secrets kept out of logs, and the socket's permissions. The daemon runs
 * the engine the composition root builds for it (a LocalEngine, audited) over mock:// terminals
 * leased from an in-memory port manager.
 */
import { lstatSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon/api/lifecycle.js';
import type { Engine } from '../../src/host/engine.js';
import {
  ADMIN_PW,
  call,
  EventStream,
  fixedNow,
  MERCHANT,
  MockWorld,
  type RunningDaemon,
  recordingLogger,
  scratchDir,
  startDaemon,
  TERMINAL,
} from './api-rig.helper.js';

const running: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

async function daemon(options: Parameters<typeof startDaemon>[0] = {}): Promise<RunningDaemon> {
  const d = await startDaemon(options);
  running.push(d);
  return d;
}

function provisionBody(port: string, extra: Record<string, unknown> = {}) {
  return {
    request: {
      port,
      merchant: MERCHANT,
      terminal: TERMINAL,
      adminPassword: ADMIN_PW,
      technician: 'tech',
      station: 'bench-1',
      ...extra,
    },
  };
}

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at |stack|\.ts:\d+/);
}

describe('GET routes', () => {
  it('/v1/health names the daemon, its pid and socket', async () => {
    const d = await daemon();
    const reply = await call(d.socket, 'GET', '/v1/health');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.json).toMatchObject({
      service: 'posbridge',
      api: 'v1',
      pid: process.pid,
      socket: d.socket,
      state: 'running',
      operations: 0,
    });
  });

  it('/v1/terminals lists what the hub knows, with identity and state', async () => {
    const d = await daemon({ mock: { identity: { sn: 'PBA0000042' } } });
    expect((await call(d.socket, 'GET', '/v1/terminals')).json).toEqual({ terminals: [] });
    await d.portManager.plug('mock://a');
    const reply = await call(d.socket, 'GET', '/v1/terminals');
    expect(reply.json.terminals).toHaveLength(1);
    expect(reply.json.terminals[0]).toMatchObject({
      port: 'mock://a',
      state: 'present',
      hello: { sn: 'PBA0000042', state: 'factory' },
      status: { factoryPw: ['admin', '01'] },
    });
  });

  it('/v1/events streams hub events as they happen, with heartbeat comments', async () => {
    const d = await daemon({ heartbeatMs: 40 });
    const stream = await EventStream.open(d.socket, 'GET', '/v1/events');
    expect(stream.status).toBe(200);
    await d.portManager.plug('mock://a');
    const added = await stream.waitFor((e) => e.event === 'terminal-added', 'terminal-added');
    expect(added.data).toMatchObject({
      type: 'terminal-added',
      terminal: { port: 'mock://a', state: 'present' },
    });
    await d.portManager.unplug('mock://a');
    const removed = await stream.waitFor((e) => e.event === 'terminal-removed', 'terminal-removed');
    expect(removed.data.terminal).toMatchObject({ port: 'mock://a', state: 'gone' });
    await stream.waitForRaw(/^: heartbeat$/m);
    stream.close();
  });
});

describe('operations', () => {
  it('POST /v1/info answers the InfoReport as JSON', async () => {
    const d = await daemon();
    const reply = await call(d.socket, 'POST', '/v1/info', { port: 'mock://a' });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ kind: 'info', port: 'mock://a', hello: { sn: 'PBM0000001' } });
  });

  it('POST /v1/provision answers the ProvisionReport; the hub hears its steps in order', async () => {
    const d = await daemon();
    const hub = await EventStream.open(d.socket, 'GET', '/v1/events');
    const reply = await call(d.socket, 'POST', '/v1/provision', {
      ...provisionBody('mock://a'),
      recordGenerated: false,
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ kind: 'provision', outcome: 'provisioned', technician: 'tech' });
    const finished = await hub.waitFor((e) => e.event === 'operation-finished', 'operation-finished');
    expect(finished.data).toMatchObject({ port: 'mock://a', operation: 'provision', outcome: 'provisioned' });
    const steps = hub.events.filter((e) => e.event === 'step').map((e) => e.data.step);
    expect(steps).toEqual(reply.json.steps);
    expect(hub.events.map((e) => e.event).at(-1)).toBe('operation-finished');
    hub.close();
  });

  it('with Accept: text/event-stream, a provisioning streams its steps in order, then the result', async () => {
    const d = await daemon();
    const stream = await EventStream.open(d.socket, 'POST', '/v1/provision', provisionBody('mock://a'), {
      acknowledge: true,
    });
    await stream.waitForEnd();
    const names = stream.events.map((e) => e.event);
    expect(names[0]).toBe('operation');
    expect(names[1]).toBe('identified');
    expect(stream.events[1]!.data).toEqual({ model: 'PB-MOCK', sn: 'PBM0000001', fw: '1.0.0' });
    expect(names.at(-1)).toBe('result');
    const report = stream.events.at(-1)!.data.report;
    expect(report.outcome).toBe('provisioned');
    const steps = stream.events.filter((e) => e.event === 'step').map((e) => e.data);
    expect(steps).toEqual(report.steps);
    expect(steps.map((s) => s.step)).toEqual([
      'identify',
      'login',
      'admin-password',
      'bind',
      'clock',
      'factory-operator',
      'diagnostics',
      'verify',
      'logout',
    ]);
  });

  it('a run stopped by the workflow answers the report with the error (tampered: quarantined)', async () => {
    const d = await daemon();
    const reply = await call(d.socket, 'POST', '/v1/provision', {
      ...provisionBody('mock://t?tamper=1'),
      recordGenerated: false,
    });
    expect(reply.status).toBe(422);
    expect(reply.json.error).toMatchObject({ code: 'TAMPERED', hint: expect.any(String) });
    expect(reply.json.report).toMatchObject({ outcome: 'quarantined', error: { code: 'TAMPERED' } });
    expectNoStack(reply.text);
  });

  it('without an event stream, a run that may generate a password is refused before any byte is sent', async () => {
    const d = await daemon();
    const reply = await call(d.socket, 'POST', '/v1/provision', provisionBody('mock://a'));
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe('USAGE');
    expect(reply.json.error.message).toMatch(/may generate operator passwords.*event stream/);
    expect(reply.json.error.hint).toMatch(/nothing was sent/);
    expect(reply.json.report).toBeUndefined();
    const info = await call(d.socket, 'POST', '/v1/info', { port: 'mock://a' });
    expect(info.json.status).toMatchObject({ state: 'factory', factoryPw: ['admin', '01'] });
  });

  it('a profile that gives every password needs no stream', async () => {
    const d = await daemon();
    const reply = await call(d.socket, 'POST', '/v1/provision', {
      ...provisionBody('mock://a', {
        profile: {
          operators: [{ id: '01', name: 'Initial account', perms: ['sale'], password: { env: 'OP01' } }],
        },
      }),
      operatorPasswords: { '01': 'F1rst-Op-Pass' },
    });
    expect(reply.status).toBe(200);
    expect(reply.json.outcome).toBe('provisioned');
  });

  it('on the stream, a generated password is handed over and sent only once acknowledged', async () => {
    const d = await daemon();
    const body = provisionBody('mock://a', {
      profile: { operators: [{ id: '02', name: 'Cashier', perms: ['sale'] }] },
    });
    const stream = await EventStream.open(d.socket, 'POST', '/v1/provision', body);
    const operation = await stream.waitFor((e) => e.event === 'operation', 'operation');
    const generated = await stream.waitFor((e) => e.event === 'generated', 'generated');
    expect(generated.data).toMatchObject({
      id: '02',
      call: expect.any(String),
      password: expect.any(String),
    });
    expect(generated.data.password).toHaveLength(16);
    // Nothing was sent yet: the terminal still has operator 01 alone.
    expect(stream.events.some((e) => e.event === 'step' && e.data.step === 'operators')).toBe(false);
    const ack = await call(d.socket, 'POST', `/v1/operations/${operation.data.id}/generated`, {
      call: generated.data.call,
      ok: true,
    });
    expect(ack.status).toBe(200);
    // Then the factory operator 01 gets its new password, the same way.
    const second = await stream.waitFor((e) => e.event === 'generated' && e.data.id === '01', 'generated 01');
    expect(stream.events.find((e) => e.event === 'step' && e.data.step === 'operators')?.data.outcome).toBe(
      'done',
    );
    await call(d.socket, 'POST', `/v1/operations/${operation.data.id}/generated`, {
      call: second.data.call,
      ok: true,
    });
    await stream.waitForEnd();
    const result = stream.events.at(-1)!;
    expect(result.data.report.outcome).toBe('provisioned');
    expect(result.data.report.steps.find((s: { step: string }) => s.step === 'operators').detail).toMatch(
      /created 02/,
    );
    const again = await call(d.socket, 'POST', `/v1/operations/${operation.data.id}/generated`, {
      call: generated.data.call,
      ok: true,
    });
    expect(again.status).toBe(404);
  });

  it('a caller that cannot keep the generated password stops the run before it is sent', async () => {
    const d = await daemon();
    const body = provisionBody('mock://a', {
      profile: { operators: [{ id: '02', name: 'Cashier', perms: ['sale'] }] },
    });
    const stream = await EventStream.open(d.socket, 'POST', '/v1/provision', body);
    const operation = await stream.waitFor((e) => e.event === 'operation', 'operation');
    const generated = await stream.waitFor((e) => e.event === 'generated', 'generated');
    await call(d.socket, 'POST', `/v1/operations/${operation.data.id}/generated`, {
      call: generated.data.call,
      ok: false,
      error: { code: 'USAGE', message: 'cannot write posbridge-operator-passwords.txt: EACCES' },
    });
    await stream.waitForEnd();
    const result = stream.events.at(-1)!.data;
    expect(result.error).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/EACCES/) });
    expect(result.report.outcome).toBe('failed');
    const list = await call(d.socket, 'POST', '/v1/operator', {
      port: 'mock://a',
      adminPassword: ADMIN_PW,
      operation: { action: 'list' },
    });
    expect(list.json.operators.map((o: { id: string }) => o.id)).toEqual(['01']);
  });

  it('diag streams each check; passwd and operator answer their reports', async () => {
    const d = await daemon();
    await call(d.socket, 'POST', '/v1/provision', { ...provisionBody('mock://a'), recordGenerated: false });
    const stream = await EventStream.open(d.socket, 'POST', '/v1/diag', {
      port: 'mock://a',
      adminPassword: ADMIN_PW,
      checks: ['printer', 'network'],
    });
    await stream.waitForEnd();
    expect(stream.events.map((e) => e.event)).toEqual(['operation', 'check', 'check', 'result']);
    expect(stream.events[1]!.data).toMatchObject({ check: 'printer', status: 'pass' });
    expect(stream.events[3]!.data.report).toMatchObject({ kind: 'diag', diagnostics: { pass: 2, fail: 0 } });

    const passwd = await call(d.socket, 'POST', '/v1/passwd', {
      port: 'mock://a',
      adminPassword: ADMIN_PW,
      newPassword: 'N3w-Adm1n-Pass!',
    });
    expect(passwd.status).toBe(200);
    expect(passwd.json).toMatchObject({ kind: 'passwd', user: 'admin', sn: 'PBM0000001' });

    const add = await call(d.socket, 'POST', '/v1/operator', {
      port: 'mock://a',
      adminPassword: 'N3w-Adm1n-Pass!',
      operation: {
        action: 'add',
        id: '03',
        name: 'Night shift',
        perms: ['sale', 'query'],
        password: 'Op3r-Night-91',
      },
    });
    expect(add.status).toBe(200);
    expect(add.json).toMatchObject({ kind: 'operator', action: 'add', id: '03' });
    expect(add.json.operators.find((o: { id: string }) => o.id === '03')).toMatchObject({
      name: 'Night shift',
      perms: ['sale', 'query'],
      mustChange: true,
    });
  });

  it('a terminal that says no is an error with its code, hint and details (no stack)', async () => {
    const d = await daemon();
    await call(d.socket, 'POST', '/v1/provision', { ...provisionBody('mock://a'), recordGenerated: false });
    const reply = await call(d.socket, 'POST', '/v1/operator', {
      port: 'mock://a',
      adminPassword: ADMIN_PW,
      operation: { action: 'set', id: '55', name: 'Nobody' },
    });
    expect(reply.status).toBe(422);
    expect(reply.json.error).toMatchObject({
      code: 'TERMINAL_ERROR',
      status: 422,
      reason: 'unknown-user',
      verb: 'USER-SET',
      hint: expect.stringMatching(/No such operator/),
    });
    expectNoStack(reply.text);
    const wrong = await call(d.socket, 'POST', '/v1/diag', {
      port: 'mock://a',
      adminPassword: 'Wr0ng-Guess-77',
    });
    expect(wrong.json.error).toMatchObject({ code: 'BAD_CREDENTIALS', hint: expect.any(String) });
  });
});

describe('validation at the boundary', () => {
  it('a bad field is a 400 USAGE naming it', async () => {
    const d = await daemon();
    const cases: Array<[string, unknown, RegExp]> = [
      ['/v1/info', {}, /port: is required/],
      ['/v1/info', { port: 7 }, /port: must be a port name/],
      ['/v1/info', { port: 'mock://a', baud: 9600 }, /\(body\): unknown field \(baud\)/],
      [
        '/v1/provision',
        provisionBody('mock://a', { merchant: '12' }),
        /request\.merchant: must be 15 digits/,
      ],
      ['/v1/provision', provisionBody('mock://a', { adminPassword: '1234' }), /request\.adminPassword: /],
      [
        '/v1/provision',
        provisionBody('mock://a', { profile: { settings: { 'net.mode': 'carrier-pigeon' } } }),
        /request\.profile\.settings\.net\.mode: must be/,
      ],
      ['/v1/diag', { port: 'mock://a', checks: ['printer', 'coffee'] }, /checks\.1: unknown check "coffee"/],
      ['/v1/passwd', { port: 'mock://a', adminPassword: ADMIN_PW }, /newPassword: is required/],
      [
        '/v1/passwd',
        { port: 'mock://a', adminPassword: ADMIN_PW, newPassword: ADMIN_PW },
        /newPassword: is the same as the old password/,
      ],
      [
        '/v1/operator',
        { port: 'mock://a', operation: { action: 'fly' } },
        /operation\.action: action must be list, add/,
      ],
      [
        '/v1/operator',
        { port: 'mock://a', operation: { action: 'add', id: '100', name: 'x', perms: [], password: 'x' } },
        /operation\.id: must be two digits.*operation\.perms: must list at least one/,
      ],
    ];
    for (const [path, body, message] of cases) {
      const reply = await call(d.socket, 'POST', path, body);
      expect(reply.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(reply.json.error.code).toBe('USAGE');
      expect(reply.json.error.message).toMatch(message);
      expect(reply.json.error.hint).toMatch(/nothing was sent/);
      expectNoStack(reply.text);
    }
  });

  it('a rejected password is never echoed back', async () => {
    const d = await daemon();
    const reply = await call(
      d.socket,
      'POST',
      '/v1/provision',
      provisionBody('mock://a', { adminPassword: 'aaaaaaaa' }),
    );
    expect(reply.status).toBe(400);
    expect(reply.text).not.toContain('aaaaaaaa');
    expect(reply.json.error.message).toMatch(/request\.adminPassword: is one character repeated/);
  });

  it('bodies that are not JSON, too large, or sent to the wrong place get JSON errors too', async () => {
    const d = await daemon({ bodyLimitBytes: 1024 });
    const notJson = await call(d.socket, 'POST', '/v1/info', '{"port": ');
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toMatchObject({
      code: 'USAGE',
      message: 'the request body is not valid JSON',
    });

    const big = await call(d.socket, 'POST', '/v1/info', { port: 'x'.repeat(4096) });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/larger than 1024 bytes/),
    });

    const missing = await call(d.socket, 'GET', '/v1/nothing');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({
      code: 'USAGE',
      hint: expect.stringMatching(/\/v1\/provision/),
    });

    const method = await call(d.socket, 'GET', '/v1/provision');
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe('POST');
    expect(method.json.error.code).toBe('USAGE');
  });

  it('an unexpected failure is a 500 INTERNAL with no stack; the daemon log has it', async () => {
    const { logger, lines } = recordingLogger();
    const broken = new Proxy({} as Engine, {
      get: () => async () => {
        throw new TypeError('cannot read properties of undefined');
      },
    });
    const d = await daemon({ logger, wrap: () => broken });
    const reply = await call(d.socket, 'POST', '/v1/info', { port: 'mock://a' });
    expect(reply.status).toBe(500);
    expect(reply.json.error).toEqual({
      code: 'INTERNAL',
      message: 'internal error in the daemon: cannot read properties of undefined',
      hint: expect.stringMatching(/bug/),
    });
    expectNoStack(reply.text);
    expect(lines.join('')).toMatch(/"stack"/);
  });
});

describe('secrets and permissions', () => {
  it('no secret reaches the daemon log, whatever the route', async () => {
    const { logger, lines } = recordingLogger();
    const d = await daemon({ logger });
    const settle = '6222020200112233445';
    const run = await EventStream.open(
      d.socket,
      'POST',
      '/v1/provision',
      provisionBody('mock://a', { profile: { settings: { 'settle.account': settle } } }),
      { acknowledge: true },
    );
    await run.waitForEnd();
    expect(run.events.at(-1)!.data.report.outcome).toBe('provisioned');
    await call(d.socket, 'POST', '/v1/passwd', {
      port: 'mock://a',
      adminPassword: ADMIN_PW,
      newPassword: 'N3w-Adm1n-Pass!',
    });
    await call(d.socket, 'POST', '/v1/diag', { port: 'mock://a', adminPassword: 'Wr0ng-Guess-77' });
    const log = lines.join('');
    expect(log).toMatch(/api request/);
    for (const secret of [ADMIN_PW, 'N3w-Adm1n-Pass!', 'Wr0ng-Guess-77', settle])
      expect(log).not.toContain(secret);
  });

  it('the socket is 0600 and the directory it creates 0700', async () => {
    const dir = scratchDir();
    try {
      const d = await daemon({ dir });
      expect(lstatSync(d.socket).isSocket()).toBe(true);
      expect(lstatSync(d.socket).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
    } finally {
      for (const d of running.splice(0)) await d.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the default socket lives in $XDG_RUNTIME_DIR/posbridge, private', async () => {
    const runtime = scratchDir();
    const world = new MockWorld();
    const { resolveSocketPath } = await import('../../src/daemon/api/socket.js');
    const socket = resolveSocketPath({ XDG_RUNTIME_DIR: runtime }, undefined, process.getuid!());
    expect(socket).toEqual({ path: join(runtime, 'posbridge', 'daemon.sock'), source: 'default' });
    const daemonInstance = await Daemon.start({
      socket,
      uid: process.getuid!(),
      logger: recordingLogger().logger,
      createRuntime: () => world.serve(join(runtime, 'audit.sqlite3')),
      now: fixedNow,
    });
    try {
      expect(lstatSync(socket.path).mode & 0o777).toBe(0o600);
      expect(statSync(join(runtime, 'posbridge')).mode & 0o777).toBe(0o700);
    } finally {
      await daemonInstance.stop();
      await world.close();
    }
    expect(() => lstatSync(socket.path)).toThrow(/ENOENT/);
    rmSync(runtime, { recursive: true, force: true });
  });

  it('a default directory that others can read is refused unless it is ours (then it is closed)', async () => {
    const runtime = scratchDir();
    mkdirSync(join(runtime, 'posbridge'), { mode: 0o755 });
    const { prepareSocketDirectory } = await import('../../src/daemon/api/socket.js');
    await prepareSocketDirectory(
      { path: join(runtime, 'posbridge', 'daemon.sock'), source: 'default' },
      process.getuid!(),
    );
    expect(statSync(join(runtime, 'posbridge')).mode & 0o777).toBe(0o700);
    await expect(
      prepareSocketDirectory(
        { path: join(runtime, 'posbridge', 'daemon.sock'), source: 'default' },
        process.getuid!() + 1,
      ),
    ).rejects.toThrow(/is not private/);
    rmSync(runtime, { recursive: true, force: true });
  });
});
