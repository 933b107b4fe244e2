/**
 * Serial ports from sysfs, for machines without udevadm (containers, minimal images: the package
 * `udev` is not there, and SerialPort.list() fails with "spawn udevadm ENOENT"). The same walk as
 * pyserial's list_ports_linux:
 *
 * - every /sys/class/tty/NAME that has a `device` link is a real port (virtual consoles and ptys
 *   have none), /dev/NAME its node; a `platform` device is a legacy placeholder and is skipped;
 * - the device's subsystem says where the USB details are: `usb-serial` (ttyUSB, FTDI, CH340...)
 *   sits under its USB interface, `usb` (ttyACM, CDC) is the interface; the USB device is the
 *   interface's parent, with idVendor, idProduct, serial, manufacturer and product;
 * - /dev/serial/by-id names the port by its links (udev makes them; absent without udev).
 *
 * Both roots are injectable, so tests build a fake tree in a temporary directory.
 */
import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { SerialPortInfo } from './list.js';

export interface SysfsListOptions {
  /** Default `/sys`. */
  sysRoot?: string | undefined;
  /** Default `/dev`. */
  devRoot?: string | undefined;
}

/** Names of serial ports, as serialport's udev lister filters them. */
const SERIAL_NAME = /^(tty(S|WCH|ACM|USB|AMA|MFD|O|XRUSB)|rfcomm)/;

export async function listSysfsPorts(options: SysfsListOptions = {}): Promise<SerialPortInfo[]> {
  const sysRoot = options.sysRoot ?? '/sys';
  const devRoot = options.devRoot ?? '/dev';
  const classDir = join(sysRoot, 'class', 'tty');
  const names = (await readdir(classDir)).filter((name) => SERIAL_NAME.test(name)).sort();
  const byId = await byIdNames(devRoot);
  const ports: SerialPortInfo[] = [];
  for (const name of names) {
    const devicePath = await realpath(join(classDir, name, 'device')).catch(() => undefined);
    if (devicePath === undefined) continue;
    const path = join(devRoot, name);
    if (!(await exists(path))) continue;
    const subsystem = await realpath(join(devicePath, 'subsystem')).then(basename, () => undefined);
    if (subsystem === 'platform') continue;
    const port: SerialPortInfo = { path };
    const usbInterface =
      subsystem === 'usb-serial' ? dirname(devicePath) : subsystem === 'usb' ? devicePath : undefined;
    if (usbInterface !== undefined) {
      const usbDevice = dirname(usbInterface);
      port.vendorId = (await attribute(usbDevice, 'idVendor'))?.toLowerCase();
      port.productId = (await attribute(usbDevice, 'idProduct'))?.toLowerCase();
      port.serialNumber = await attribute(usbDevice, 'serial');
      port.manufacturer = await attribute(usbDevice, 'manufacturer');
      port.locationId = basename(usbInterface);
    }
    const link = byId.get(path);
    if (link !== undefined) port.pnpId = link;
    ports.push(dropUndefined(port));
  }
  return ports;
}

/** /dev/serial/by-id link names by the device node they point at. */
async function byIdNames(devRoot: string): Promise<Map<string, string>> {
  const dir = join(devRoot, 'serial', 'by-id');
  const names = new Map<string, string>();
  let links: string[];
  try {
    links = await readdir(dir);
  } catch {
    return names;
  }
  for (const link of links.sort()) {
    try {
      const target = resolve(dir, await readlink(join(dir, link)));
      if (!names.has(target)) names.set(target, link);
    } catch {
      // Not a link, or gone meanwhile.
    }
  }
  return names;
}

async function attribute(dir: string, name: string): Promise<string | undefined> {
  try {
    const value = (await readFile(join(dir, name), 'utf8')).trim();
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function dropUndefined(port: SerialPortInfo): SerialPortInfo {
  return Object.fromEntries(Object.entries(port).filter(([, v]) => v !== undefined)) as SerialPortInfo;
}
