/**
 * `posbridge ports`: the serial ports of this machine, marking those that look like terminals.
 * The lister is injected. The default asks udev (SerialPort.list(), which shells out to udevadm)
 * and, where udevadm is missing (containers, minimal images) or udev knows no port, reads sysfs
 * as pyserial does (sysfs-list.ts). Neither lists ptys: name those with --port.
 */
import { PosbridgeError } from '../errors.js';
import { listSysfsPorts, type SysfsListOptions } from './sysfs-list.js';

/** What a lister reports per port (serialport's PortInfo; USB ids lower-case hex without 0x). */
export interface SerialPortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  pnpId?: string | undefined;
  locationId?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

export type PortLister = () => Promise<SerialPortInfo[]>;

export interface UsbId {
  /** Lower-case hex without 0x. */
  vendorId: string;
  /** Any product of the vendor when absent. */
  productId?: string;
  label: string;
}

/**
 * USB vendors whose devices are payment terminals, matched on the vendor ID (from usb.ids and
 * the vendors' published drivers). Configurable: pass `terminalIds` to listPorts (a profile can
 * add a model's exact vendor/product pair).
 */
export const DEFAULT_TERMINAL_IDS: readonly UsbId[] = [
  { vendorId: '0b00', label: 'Ingenico' },
  { vendorId: '079b', label: 'Ingenico (Sagem Monetel, Telium)' },
  { vendorId: '11ca', label: 'Verifone' },
  { vendorId: '2fb8', label: 'PAX' },
  { vendorId: '0ca6', label: 'Castles Technology' },
];

/**
 * Generic USB-serial bridges: a terminal with a serial cable shows up as one of these, so they are
 * worth a look but not marked as terminals.
 */
export const DEFAULT_ADAPTER_IDS: readonly UsbId[] = [
  { vendorId: '0403', label: 'FTDI USB-serial' },
  { vendorId: '067b', label: 'Prolific USB-serial' },
  { vendorId: '10c4', label: 'Silicon Labs CP210x USB-serial' },
  { vendorId: '1a86', label: 'WCH CH340 USB-serial' },
];

export type PortKind = 'terminal' | 'adapter' | 'other';

export interface ListedPort {
  path: string;
  /** The stable /dev/serial/by-id/ name, when udev gives one: better than ttyUSBn for scripts. */
  byId?: string;
  kind: PortKind;
  /** True for kind `terminal`. */
  looksLikeTerminal: boolean;
  /** Vendor label from the matching table entry. */
  label?: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

export interface ListPortsOptions {
  /** Default: defaultPortLister() (udev, else sysfs). */
  lister?: PortLister | undefined;
  terminalIds?: readonly UsbId[] | undefined;
  adapterIds?: readonly UsbId[] | undefined;
}

async function udevLister(): Promise<SerialPortInfo[]> {
  const { SerialPort } = await import('serialport');
  return SerialPort.list();
}

export interface DefaultListerOptions extends SysfsListOptions {
  /** udev's listing. Default: SerialPort.list() (udevadm). */
  udev?: PortLister | undefined;
}

/**
 * udev's listing when it works; sysfs when udevadm is missing (ENOENT), and when udev lists
 * nothing (udevadm present but no udev daemon, as in a container) while sysfs shows ports.
 */
export function defaultPortLister(options: DefaultListerOptions = {}): PortLister {
  const udev = options.udev ?? udevLister;
  return async () => {
    let listed: SerialPortInfo[];
    try {
      listed = await udev();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return listSysfsPorts(options);
    }
    return listed.length > 0 ? listed : listSysfsPorts(options).catch(() => listed);
  };
}

function matches(ids: readonly UsbId[], info: SerialPortInfo): UsbId | undefined {
  const vendor = info.vendorId?.toLowerCase();
  const product = info.productId?.toLowerCase();
  if (vendor === undefined) return undefined;
  return ids.find((id) => id.vendorId === vendor && (id.productId === undefined || id.productId === product));
}

/** Lists serial ports, terminals first, then by path. Rejects with PORT_LIST_FAILED. */
export async function listPorts(options: ListPortsOptions = {}): Promise<ListedPort[]> {
  const lister = options.lister ?? defaultPortLister();
  let infos: SerialPortInfo[];
  try {
    infos = await lister();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new PosbridgeError('PORT_LIST_FAILED', `cannot list serial ports: ${message}`, {
      hint: 'You can still name a port directly: --port /dev/ttyUSB0 or /dev/serial/by-id/...',
      cause: error,
    });
  }
  const terminalIds = options.terminalIds ?? DEFAULT_TERMINAL_IDS;
  const adapterIds = options.adapterIds ?? DEFAULT_ADAPTER_IDS;
  const ports = infos.map((info): ListedPort => {
    const terminal = matches(terminalIds, info);
    const adapter = terminal ? undefined : matches(adapterIds, info);
    const kind: PortKind = terminal ? 'terminal' : adapter ? 'adapter' : 'other';
    const port: ListedPort = { path: info.path, kind, looksLikeTerminal: kind === 'terminal' };
    const label = (terminal ?? adapter)?.label;
    if (label !== undefined) port.label = label;
    // On Linux serialport reports the /dev/serial/by-id/ entry name as pnpId.
    if (info.pnpId && !info.pnpId.includes('/')) port.byId = `/dev/serial/by-id/${info.pnpId}`;
    if (info.manufacturer) port.manufacturer = info.manufacturer;
    if (info.serialNumber) port.serialNumber = info.serialNumber;
    if (info.vendorId) port.vendorId = info.vendorId.toLowerCase();
    if (info.productId) port.productId = info.productId.toLowerCase();
    return port;
  });
  const rank: Record<PortKind, number> = { terminal: 0, adapter: 1, other: 2 };
  return ports.sort((a, b) => rank[a.kind] - rank[b.kind] || a.path.localeCompare(b.path));
}
