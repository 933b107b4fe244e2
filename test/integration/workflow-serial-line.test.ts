/**
 * docs/protocol.md D41, serial sessions: on a 3-wire serial line the terminal never sees a host
 * close the port, so a later host finds whatever the earlier one left on that connection, its
 * login included. A host therefore sends LOGOUT before its LOGIN when STATUS shows a login it did
 * not make: a refused LOGIN ("a failed LOGIN leaves the current login as it was") must not leave
 * an earlier run's admin login in place. And each host session starts its IDs at random, so a line
 * of an earlier session is never replayed to a later one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalDriver } from '../../src/host/driver.js';
import { isPosbridgeError } from '../../src/host/errors.js';
import { createMemoryLink, type MemoryPeer } from '../../src/host/ports/memory.js';
import { PortRegistry } from '../../src/host/ports/registry.js';
import type { PortFactory } from '../../src/host/ports/transport.js';
import { Secret } from '../../src/host/secret.js';
import type { RandomSource } from '../../src/host/timers.js';
import { chooseAdminCredential, loginAdmin } from '../../src/host/workflow/admin-login.js';
import { type MockBehaviour, MockTerminal } from '../../src/mock-device/index.js';
import { ADMIN_PW } from '../support/constants.js';
import { silentLogger } from '../unit/daemon-wire.helper.js';

/**
 * A 3-wire serial line to one mock terminal: every open() is a new host session on the same
 * terminal connection, and a host closing its port is never seen by the terminal (no DTR).
 */
function threeWireLine(terminal: MockTerminal): PortFactory {
  let host: MemoryPeer | undefined;
  let toTerminal: ((bytes: Uint8Array) => void) | undefined;
  terminal.attach({
    label: '3-wire line',
    send: (bytes) => host?.send(bytes),
    onReceive: (handler) => {
      toTerminal = handler;
    },
    onClose: () => {},
    close: () => {},
  });
  return {
    async open(name) {
      const { transport, peer } = createMemoryLink(name);
      host = peer;
      peer.onReceive((bytes) => toTerminal?.(bytes));
      return transport;
    },
  };
}

/** The verbs the terminal read, in order. */
function verbsRead(terminal: MockTerminal): string[] {
  const verbs: string[] = [];
  const meter: MockBehaviour = {
    name: 'test:verbs',
    onRequest: (info) => {
      verbs.push(info.request.verb);
      return undefined;
    },
  };
  terminal.addBehaviour(meter);
  return verbs;
}

const drivers: TerminalDriver[] = [];
afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close();
});

async function hostRun(registry: PortRegistry, random?: RandomSource): Promise<TerminalDriver> {
  const driver = await TerminalDriver.open('line://ttyS0', {
    registry,
    logger: silentLogger,
    timeoutMs: 200,
    random,
  });
  drivers.push(driver);
  return driver;
}

/** A provisioned terminal on a 3-wire line, and an earlier host run that logged in and vanished. */
async function lineWithLeftoverLogin() {
  const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0, rebootMs: 5 });
  const registry = new PortRegistry().register('line', threeWireLine(terminal));
  const earlier = await hostRun(registry);
  await earlier.login('admin', new Secret('1234'));
  await earlier.passwd({ old: new Secret('1234'), new: new Secret(ADMIN_PW) });
  await earlier.close(); // the process died: no LOGOUT, and the terminal saw nothing
  return { terminal, registry };
}

describe('a serial line whose terminal cannot see the host close (D41)', () => {
  it('a later host finds the earlier login on the line (the premise)', async () => {
    const { registry } = await lineWithLeftoverLogin();
    const later = await hostRun(registry);
    expect((await later.status()).login).toBe('admin');
  });

  it('the host sends LOGOUT before its LOGIN, so a refused password leaves no login behind', async () => {
    const { terminal, registry } = await lineWithLeftoverLogin();
    const verbs = verbsRead(terminal);
    const later = await hostRun(registry);
    const status = await later.status();
    const credential = chooseAdminCredential(status, new Secret('Not-the-pw-42'));
    const error = await loginAdmin(later, credential).catch((e: unknown) => e);
    expect(isPosbridgeError(error, 'BAD_CREDENTIALS')).toBe(true);
    expect(verbs).toEqual(['STATUS', 'STATUS', 'LOGOUT', 'LOGIN']);
    expect((await later.status()).login).toBe('none');
  });

  it('with the right password the host ends up with its own login; LOGOUT is not sent when there is none', async () => {
    const { terminal, registry } = await lineWithLeftoverLogin();
    const later = await hostRun(registry);
    const verbs = verbsRead(terminal);
    await loginAdmin(later, chooseAdminCredential(await later.status(), new Secret(ADMIN_PW), true));
    expect(verbs).toEqual(['STATUS', 'STATUS', 'LOGOUT', 'LOGIN']);
    await later.logout();
    verbs.length = 0;
    await loginAdmin(later, chooseAdminCredential(await later.status(), new Secret(ADMIN_PW), true));
    expect(verbs).toEqual(['STATUS', 'STATUS', 'LOGIN']);
  });

  it('IDs start at random per session: only a repeated start gets the earlier session’s replays', async () => {
    const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0, rebootMs: 5 });
    const registry = new PortRegistry().register('line', threeWireLine(terminal));
    const wrong = new Secret('wrong-pw-1');
    const attempt = async (random: RandomSource) => {
      const driver = await hostRun(registry, random);
      const error = await driver.login('admin', wrong).catch((e: unknown) => e);
      await driver.close();
      return error;
    };
    await expect(attempt(() => 0.25)).resolves.toMatchObject({ status: 401, remaining: 4 });
    // The same first ID sends byte-identical lines: the terminal replays the earlier answer and
    // does not execute the LOGIN (the count stays at 1). This is what a counter from 1 would do.
    await expect(attempt(() => 0.25)).resolves.toMatchObject({ status: 401, remaining: 4 });
    expect(terminal.snapshot().lockout.failures).toBe(1);
    // Another start: the LOGIN runs.
    await expect(attempt(() => 0.75)).resolves.toMatchObject({ status: 401, remaining: 3 });
    expect(terminal.snapshot().lockout.failures).toBe(2);
  });
});
