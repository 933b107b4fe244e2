/**
 * Issue 9, item 8 (part): `posbridge ports` and the daemon's discovery without udevadm. A fake
 * sysfs and /dev in a temp dir, built as Linux lays them out for an FTDI cable (usb-serial), a
 * CDC terminal (ttyACM, usb), an on-board UART (pnp), a legacy placeholder (platform) and a port
 * whose node is gone. The real machine without udevadm: test/e2e/ports-without-udev.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPortLister, listPorts } from '../../src/host/ports/list.js';
import { listSysfsPorts } from '../../src/host/ports/sysfs-list.js';

let root: string;
let sysRoot: string;
let devRoot: string;

function file(path: string, text = ''): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function link(path: string, target: string): void {
  mkdirSync(dirname(path), { recursive: true });
  mkdirSync(target, { recursive: true });
  symlinkSync(relative(dirname(path), target), path);
}

/** /sys/class/tty/NAME/device -> DEVICE, DEVICE/subsystem -> /sys/bus/SUBSYSTEM, and /dev/NAME. */
function tty(name: string, device: string, subsystem: string, node = true): void {
  const devicePath = join(sysRoot, 'devices', device);
  link(join(sysRoot, 'class', 'tty', name, 'device'), devicePath);
  link(join(devicePath, 'subsystem'), join(sysRoot, 'bus', subsystem));
  if (node) file(join(devRoot, name));
}

function usbDevice(path: string, attrs: Record<string, string>): void {
  for (const [key, value] of Object.entries(attrs)) file(join(sysRoot, 'devices', path, key), `${value}\n`);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'posbridge-sysfs-'));
  sysRoot = join(root, 'sys');
  devRoot = join(root, 'dev');
  const usb = 'pci0000:00/0000:00:14.0/usb1';
  tty('ttyUSB0', `${usb}/1-1/1-1:1.0/ttyUSB0`, 'usb-serial');
  usbDevice(`${usb}/1-1`, { idVendor: '0403', idProduct: '6001', serial: 'A10K2BQ', manufacturer: 'FTDI' });
  tty('ttyACM0', `${usb}/1-2/1-2:1.0`, 'usb');
  usbDevice(`${usb}/1-2`, {
    idVendor: '2FB8',
    idProduct: '2101',
    serial: 'PAX0042',
    manufacturer: 'PAX Technology',
    product: 'A920',
  });
  tty('ttyS0', 'pnp0/00:00/00:00:0/00:00:0.0', 'pnp');
  tty('ttyS1', 'platform/serial8250/tty/ttyS1', 'platform');
  tty('ttyUSB9', `${usb}/1-3/1-3:1.0/ttyUSB9`, 'usb-serial', false);
  // Virtual terminals have no device link; ptmx does not look like a serial port.
  mkdirSync(join(sysRoot, 'class', 'tty', 'tty0'), { recursive: true });
  mkdirSync(join(sysRoot, 'class', 'tty', 'ptmx'), { recursive: true });
  mkdirSync(join(devRoot, 'serial', 'by-id'), { recursive: true });
  symlinkSync('../../ttyACM0', join(devRoot, 'serial', 'by-id', 'usb-PAX_A920_PAX0042-if00'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('listing ports from sysfs', () => {
  it('reads USB ids, serial and manufacturer from the USB device; by-id names from /dev/serial/by-id', async () => {
    expect(await listSysfsPorts({ sysRoot, devRoot })).toEqual([
      {
        path: join(devRoot, 'ttyACM0'),
        vendorId: '2fb8',
        productId: '2101',
        serialNumber: 'PAX0042',
        manufacturer: 'PAX Technology',
        locationId: '1-2:1.0',
        pnpId: 'usb-PAX_A920_PAX0042-if00',
      },
      { path: join(devRoot, 'ttyS0') },
      {
        path: join(devRoot, 'ttyUSB0'),
        vendorId: '0403',
        productId: '6001',
        serialNumber: 'A10K2BQ',
        manufacturer: 'FTDI',
        locationId: '1-1:1.0',
      },
    ]);
  });

  it('udevadm missing (ENOENT): posbridge ports lists from sysfs and marks the terminal', async () => {
    const udev = async () => {
      throw Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' });
    };
    const ports = await listPorts({ lister: defaultPortLister({ udev, sysRoot, devRoot }) });
    expect(ports.map((p) => [p.kind, p.path, p.label])).toEqual([
      ['terminal', join(devRoot, 'ttyACM0'), 'PAX'],
      ['adapter', join(devRoot, 'ttyUSB0'), 'FTDI USB-serial'],
      ['other', join(devRoot, 'ttyS0'), undefined],
    ]);
    expect(ports[0]!.byId).toBe('/dev/serial/by-id/usb-PAX_A920_PAX0042-if00');
  });

  it("uses udev's listing when it works; sysfs when udev knows no port; passes on other failures", async () => {
    const fromUdev = [{ path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001' }];
    expect(await defaultPortLister({ udev: async () => fromUdev, sysRoot, devRoot })()).toBe(fromUdev);
    const empty = await defaultPortLister({ udev: async () => [], sysRoot, devRoot })();
    expect(empty.map((p) => p.path)).toEqual(['ttyACM0', 'ttyS0', 'ttyUSB0'].map((n) => join(devRoot, n)));
    const broken = defaultPortLister({
      udev: async () => {
        throw new Error('udevadm exited with error code: 1');
      },
      sysRoot,
      devRoot,
    });
    await expect(broken()).rejects.toThrow('error code: 1');
  });

  it('no sysfs either: the listing fails as before (PORT_LIST_FAILED)', async () => {
    const udev = async () => {
      throw Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' });
    };
    const lister = defaultPortLister({ udev, sysRoot: join(root, 'nothing'), devRoot });
    await expect(listPorts({ lister })).rejects.toMatchObject({ code: 'PORT_LIST_FAILED' });
  });
});
