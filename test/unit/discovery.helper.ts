/**
 * The discovery's test rig: an injected lister, watch source (fired by hand), fake filesystem
 * and manual timers, with the listed ports of a bench (a terminal, a GPS, boards, adapters).
 */
import {
  type DiscoveredPortInfo,
  Discovery,
  type DiscoveryChange,
  type DiscoveryOptions,
} from '../../src/daemon/discovery/index.js';
import type { WatchSource } from '../../src/daemon/discovery/watch.js';
import { DEFAULT_TERMINAL_IDS } from '../../src/host/ports/list.js';
import { ManualTimers } from '../support/manual-timers.js';
import { silentLogger } from './daemon-wire.helper.js';

/** A filesystem of symlinks and device nodes: path -> what it resolves to. */
export class FakeFs {
  readonly nodes = new Map<string, string>();
  realpath = async (path: string): Promise<string> => {
    const target = this.nodes.get(path);
    if (target === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return target;
  };
  readdir = async (dir: string): Promise<string[]> => {
    const names = [...this.nodes.keys()]
      .filter((p) => p.startsWith(`${dir}/`))
      .map((p) => p.slice(dir.length + 1));
    if (names.length === 0 && !this.dirs.has(dir))
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return names.filter((n) => !n.includes('/'));
  };
  readonly dirs = new Set<string>();
  add(path: string, target = path): void {
    this.nodes.set(path, target);
  }
  remove(path: string): void {
    this.nodes.delete(path);
  }
}

/** Watches that tests fire by hand. */
export class FakeWatches {
  readonly active = new Map<string, (name: string | undefined) => void>();
  readonly missing = new Set<string>();
  readonly source: WatchSource = (dir, onChange) => {
    if (this.missing.has(dir)) throw Object.assign(new Error(`ENOENT: ${dir}`), { code: 'ENOENT' });
    this.active.set(dir, onChange);
    return { close: () => this.active.delete(dir) };
  };
  fire(dir: string, name: string | undefined): void {
    const callback = this.active.get(dir);
    if (!callback) throw new Error(`${dir} is not watched`);
    callback(name);
  }
}

export const GPS: DiscoveredPortInfo = {
  path: '/dev/ttyACM0',
  vendorId: '1546',
  productId: '01a7',
  manufacturer: 'u-blox AG',
  pnpId: 'usb-u-blox_AG_u-blox_7_-_GPS_GNSS_Receiver-if00',
};
export const INGENICO: DiscoveredPortInfo = {
  path: '/dev/ttyUSB0',
  vendorId: '0b00',
  productId: '0081',
  manufacturer: 'Ingenico',
  serialNumber: '1813000123',
  pnpId: 'usb-Ingenico_Move5000_1813000123-if00',
};
export const FTDI: DiscoveredPortInfo = {
  path: '/dev/ttyUSB1',
  vendorId: '0403',
  productId: '6001',
  manufacturer: 'FTDI',
  pnpId: 'usb-FTDI_FT232R_A50285BI-if00-port0',
};
export const ARDUINO: DiscoveredPortInfo = { path: '/dev/ttyACM1', vendorId: '2341', productId: '0043' };
export const BUILTIN: DiscoveredPortInfo = { path: '/dev/ttyS0' };

export interface Setup {
  discovery: Discovery;
  timers: ManualTimers;
  fs: FakeFs;
  watches: FakeWatches;
  listing: DiscoveredPortInfo[];
  listCalls: () => number;
  changes: string[];
  failList: (error?: Error) => void;
}

const open: Discovery[] = [];

/** Closes every discovery setup() made (afterEach). */
export async function closeDiscoveries(): Promise<void> {
  for (const d of open.splice(0)) await d.close();
}

export function setup(options: Partial<DiscoveryOptions> = {}, listing: DiscoveredPortInfo[] = []): Setup {
  const timers = new ManualTimers();
  const fs = new FakeFs();
  const watches = new FakeWatches();
  for (const info of listing) fs.add(info.path);
  let calls = 0;
  let failure: Error | undefined;
  const state = { listing: [...listing] };
  const discovery = new Discovery({
    allow: DEFAULT_TERMINAL_IDS,
    watch: ['/dev'],
    logger: silentLogger,
    timers,
    fs,
    watchSource: watches.source,
    lister: async () => {
      calls += 1;
      if (failure) throw failure;
      return state.listing;
    },
    ...options,
  });
  open.push(discovery);
  const changes: string[] = [];
  discovery.onChange((c: DiscoveryChange) => changes.push(`${c.type} ${c.candidate.port}`));
  return {
    discovery,
    timers,
    fs,
    watches,
    get listing() {
      return state.listing;
    },
    set listing(value) {
      state.listing = value;
    },
    listCalls: () => calls,
    changes,
    failList: (error) => {
      failure = error;
    },
  };
}
