/**
 * Discovery: which ports may receive bytes (the allow-list, named ports, patterns), and hot-plug
 * from an injected lister and watch source, with manual timers and a fake filesystem.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { compilePattern, isPattern } from '../../src/daemon/discovery/glob.js';
import { matchUsbId } from '../../src/daemon/discovery/index.js';
import { DaemonPortManager, type ManagedTerminal } from '../../src/daemon/port-manager/manager.js';
import { PosbridgeError } from '../../src/host/errors.js';
import { DEFAULT_ADAPTER_IDS, DEFAULT_TERMINAL_IDS } from '../../src/host/ports/list.js';
import { silentLogger } from './daemon-wire.helper.js';
import { ARDUINO, BUILTIN, closeDiscoveries, FTDI, GPS, INGENICO, setup } from './discovery.helper.js';

afterEach(closeDiscoveries);

describe('which ports may receive bytes', () => {
  it('by default only terminal vendors: a GPS, a microcontroller board, a USB-serial adapter and a built-in UART are ignored', async () => {
    const s = setup({}, [GPS, INGENICO, FTDI, ARDUINO, BUILTIN]);
    await s.discovery.start();
    expect(s.discovery.candidates()).toEqual([
      {
        port: '/dev/ttyUSB0',
        reason: 'allowed',
        device: '/dev/ttyUSB0',
        byId: '/dev/serial/by-id/usb-Ingenico_Move5000_1813000123-if00',
        usb: { vendorId: '0b00', productId: '0081', manufacturer: 'Ingenico', serialNumber: '1813000123' },
        label: 'Ingenico',
      },
    ]);
    expect(s.discovery.ignored().map((p) => p.path)).toEqual([
      '/dev/ttyACM0',
      '/dev/ttyUSB1',
      '/dev/ttyACM1',
      '/dev/ttyS0',
    ]);
    expect(s.discovery.ignored()[0]).toMatchObject({ usb: { vendorId: '1546', productId: '01a7' } });
    expect(s.changes).toEqual(['appeared /dev/ttyUSB0']);
  });

  it('the allow-list is configurable, down to a vendor:product pair', async () => {
    const s = setup({ allow: [{ vendorId: '0403', productId: '6015', label: 'FTDI FT231X' }] }, [
      INGENICO,
      FTDI,
      { path: '/dev/ttyUSB2', vendorId: '0403', productId: '6015' },
    ]);
    await s.discovery.start();
    expect(s.discovery.candidates().map((c) => c.port)).toEqual(['/dev/ttyUSB2']);
    expect(
      matchUsbId([{ vendorId: '0403', label: 'x' }], { vendorId: '0x0403', productId: '6001' }),
    ).toBeDefined();
    expect(matchUsbId(DEFAULT_ADAPTER_IDS, { vendorId: '0403' })).toBeDefined();
    expect(matchUsbId(DEFAULT_TERMINAL_IDS, { vendorId: '0403' })).toBeUndefined();
    expect(matchUsbId(DEFAULT_TERMINAL_IDS, {})).toBeUndefined();
  });

  it('a port the user named is a candidate whatever its USB ID, under the name given (by-id), with the listing details', async () => {
    const byId = '/dev/serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0';
    const s = setup({ ports: [byId] }, [GPS, FTDI]);
    s.fs.add(byId, '/dev/ttyUSB1');
    await s.discovery.start();
    expect(s.discovery.candidates()).toEqual([
      {
        port: byId,
        reason: 'named',
        device: '/dev/ttyUSB1',
        byId,
        usb: { vendorId: '0403', productId: '6001', manufacturer: 'FTDI' },
      },
    ]);
    expect(s.discovery.ignored().map((p) => p.path)).toEqual(['/dev/ttyACM0']);
  });

  it('tcp:// and mock:// ports are always candidates; a named device path that does not exist is absent', async () => {
    const s = setup({ ports: ['tcp://10.0.0.7:4001', 'mock://bench', '/dev/ttyUSB9'] });
    await s.discovery.start();
    expect(s.discovery.candidates().map((c) => `${c.reason} ${c.port}`)).toEqual([
      'named tcp://10.0.0.7:4001',
      'named mock://bench',
    ]);
    expect(s.discovery.absent()).toEqual(['/dev/ttyUSB9']);
  });

  it('a pattern matches names in its directory only (a symlink that merely appears is not enough)', async () => {
    const s = setup({ ports: ['/run/pos/term[0-9]'], watch: ['/run/pos'] });
    s.fs.add('/run/pos/term0', '/dev/pts/3');
    s.fs.add('/run/pos/term1', '/dev/pts/4');
    s.fs.add('/run/pos/gps0', '/dev/pts/5');
    s.fs.add('/run/pos/term0.123.tmp', '/dev/pts/6');
    s.fs.add('/run/pos/terminal', '/dev/pts/7');
    await s.discovery.start();
    expect(s.discovery.candidates().map((c) => `${c.reason} ${c.port} ${c.device}`)).toEqual([
      'pattern /run/pos/term0 /dev/pts/3',
      'pattern /run/pos/term1 /dev/pts/4',
    ]);
  });

  it('two names of one device are one candidate: the user’s name wins', async () => {
    const s = setup({ ports: ['/dev/pos-*'] }, [INGENICO]);
    s.fs.dirs.add('/dev');
    s.fs.add('/dev/pos-left', '/dev/ttyUSB0');
    await s.discovery.start();
    expect(s.discovery.candidates()).toEqual([
      expect.objectContaining({
        port: '/dev/pos-left',
        reason: 'pattern',
        usb: expect.objectContaining({ vendorId: '0b00' }),
      }),
    ]);
  });

  it('glob patterns: *, ? and sets, last part only', () => {
    expect(isPattern('/dev/serial/by-id/usb-PAX_*')).toBe(true);
    expect(isPattern('/dev/ttyUSB0')).toBe(false);
    expect(isPattern('mock://a*')).toBe(false);
    const p = compilePattern('/dev/serial/by-id/usb-PAX_*-if0?');
    expect(p.matchesPath('/dev/serial/by-id/usb-PAX_A920_123-if00')).toBe(true);
    expect(p.matchesPath('/dev/serial/by-id/usb-PAX_A920_123-if0')).toBe(false);
    expect(p.matchesPath('/dev/serial/usb-PAX_A920_123-if00')).toBe(false);
    const set = compilePattern('/tmp/pos[!9]');
    expect(set.matchesName('pos1')).toBe(true);
    expect(set.matchesName('pos9')).toBe(false);
    expect(compilePattern('/tmp/*').matchesName('.hidden')).toBe(false);
    expect(compilePattern('/tmp/a.b(c)').matchesName('a.b(c)')).toBe(true);
    expect(compilePattern('/tmp/a.b').matchesName('axb')).toBe(false);
  });
});

describe('hot-plug', () => {
  it('a ttyUSB appearing in /dev re-lists once after the debounce, then again while udev settles', async () => {
    const s = setup({ debounceMs: 50, followUpMs: [250, 1000] });
    await s.discovery.start();
    expect(s.listCalls()).toBe(1);
    s.listing = [INGENICO];
    s.fs.add(INGENICO.path);
    s.watches.fire('/dev', 'ttyUSB0');
    s.watches.fire('/dev', 'ttyUSB0');
    s.watches.fire('/dev', 'serial');
    await s.timers.advance(49);
    expect(s.changes).toEqual([]);
    await s.timers.advance(1);
    expect(s.listCalls()).toBe(2);
    expect(s.changes).toEqual(['appeared /dev/ttyUSB0']);
    await s.timers.advance(200);
    expect(s.listCalls()).toBe(3);
    await s.timers.advance(750);
    expect(s.listCalls()).toBe(4);

    s.listing = [];
    s.fs.remove(INGENICO.path);
    s.watches.fire('/dev', 'ttyUSB0');
    await s.timers.advance(50);
    expect(s.changes).toEqual(['appeared /dev/ttyUSB0', 'disappeared /dev/ttyUSB0']);
  });

  it('other names in /dev do not re-list (a pty, a disk, a sound device)', async () => {
    const s = setup();
    await s.discovery.start();
    for (const name of ['pts', 'sda1', 'snd', 'ttyS0', 'tty7']) s.watches.fire('/dev', name);
    await s.timers.advance(5000);
    expect(s.listCalls()).toBe(1);
  });

  it('a name matching a pattern re-checks without re-listing; the directory of a pattern is watched', async () => {
    const s = setup({ ports: ['/run/pos/pos?'], watch: ['/dev'] });
    s.fs.dirs.add('/run/pos');
    await s.discovery.start();
    expect([...s.watches.active.keys()].sort()).toEqual(['/dev', '/run/pos']);
    s.fs.add('/run/pos/pos0', '/dev/pts/9');
    s.watches.fire('/run/pos', 'pos0.4242.tmp');
    s.watches.fire('/run/pos', 'pos0');
    await s.timers.advance(50);
    expect(s.changes).toEqual(['appeared /run/pos/pos0']);
    expect(s.listCalls()).toBe(1);
    s.fs.remove('/run/pos/pos0');
    s.watches.fire('/run/pos', 'pos0');
    await s.timers.advance(50);
    expect(s.changes).toEqual(['appeared /run/pos/pos0', 'disappeared /run/pos/pos0']);
  });

  it('any change in a configured watch directory (other than /dev) re-lists', async () => {
    const s = setup({ watch: ['/run/ports'] });
    s.fs.dirs.add('/run/ports');
    await s.discovery.start();
    s.watches.fire('/run/ports', 'whatever');
    await s.timers.advance(50);
    expect(s.listCalls()).toBe(2);
  });

  it('the same name now leading to another device is a disappearance and an appearance', async () => {
    const s = setup({ ports: ['/run/pos/pos0'], watch: [] });
    s.fs.add('/run/pos/pos0', '/dev/pts/3');
    await s.discovery.start();
    s.fs.add('/run/pos/pos0', '/dev/pts/4');
    await s.discovery.refresh({ relist: false });
    expect(s.changes).toEqual([
      'appeared /run/pos/pos0',
      'disappeared /run/pos/pos0',
      'appeared /run/pos/pos0',
    ]);
  });

  it('a failed listing keeps the last one (not an unplug) and is reported', async () => {
    const s = setup({}, [INGENICO]);
    await s.discovery.start();
    s.failList(new PosbridgeError('PORT_LIST_FAILED', 'cannot list serial ports: spawn udevadm ENOENT'));
    await s.discovery.refresh();
    expect(s.changes).toEqual(['appeared /dev/ttyUSB0']);
    expect(s.discovery.listError?.code).toBe('PORT_LIST_FAILED');
    s.failList(undefined);
    await s.discovery.refresh();
    expect(s.discovery.listError).toBeUndefined();
  });

  it('a watch directory that does not exist yet is watched once it does', async () => {
    const s = setup({ watch: ['/dev/serial/by-id'] });
    s.watches.missing.add('/dev/serial/by-id');
    await s.discovery.start();
    expect(s.watches.active.size).toBe(0);
    s.watches.missing.delete('/dev/serial/by-id');
    await s.discovery.refresh();
    expect([...s.watches.active.keys()]).toEqual(['/dev/serial/by-id']);
  });

  it('refreshes are serialized and merged; close() stops watching and cancels timers', async () => {
    const s = setup({}, [INGENICO]);
    await s.discovery.start();
    await Promise.all([s.discovery.refresh(), s.discovery.refresh(), s.discovery.refresh()]);
    expect(s.listCalls()).toBeLessThanOrEqual(3);
    s.watches.fire('/dev', 'ttyUSB0');
    await s.discovery.close();
    expect(s.watches.active.size).toBe(0);
    expect(s.timers.size).toBe(0);
  });
});

describe('discovery and the port manager together', () => {
  it('a listed GPS, microcontroller board and adapter are never opened: zero bytes; the terminal is', async () => {
    const s = setup({}, [GPS, ARDUINO, FTDI, INGENICO]);
    const opened: string[] = [];
    const manager = new DaemonPortManager({
      open: async (port): Promise<ManagedTerminal> => {
        opened.push(port);
        throw new PosbridgeError('PORT_OPEN_FAILED', `cannot open ${port}`);
      },
      discovery: s.discovery,
      logger: silentLogger,
      timers: s.timers,
      reprobeMs: 1000,
    });
    await manager.start();
    await s.timers.advance(10_000);
    s.listing = [GPS, ARDUINO, FTDI, INGENICO, { path: '/dev/ttyACM2', vendorId: '1546', productId: '01a8' }];
    s.watches.fire('/dev', 'ttyACM2');
    await s.timers.advance(10_000);
    expect(new Set(opened)).toEqual(new Set(['/dev/ttyUSB0']));
    await manager.close();
  });
});
