/**
 * The driver against the real mock terminal, wired the way the CLI wires `mock://`: a registered
 * scheme whose factory hands an in-memory cable's peer end to MockTerminal.attach. The test is a
 * composition root, so it may import the mock; src/host never does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalDriver } from '../../src/host/driver.js';
import { isPosbridgeError, isTerminalError } from '../../src/host/errors.js';
import { memoryPortFactory } from '../../src/host/ports/memory.js';
import { PortRegistry } from '../../src/host/ports/registry.js';
import { Secret } from '../../src/host/secret.js';
import { createMemoryTrace } from '../../src/host/trace.js';
import { MockTerminal, type MockTerminalOptions } from '../../src/mock-device/index.js';
import { silentLogger } from '../unit/daemon-wire.helper.js';

const ADMIN_NEW = new Secret('Fresh-Admin-77');

const drivers: TerminalDriver[] = [];
afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close();
});

async function connect(options: MockTerminalOptions = {}, session: { timeoutMs?: number } = {}) {
  const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0, rebootMs: 50, ...options });
  const registry = new PortRegistry().register(
    'mock',
    memoryPortFactory((_name, peer) => terminal.attach(peer)),
  );
  const trace = createMemoryTrace();
  const driver = await TerminalDriver.open('mock://bench', {
    registry,
    logger: silentLogger,
    trace,
    timeoutMs: session.timeoutMs ?? 1000,
    slowTimeoutMs: 5000,
    rebootTimeoutMs: 5000,
  });
  drivers.push(driver);
  return { terminal, driver, trace, registry };
}

/** The provisioning steps in order (what the workflow does), on a factory-fresh terminal. */
async function provisionSteps(driver: TerminalDriver) {
  const hello = await driver.hello();
  const before = await driver.status();
  expect(before.factoryPw).toEqual(['admin', '01']);
  const login = await driver.login('admin', new Secret('1234'));
  expect(login).toEqual({ user: 'admin', mustChange: true });
  await driver.passwd({ old: new Secret('1234'), new: ADMIN_NEW });
  const init = await driver.init({ merchant: '123456789012345', terminal: '87654321', name: 'Café Nord' });
  await driver.time(new Date(Date.UTC(2025, 5, 1, 12, 0, 0)));
  expect(await driver.set('host.addr', 'acq.example.com')).toBe('acq.example.com');
  expect(await driver.set('settle.account', new Secret('DE44500105175407324931'))).toBe('****4931');
  await driver.userAdd({
    id: '02',
    name: 'Ann',
    perms: ['sale', 'query'],
    password: new Secret('Op-pass-77'),
  });
  const operators = await driver.userList();
  const diag = await driver.diag();
  const after = await driver.status();
  return { hello, init, operators, diag, after };
}

describe('driver against the mock terminal', () => {
  it('runs the provisioning steps and reads everything back', async () => {
    const { driver, trace } = await connect({ identity: { sn: 'PBM0000042' } });
    const { hello, init, operators, diag, after } = await provisionSteps(driver);
    expect(hello).toMatchObject({ proto: 1, sn: 'PBM0000042', state: 'factory' });
    expect(hello.caps).toContain('replay');
    expect(init).toEqual({ state: 'initialized', changed: true });
    expect(operators.map((o) => o.id)).toEqual(['01', '02']);
    expect(operators[1]).toEqual({ id: '02', name: 'Ann', perms: ['sale', 'query'], mustChange: true });
    expect(diag.fail).toBe(0);
    expect(diag.results.map((r) => r.check)[0]).toBe('power');
    expect(diag.pass + diag.warn).toBe(diag.results.length);
    expect(after).toMatchObject({
      state: 'initialized',
      login: 'admin',
      mustChange: false,
      factoryPw: ['01'],
      merchant: '123456789012345',
      terminal: '87654321',
      name: 'Café Nord',
      attemptsLeft: 5,
    });
    const text = trace.text();
    expect(text).not.toContain('Fresh-Admin-77');
    expect(text).not.toContain('DE44500105175407324931');
    expect(text).not.toContain('Op-pass-77');
    expect(text).not.toMatch(/password=1234/);
  });

  it('survives a noisy line (corrupted, dropped replies, spurious events) without executing twice', async () => {
    const { driver } = await connect(
      { faults: 'corrupt:p=0.05;drop:p=0.05;spurious-evt:p=0.2', seed: 7 },
      { timeoutMs: 150 },
    );
    const { after, operators, diag } = await provisionSteps(driver);
    // The password change ran once (a second run would fail `old` and cost an attempt).
    expect(after.attemptsLeft).toBe(5);
    expect(after.factoryPw).toEqual(['01']);
    expect(operators.map((o) => o.id)).toEqual(['01', '02']);
    expect(diag.results).toHaveLength(12);
  });

  it('a wrong password is one attempt, never repeated', async () => {
    const { driver } = await connect();
    const error = await driver.login('admin', new Secret('not-it-99')).catch((e) => e);
    expect(isTerminalError(error, 401, 'bad-credentials')).toBe(true);
    expect(error.remaining).toBe(4);
    expect((await driver.status()).attemptsLeft).toBe(4);
  });

  it('rides out a busy terminal (503) with backoff', async () => {
    const { driver } = await connect({ faults: 'busy:ms=300,n=2' });
    await driver.hello();
    const status = await driver.status();
    expect(status.state).toBe('factory');
  });

  it('reboot() waits for EVT boot; the login is gone afterwards', async () => {
    const { driver } = await connect();
    const events: string[] = [];
    driver.onEvent((e) => events.push(e.name));
    await driver.login('admin', new Secret('1234'));
    await driver.passwd({ old: new Secret('1234'), new: ADMIN_NEW });
    await driver.reboot();
    expect(events).toContain('boot');
    expect((await driver.status()).login).toBe('none');
    await expect(driver.get('net.mode')).rejects.toSatisfy((e) => isTerminalError(e, 401, 'auth-required'));
  });

  it('a reboot in the middle of a request: REBOOTED, and the request is not sent again', async () => {
    const { driver, trace } = await connect({ faults: 'reboot-at:n=3' });
    await driver.hello();
    await driver.login('admin', new Secret('1234'));
    const error = await driver.passwd({ old: new Secret('1234'), new: ADMIN_NEW }).catch((e) => e);
    expect(isPosbridgeError(error, 'REBOOTED')).toBe(true);
    expect(trace.records.filter((r) => r.direction === '>' && r.text.includes('PASSWD'))).toHaveLength(1);
    // The terminal's state tells what happened: the change ran before the reboot.
    expect((await driver.status()).factoryPw).toEqual(['01']);
  });

  it('the terminal pulling the cable fails the pending request with DISCONNECTED', async () => {
    const { driver } = await connect({ faults: 'silent-after:tx=40' });
    const error = await driver.diag().catch((e) => e);
    expect(isPosbridgeError(error, 'DISCONNECTED')).toBe(true);
    await expect(driver.status()).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });

  it('RESET brings back the factory state', async () => {
    const { driver } = await connect({ identity: { sn: 'PBM0000777' } });
    await driver.login('admin', new Secret('1234'));
    await driver.passwd({ old: new Secret('1234'), new: ADMIN_NEW });
    await driver.login('admin', ADMIN_NEW);
    await driver.reset('PBM0000777');
    const status = await driver.status();
    expect(status).toMatchObject({ state: 'factory', login: 'none', factoryPw: ['admin', '01'] });
  });
});
