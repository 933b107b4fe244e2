/**
 * Issue 9, item 2: replies that look like noise, or never come, are often another program reading
 * the same port. The hint says so instead of blaming the cable, and names the program when the
 * transport (from /proc, for a device) knows one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TerminalDriver } from '../../src/host/driver.js';
import type { PortHolder } from '../../src/host/ports/holders.js';
import { PortRegistry } from '../../src/host/ports/registry.js';
import type { PortFactory } from '../../src/host/ports/transport.js';
import { Session } from '../../src/host/session.js';
import { appendCrc } from '../../src/protocol/index.js';
import { type Received, silentLogger, Wire } from './daemon-wire.helper.js';

const CAT: PortHolder = { pid: 4242, command: 'cat /dev/ttyUSB0', self: false };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The HELLO reply with its CRC broken, as a reader stealing bytes (or noise) leaves it. */
function damaged(line: Received): string[] {
  const good = appendCrc(`@${line.request!.id} OK proto=1 model=PB sn=1 fw=1 state=factory caps=crc`);
  return [`${good.slice(0, -4)}0000`];
}

function driverOver(wire: Wire, holders: PortHolder[] | undefined): TerminalDriver {
  const session = new Session(wire.transport, { logger: silentLogger, timeoutMs: 100 });
  return new TerminalDriver(session, holders === undefined ? {} : { otherHolders: async () => holders });
}

async function settle<T>(promise: Promise<T>): Promise<unknown> {
  const outcome = promise.catch((error: unknown) => error);
  await vi.advanceTimersByTimeAsync(2000);
  return outcome;
}

describe('damaged or missing replies and other readers of the port', () => {
  it('damaged replies: the hint names the program that has the port open too', async () => {
    const wire = new Wire('/dev/ttyUSB0');
    wire.script = damaged;
    const error = (await settle(driverOver(wire, [CAT, { pid: process.pid, self: true }]).hello())) as {
      code: string;
      hint: string;
      details: Record<string, unknown>;
    };
    expect(error.code).toBe('BAD_REPLY');
    expect(error.hint).toBe(
      "Another program has /dev/ttyUSB0 open and is probably reading the terminal's replies: pid 4242 (cat /dev/ttyUSB0). Close it, then run the command again (it resumes).",
    );
    expect(error.details.otherHolders).toEqual([CAT]);
    expect(error.details.reason).toBe('bad-crc');
  });

  it('no reply at all: the same hint when another program has the port', async () => {
    const wire = new Wire('/dev/ttyUSB0');
    const error = (await settle(driverOver(wire, [CAT]).hello())) as { code: string; hint: string };
    expect(error.code).toBe('TIMEOUT');
    expect(error.hint).toContain('pid 4242 (cat /dev/ttyUSB0)');
  });

  it('without a program to name, the hint still says another program may be reading, before the cable', async () => {
    const wire = new Wire('/dev/ttyUSB0');
    wire.script = damaged;
    const error = (await settle(driverOver(wire, []).hello())) as { code: string; hint: string };
    expect(error.code).toBe('BAD_REPLY');
    expect(error.hint).toMatch(/^The replies arrive damaged: another program may be reading the port/);
    const noLookup = new Wire('/dev/ttyUSB0');
    noLookup.script = damaged;
    expect(((await settle(driverOver(noLookup, undefined).hello())) as { hint: string }).hint).toBe(
      error.hint,
    );
  });

  it('a terminal that answers ERR is not blamed on anyone else', async () => {
    const wire = new Wire('/dev/ttyUSB0');
    wire.script = (r) => [appendCrc(`@${r.request!.id} ERR code=500 reason=internal`)];
    const error = (await settle(driverOver(wire, [CAT]).hello())) as { code: string; hint: string };
    expect(error.code).toBe('TERMINAL_ERROR');
    expect(error.hint).not.toContain('Another program');
  });

  it('TerminalDriver.open asks the transport it opened', async () => {
    const wire = new Wire('/dev/ttyACM0');
    wire.script = damaged;
    let asked = 0;
    const factory: PortFactory = {
      endpoint: async () => ({ scope: 'process', key: `other-readers:${Math.random()}` }),
      open: async () =>
        Object.assign(wire.transport, {
          otherHolders: async () => {
            asked++;
            return [{ pid: 77, command: 'ModemManager', self: false }];
          },
        }),
    };
    const driver = await TerminalDriver.open('/dev/ttyACM0', {
      registry: new PortRegistry({ devices: factory }),
      logger: silentLogger,
      timeoutMs: 100,
    });
    const error = (await settle(driver.hello())) as { hint: string };
    expect(error.hint).toContain('Another program has /dev/ttyACM0 open');
    expect(error.hint).toContain('pid 77 (ModemManager)');
    expect(asked).toBe(1);
    await driver.close();
  });
});
