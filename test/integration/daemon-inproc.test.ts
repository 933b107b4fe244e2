/**
 * The serial transport (SerialPortStream) over the mock terminal's in-process serialport binding:
 * the same code path as a real device, with the mock behind it. One way the composition root can
 * wire `mock://NAME` (registry.register('mock', serialPortFactory({ binding }))).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalDriver } from '../../src/host/driver.js';
import { isPosbridgeError } from '../../src/host/errors.js';
import { PortRegistry } from '../../src/host/ports/registry.js';
import { serialPortFactory } from '../../src/host/ports/serial.js';
import { Secret } from '../../src/host/secret.js';
import { MockTerminal } from '../../src/mock-device/index.js';
import { createInProcessBinding } from '../../src/mock-device/transports/index.js';
import { silentLogger } from '../unit/daemon-wire.helper.js';

const drivers: TerminalDriver[] = [];
afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close();
});

function setup() {
  const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0, identity: { sn: 'PBM0000099' } });
  const binding = createInProcessBinding((path) =>
    path === 'mock://bench' ? (link) => terminal.attach(link) : undefined,
  );
  const registry = new PortRegistry().register('mock', serialPortFactory({ binding }));
  const open = async () => {
    const driver = await TerminalDriver.open('mock://bench', { registry, logger: silentLogger });
    drivers.push(driver);
    return driver;
  };
  return { terminal, binding, registry, open };
}

describe('serial transport over the in-process mock binding', () => {
  it('identifies and logs in', async () => {
    const { open } = setup();
    const driver = await open();
    expect((await driver.hello()).sn).toBe('PBM0000099');
    expect((await driver.login('admin', new Secret('1234'))).mustChange).toBe(true);
  });

  it('a second open is PORT_BUSY; an unknown name is PORT_NOT_FOUND', async () => {
    const { open, registry } = setup();
    await open();
    await expect(open()).rejects.toSatisfy((e) => isPosbridgeError(e, 'PORT_BUSY'));
    await expect(registry.open('mock://nowhere')).rejects.toSatisfy((e) =>
      isPosbridgeError(e, 'PORT_NOT_FOUND'),
    );
  });

  it('unplugging mid-command fails it with DISCONNECTED, and a re-open resumes on a fresh link', async () => {
    const { open, binding } = setup();
    const driver = await open();
    await driver.login('admin', new Secret('1234'));
    const pending = driver.diag().catch((e) => e);
    binding.unplug('mock://bench');
    expect(isPosbridgeError(await pending, 'DISCONNECTED')).toBe(true);
    const again = await open();
    const status = await again.status();
    expect(status.login).toBe('none');
  });
});
