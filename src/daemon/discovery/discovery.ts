/**
 * Discovery: which ports may the daemon talk to, now, and which appeared or disappeared.
 *
 * Sources:
 * - the lister (SerialPort.list() through listPorts by default: udev's view, with USB IDs);
 * - the configured ports: exact names (device paths, tcp://, mock://), always candidates while
 *   they exist (a scheme port always "exists"), and patterns (a wildcard in the last part of a
 *   device path) matched against the names in their directory;
 * - hot-plug: a watch on directories (fs.watch: inotify). A change of `ttyUSB*`/`ttyACM*` in `/dev`
 *   re-lists (debounced, with a follow-up pass once udev has settled); a change in a pattern's or a
 *   named port's directory re-checks those; any change in another configured `watch` directory
 *   re-lists.
 *
 * The rule that protects modems, GPS receivers and microcontroller boards: a port is a candidate
 * (and may receive bytes) only if its USB vendor[:product] ID is on the allow-list, or the user
 * named it (an exact entry of `ports`, by its path or its /dev/serial/by-id name), or it matches a
 * pattern the user wrote. A path that merely appears in a watched directory is not a candidate.
 * Every other listed port is reported as ignored and never opened.
 */
import { readdir as fsReaddir, realpath as fsRealpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { isPosbridgeError, PosbridgeError } from '../../host/errors.js';
import { listPorts, type UsbId } from '../../host/ports/list.js';
import { systemTimers, type TimerHandle, type Timers } from '../../protocol/index.js';
import { compilePattern, isPattern, type PortPattern } from './glob.js';
import { type DirectoryWatch, fsWatchSource, USB_SERIAL_NAME, type WatchSource } from './watch.js';

/** One listed port, as listPorts() (ListedPort) or SerialPort.list() (PortInfo) report it. */
export interface DiscoveredPortInfo {
  path: string;
  /** The /dev/serial/by-id/ path (ListedPort). */
  byId?: string | undefined;
  /** The by-id entry name (PortInfo on Linux); used when byId is absent. */
  pnpId?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
}

export type DiscoveryLister = () => Promise<readonly DiscoveredPortInfo[]>;

export interface UsbInfo {
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  manufacturer?: string;
}

/** Why the daemon may send bytes to a port. */
export type CandidateReason =
  /** Its USB vendor[:product] ID is on the allow-list. */
  | 'allowed'
  /** The user named it (config `ports`, `--port`, or a lease). */
  | 'named'
  /** It matches a pattern of config `ports`. */
  | 'pattern';

export interface PortCandidate {
  /** The name to open: as configured (named, pattern) or as listed (allowed). */
  port: string;
  reason: CandidateReason;
  byId?: string;
  usb?: UsbInfo;
  /** The allow-list entry's label (allowed ports). */
  label?: string;
  /** The device node the name resolves to (device paths). */
  device?: string;
}

/** A listed port that will not receive a byte. */
export interface IgnoredPort {
  path: string;
  byId?: string;
  usb?: UsbInfo;
  reason: string;
}

export type DiscoveryChange =
  | { type: 'appeared'; candidate: PortCandidate }
  | { type: 'disappeared'; candidate: PortCandidate };

/** What the port manager needs of a discovery (Discovery, or a test's stand-in). */
export interface DiscoverySource {
  start(): Promise<void>;
  candidates(): PortCandidate[];
  /** True while `port` is a candidate. */
  has(port: string): boolean;
  onChange(listener: (change: DiscoveryChange) => void): () => void;
  close(): Promise<void>;
}

export interface DiscoveryFs {
  /** Resolves symlinks; rejects when the path (or its target) does not exist. */
  realpath(path: string): Promise<string>;
  readdir(dir: string): Promise<string[]>;
}

export interface DiscoveryOptions {
  /** USB IDs whose ports may receive bytes (config `allow`). */
  allow: readonly UsbId[];
  /** Ports the user named, and patterns (config `ports`, `--port`). */
  ports?: readonly string[] | undefined;
  /** Directories to watch (config `watch`); [] or undefined: no hot-plug (list on refresh only). */
  watch?: readonly string[] | undefined;
  /** Default: listPorts() (SerialPort.list(), needs udevadm). */
  lister?: DiscoveryLister | undefined;
  /** Default: fs.watch. */
  watchSource?: WatchSource | undefined;
  fs?: DiscoveryFs | undefined;
  timers?: Timers | undefined;
  logger: Logger;
  /** Changes within this window are handled together, ms. Default 50. */
  debounceMs?: number | undefined;
  /**
   * Re-lists again this long after a device change, ms: udev may not have filled in the USB IDs
   * and the by-id link when the node appears. Default [250, 1000].
   */
  followUpMs?: readonly number[] | undefined;
}

export const DISCOVERY_DEFAULTS = { debounceMs: 50, followUpMs: [250, 1000] } as const;

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const DEV = '/dev';

const defaultFs: DiscoveryFs = {
  realpath: (path) => fsRealpath(path),
  readdir: (dir) => fsReaddir(dir),
};

const RANK: Record<CandidateReason, number> = { named: 0, pattern: 1, allowed: 2 };

export class Discovery implements DiscoverySource {
  private readonly allow: readonly UsbId[];
  private readonly named: string[];
  private readonly patterns: PortPattern[];
  private readonly lister: DiscoveryLister;
  private readonly watchSource: WatchSource;
  private readonly fs: DiscoveryFs;
  private readonly timers: Timers;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly followUpMs: readonly number[];
  /** Configured watch directories (any change re-lists, /dev: tty names only). */
  private readonly watchDirs: string[];
  /** Directories of named ports and patterns (a change of a matching name re-checks them). */
  private readonly portDirs: string[];
  private readonly watches = new Map<string, DirectoryWatch>();
  private readonly listeners = new Set<(change: DiscoveryChange) => void>();
  private current = new Map<string, PortCandidate>();
  private ignoredPorts: IgnoredPort[] = [];
  private missing: string[] = [];
  private listing: readonly DiscoveredPortInfo[] | undefined;
  private lastListError: PosbridgeError | undefined;
  private watching = false;
  private closed = false;
  private running: Promise<void> | undefined;
  private queued: { relist: boolean; promise: Promise<void>; resolve: () => void } | undefined;
  private debounce: { timer: TimerHandle; relist: boolean } | undefined;
  private followUps: TimerHandle[] = [];

  constructor(options: DiscoveryOptions) {
    this.allow = options.allow;
    const ports = [...new Set(options.ports ?? [])];
    this.named = ports.filter((p) => !isPattern(p));
    this.patterns = ports.filter(isPattern).map(compilePattern);
    this.lister = options.lister ?? (() => listPorts());
    this.watchSource = options.watchSource ?? fsWatchSource;
    this.fs = options.fs ?? defaultFs;
    this.timers = options.timers ?? systemTimers;
    this.logger = options.logger;
    this.debounceMs = options.debounceMs ?? DISCOVERY_DEFAULTS.debounceMs;
    this.followUpMs = options.followUpMs ?? DISCOVERY_DEFAULTS.followUpMs;
    this.watchDirs = [...new Set(options.watch ?? [])];
    const deviceNames = this.named.filter((p) => !SCHEME.test(p));
    this.portDirs =
      this.watchDirs.length === 0
        ? []
        : [...new Set([...deviceNames.map((p) => dirname(p)), ...this.patterns.map((p) => p.dir)])];
  }

  /** Lists once and starts watching. Resolves when the first candidates are known (and announced). */
  async start(): Promise<void> {
    if (this.closed || this.watching) return;
    this.watching = true;
    this.watchAll();
    await this.refresh({ relist: true });
  }

  candidates(): PortCandidate[] {
    return [...this.current.values()].map(copyCandidate);
  }

  has(port: string): boolean {
    return this.current.has(port);
  }

  /** Listed ports that are not candidates (not on the allow-list, not named): never opened. */
  ignored(): IgnoredPort[] {
    return this.ignoredPorts.map((p) => ({ ...p }));
  }

  /** Device paths the user named that do not exist now. */
  absent(): string[] {
    return [...this.missing];
  }

  /** The last listing's failure (udevadm missing...), undefined once a listing works. */
  get listError(): PosbridgeError | undefined {
    return this.lastListError;
  }

  onChange(listener: (change: DiscoveryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Recomputes the candidates now (re-listing when `relist`, default true) and announces what
   * changed. Calls are serialized; a call made while one runs is merged into the next run.
   */
  refresh(options: { relist?: boolean } = {}): Promise<void> {
    const relist = options.relist ?? true;
    if (this.closed) return Promise.resolve();
    if (!this.running) {
      this.running = this.run(relist);
      return this.running;
    }
    if (!this.queued) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.queued = { relist, promise, resolve };
    } else this.queued.relist ||= relist;
    return this.queued.promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.debounce) this.timers.clearTimeout(this.debounce.timer);
    for (const timer of this.followUps.splice(0)) this.timers.clearTimeout(timer);
    this.debounce = undefined;
    for (const watch of this.watches.values()) safeClose(watch);
    this.watches.clear();
    this.listeners.clear();
    const queued = this.queued;
    this.queued = undefined;
    queued?.resolve();
    await this.running?.catch(() => undefined);
  }

  private async run(relist: boolean): Promise<void> {
    try {
      await this.compute(relist);
    } catch (error) {
      this.logger.error({ err: error }, 'discovery: refresh failed');
    }
    const next = this.queued;
    this.queued = undefined;
    if (next && !this.closed) {
      this.running = this.run(next.relist);
      void this.running.then(next.resolve);
    } else {
      this.running = undefined;
      next?.resolve();
    }
  }

  /**
   * Schedules a refresh after the debounce window (changes inside it are handled together) and,
   * for a device change, the follow-up re-lists (restarted by each change).
   */
  private schedule(relist: boolean, followUp = false): void {
    if (this.closed) return;
    if (followUp) {
      for (const timer of this.followUps.splice(0)) this.timers.clearTimeout(timer);
      for (const delay of this.followUpMs) {
        const timer: TimerHandle = this.timers.setTimeout(() => {
          this.followUps = this.followUps.filter((t) => t !== timer);
          void this.refresh({ relist: true });
        }, delay);
        this.followUps.push(timer);
      }
    }
    if (this.debounce) {
      this.debounce.relist ||= relist;
      return;
    }
    const timer = this.timers.setTimeout(() => {
      const pending = this.debounce;
      this.debounce = undefined;
      void this.refresh({ relist: pending?.relist ?? relist });
    }, this.debounceMs);
    this.debounce = { timer, relist };
  }

  private watchAll(): void {
    if (!this.watching || this.closed) return;
    for (const dir of new Set([...this.watchDirs, ...this.portDirs])) {
      if (this.watches.has(dir)) continue;
      try {
        const watch = this.watchSource(
          dir,
          (name) => this.onWatchEvent(dir, name),
          (error) => {
            this.logger.warn({ err: error, dir }, 'discovery: watch failed, will retry');
            safeClose(this.watches.get(dir));
            this.watches.delete(dir);
            this.schedule(true);
          },
        );
        this.watches.set(dir, watch);
        this.logger.debug({ dir }, 'discovery: watching');
      } catch (error) {
        // /dev/serial/by-id does not exist while nothing is plugged: retried at each refresh.
        this.logger.debug({ err: error, dir }, 'discovery: cannot watch (yet)');
      }
    }
  }

  private onWatchEvent(dir: string, name: string | undefined): void {
    if (this.closed) return;
    if (name === undefined) {
      this.schedule(true, true);
      return;
    }
    const path = join(dir, name);
    if (dir === DEV ? USB_SERIAL_NAME.test(name) || name === 'serial' : this.watchDirs.includes(dir)) {
      this.schedule(true, true);
      return;
    }
    const relevant =
      this.named.includes(path) ||
      this.patterns.some((p) => p.matchesPath(path)) ||
      // A directory on the way to a named port (e.g. /dev/serial for /dev/serial/by-id/...).
      this.named.some((p) => p.startsWith(`${path}/`)) ||
      this.patterns.some((p) => p.dir === path || p.dir.startsWith(`${path}/`));
    if (relevant) this.schedule(false);
  }

  private async compute(relist: boolean): Promise<void> {
    if (relist || this.listing === undefined) await this.list();
    this.watchAll();
    const next = new Map<string, PortCandidate>();
    const byDevice = new Map<string, PortCandidate>();
    const missing: string[] = [];
    const ignored: IgnoredPort[] = [];

    const addDevice = (candidate: PortCandidate): void => {
      const device = candidate.device ?? candidate.port;
      const existing = byDevice.get(device);
      if (existing) {
        // Two names for one device (a by-id link and its ttyUSBn): keep the user's name.
        if (RANK[candidate.reason] < RANK[existing.reason]) {
          next.delete(existing.port);
          mergeInfo(candidate, existing);
          byDevice.set(device, candidate);
          next.set(candidate.port, candidate);
        } else mergeInfo(existing, candidate);
        return;
      }
      byDevice.set(device, candidate);
      next.set(candidate.port, candidate);
    };

    for (const port of this.named) {
      if (SCHEME.test(port)) {
        next.set(port, { port, reason: 'named' });
        continue;
      }
      const device = await this.resolve(port);
      if (device === undefined) missing.push(port);
      else addDevice({ port, reason: 'named', device });
    }

    for (const pattern of this.patterns) {
      let names: string[];
      try {
        names = await this.fs.readdir(pattern.dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (!pattern.matchesName(name)) continue;
        const path = join(pattern.dir, name);
        const device = await this.resolve(path);
        if (device !== undefined) addDevice({ port: path, reason: 'pattern', device });
      }
    }

    for (const info of this.listing ?? []) {
      const byId = byIdOf(info);
      const usb = usbOf(info);
      const allowed = matchUsbId(this.allow, info);
      const userNamed = [info.path, byId].some(
        (name) =>
          name !== undefined && (this.named.includes(name) || this.patterns.some((p) => p.matchesPath(name))),
      );
      const device = (await this.resolve(info.path)) ?? info.path;
      const listed: PortCandidate = { port: info.path, reason: userNamed ? 'named' : 'allowed', device };
      if (byId !== undefined) listed.byId = byId;
      if (usb) listed.usb = usb;
      if (allowed) listed.label = allowed.label;
      if (byDevice.has(device)) {
        // Named or matched already (by path, by-id or symlink): it gains the listing's USB details.
        mergeInfo(byDevice.get(device)!, listed);
        continue;
      }
      if (allowed || userNamed) {
        addDevice(listed);
        continue;
      }
      const skip: IgnoredPort = { path: info.path, reason: 'not on the allow-list and not named' };
      if (byId !== undefined) skip.byId = byId;
      if (usb) skip.usb = usb;
      ignored.push(skip);
    }

    if (this.closed) return;
    const previous = this.current;
    this.current = next;
    this.ignoredPorts = ignored;
    this.missing = missing;
    const changes: DiscoveryChange[] = [];
    for (const [port, candidate] of previous) {
      const now = next.get(port);
      // The same name now leads to another device (re-enumerated, a new pty): the old one went away.
      if (
        !now ||
        (now.device !== undefined && candidate.device !== undefined && now.device !== candidate.device)
      )
        changes.push({ type: 'disappeared', candidate: copyCandidate(candidate) });
    }
    for (const [port, candidate] of next) {
      const before = previous.get(port);
      if (
        !before ||
        (before.device !== undefined && candidate.device !== undefined && before.device !== candidate.device)
      )
        changes.push({ type: 'appeared', candidate: copyCandidate(candidate) });
    }
    for (const skip of ignored) {
      this.logger.debug({ port: skip.path, usb: skip.usb }, 'discovery: ignored (not on the allow-list)');
    }
    for (const change of changes) {
      this.logger.info(
        { port: change.candidate.port, reason: change.candidate.reason },
        `discovery: ${change.type}`,
      );
      for (const listener of [...this.listeners]) {
        try {
          listener(change);
        } catch (error) {
          this.logger.error({ err: error }, 'discovery: listener threw');
        }
      }
    }
  }

  private async list(): Promise<void> {
    try {
      this.listing = await this.lister();
      if (this.lastListError) this.logger.info('discovery: listing ports works again');
      this.lastListError = undefined;
    } catch (error) {
      const wrapped = isPosbridgeError(error)
        ? error
        : new PosbridgeError('PORT_LIST_FAILED', `cannot list serial ports: ${(error as Error)?.message}`, {
            cause: error,
          });
      if (!this.lastListError) this.logger.warn({ err: wrapped }, 'discovery: cannot list serial ports');
      this.lastListError = wrapped;
      // Keep the last listing: a failed listing is not an unplug.
      this.listing ??= [];
    }
  }

  private async resolve(path: string): Promise<string | undefined> {
    try {
      return await this.fs.realpath(path);
    } catch {
      return undefined;
    }
  }
}

/** The allow-list entry matching a listed port's USB IDs, if any. */
export function matchUsbId(
  ids: readonly UsbId[],
  info: { vendorId?: string | undefined; productId?: string | undefined },
): UsbId | undefined {
  const vendor = normalizeHex(info.vendorId);
  if (vendor === undefined) return undefined;
  const product = normalizeHex(info.productId);
  return ids.find((id) => id.vendorId === vendor && (id.productId === undefined || id.productId === product));
}

function normalizeHex(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  return text.toLowerCase().replace(/^0x/, '').padStart(4, '0');
}

function byIdOf(info: DiscoveredPortInfo): string | undefined {
  if (info.byId) return info.byId;
  // On Linux serialport reports the /dev/serial/by-id/ entry name as pnpId.
  if (info.pnpId && !info.pnpId.includes('/')) return `/dev/serial/by-id/${info.pnpId}`;
  return undefined;
}

function usbOf(info: DiscoveredPortInfo): UsbInfo | undefined {
  const usb: UsbInfo = {};
  const vendorId = normalizeHex(info.vendorId);
  const productId = normalizeHex(info.productId);
  if (vendorId !== undefined) usb.vendorId = vendorId;
  if (productId !== undefined) usb.productId = productId;
  if (info.serialNumber) usb.serialNumber = info.serialNumber;
  if (info.manufacturer) usb.manufacturer = info.manufacturer;
  return Object.keys(usb).length > 0 ? usb : undefined;
}

function mergeInfo(target: PortCandidate, source: PortCandidate): void {
  if (target.byId === undefined && source.byId !== undefined) target.byId = source.byId;
  if (target.usb === undefined && source.usb !== undefined) target.usb = { ...source.usb };
  if (target.label === undefined && source.label !== undefined) target.label = source.label;
}

function copyCandidate(candidate: PortCandidate): PortCandidate {
  const copy: PortCandidate = { ...candidate };
  if (candidate.usb) copy.usb = { ...candidate.usb };
  return copy;
}

function safeClose(watch: DirectoryWatch | undefined): void {
  try {
    watch?.close();
  } catch {
    // Already gone.
  }
}
