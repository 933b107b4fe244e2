/**
 * Issue 14: "a terminal plugged in appears within a second". A port that a named entry or a
 * pattern of `ports` matches is found from its directory: a change there announces it after the
 * debounce, from the last listing, without waiting for the re-list (udevadm, 0.1-0.3 s on a busy
 * machine) that a configured watch directory also asks for; that re-list then adds what udev
 * knows of it (`updated`), and the port manager's row gains it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscoveredPortInfo } from '../../src/daemon/discovery/index.js';
import { DaemonPortManager, type ManagedTerminal } from '../../src/daemon/port-manager/manager.js';
import type { HubEvent } from '../../src/host/hub.js';
import { silentLogger } from './daemon-wire.helper.js';
import { closeDiscoveries, setup } from './discovery.helper.js';

interface HeldLister {
  lister: () => Promise<readonly DiscoveredPortInfo[]>;
  calls(): number;
  answer(listing: readonly DiscoveredPortInfo[]): void;
  release(listing: readonly DiscoveredPortInfo[]): void;
}

const held: HeldLister[] = [];
afterEach(async () => {
  // A failed test leaves a re-list in flight: answered, so that close() does not wait for it.
  for (const lister of held.splice(0)) lister.release([]);
  await closeDiscoveries();
});

/** A lister the test answers by hand: a re-list in flight until then. */
function heldLister(first: readonly DiscoveredPortInfo[] = []): HeldLister {
  const pending: Array<(listing: readonly DiscoveredPortInfo[]) => void> = [];
  let calls = 0;
  let always: readonly DiscoveredPortInfo[] | undefined;
  const lister: HeldLister = {
    lister: () => {
      calls += 1;
      if (calls === 1) return Promise.resolve(first);
      if (always) return Promise.resolve(always);
      return new Promise<readonly DiscoveredPortInfo[]>((resolve) => pending.push(resolve));
    },
    calls: () => calls,
    answer(listing: readonly DiscoveredPortInfo[]) {
      for (const resolve of pending.splice(0)) resolve(listing);
    },
    /** Every listing from now on answers at once (so close() finds nothing in flight). */
    release(listing: readonly DiscoveredPortInfo[]) {
      always = listing;
      lister.answer(listing);
    },
  };
  held.push(lister);
  return lister;
}

describe('a plugged port is announced without waiting for the re-list', () => {
  it('a pty link matching a pattern in a watched directory: announced at the debounce, the re-list still running', async () => {
    const list = heldLister();
    const s = setup({
      ports: ['/run/pos/pos*'],
      watch: ['/run/pos'],
      lister: list.lister,
      debounceMs: 50,
      followUpMs: [250, 1000],
    });
    s.fs.dirs.add('/run/pos');
    await s.discovery.start();
    s.fs.add('/run/pos/pos1', '/dev/pts/7');
    s.watches.fire('/run/pos', 'pos1.4242.tmp');
    s.watches.fire('/run/pos', 'pos1');
    await s.timers.advance(49);
    expect(s.changes).toEqual([]);
    await s.timers.advance(1);
    expect(s.changes).toEqual(['appeared /run/pos/pos1']);
    // The directory is a configured watch: it is re-listed all the same, after the announcement.
    expect(list.calls()).toBe(2);
    list.release([]);
    await s.timers.advance(1000);
    expect(s.changes).toEqual(['appeared /run/pos/pos1']);
  });

  it('a named by-id link: announced at once, its USB details follow with the listing (updated), into the manager row', async () => {
    const BY_ID = '/dev/serial/by-id/usb-Ingenico_Move5000_1813000123-if00';
    const listed: DiscoveredPortInfo = {
      path: '/dev/ttyUSB0',
      byId: BY_ID,
      vendorId: '0b00',
      productId: '0081',
      serialNumber: '1813000123',
    };
    const list = heldLister();
    const s = setup({ ports: [BY_ID], watch: ['/dev', '/dev/serial/by-id'], lister: list.lister });
    s.fs.dirs.add('/dev/serial/by-id');
    const events: string[] = [];
    const manager = new DaemonPortManager({
      // Opening never ends here: the row stays `identifying`, which is what the grid shows first.
      open: () => new Promise<ManagedTerminal>(() => undefined),
      discovery: s.discovery,
      logger: silentLogger,
      timers: s.timers,
      heartbeatMs: 0,
    });
    manager.subscribe((event: HubEvent) => {
      if (event.type === 'terminal-added' || event.type === 'terminal-updated')
        events.push(`${event.type} ${event.terminal.usb?.vendorId ?? '-'}`);
    });
    await manager.start();
    s.fs.add('/dev/ttyUSB0');
    s.fs.add(BY_ID, '/dev/ttyUSB0');
    s.watches.fire('/dev/serial/by-id', 'usb-Ingenico_Move5000_1813000123-if00');
    await s.timers.advance(50);
    expect(s.changes).toEqual([`appeared ${BY_ID}`]);
    expect(events).toEqual(['terminal-added -']);
    list.answer([listed]);
    await s.timers.advance(0);
    expect(s.changes).toEqual([`appeared ${BY_ID}`, `updated ${BY_ID}`]);
    expect(events).toEqual(['terminal-added -', 'terminal-updated 0b00']);
    expect(manager.list()[0]).toMatchObject({ port: BY_ID, byId: BY_ID, usb: { vendorId: '0b00' } });
    list.release([listed]);
    await manager.close();
  });
});
