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
 * Which of those ports are candidates is candidates.ts's rule (the allow-list, or named by the
 * user): a path that merely appears in a watched directory is not a candidate. This class keeps
 * the sources, the watches and the timing (debounce, follow-ups, one refresh at a time) and
 * announces what changed.
 */
import { readdir as fsReaddir, realpath as fsRealpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { isPosbridgeError, PosbridgeError } from '../../host/errors.js';
import { listPorts, type UsbId } from '../../host/ports/list.js';
import { systemTimers, type TimerHandle, type Timers } from '../../protocol/index.js';
import { changesBetween, copyCandidate, findCandidates, SCHEME } from './candidates.js';
import { compilePattern, isPattern, type PortPattern } from './glob.js';
import type {
  DiscoveredPortInfo,
  DiscoveryChange,
  DiscoveryFs,
  DiscoveryLister,
  DiscoverySource,
  IgnoredPort,
  PortCandidate,
} from './types.js';
import { type DirectoryWatch, fsWatchSource, USB_SERIAL_NAME, type WatchSource } from './watch.js';

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

const DEV = '/dev';

const defaultFs: DiscoveryFs = {
  realpath: (path) => fsRealpath(path),
  readdir: (dir) => fsReaddir(dir),
};

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
  private debounce: { timer: TimerHandle; relist: boolean; early: boolean } | undefined;
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
   * for a device change, the follow-up re-lists (restarted by each change). `early`: a name that
   * a named port or a pattern matches changed; such a port is found from its directory, so a
   * pass over the last listing announces it before the re-list (udevadm: 0.1-0.3 s on a loaded
   * machine, docs/daemon.md "Hot-plug"), which then adds what udev knows of it ('updated').
   */
  private schedule(relist: boolean, followUp = false, early = false): void {
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
      this.debounce.early ||= early;
      return;
    }
    const timer = this.timers.setTimeout(() => {
      const pending = this.debounce ?? { relist, early };
      this.debounce = undefined;
      if (pending.early && pending.relist) void this.refresh({ relist: false });
      void this.refresh({ relist: pending.relist });
    }, this.debounceMs);
    this.debounce = { timer, relist, early };
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
    const relevant =
      this.named.includes(path) ||
      this.patterns.some((p) => p.matchesPath(path)) ||
      // A directory on the way to a named port (e.g. /dev/serial for /dev/serial/by-id/...).
      this.named.some((p) => p.startsWith(`${path}/`)) ||
      this.patterns.some((p) => p.dir === path || p.dir.startsWith(`${path}/`));
    if (dir === DEV ? USB_SERIAL_NAME.test(name) || name === 'serial' : this.watchDirs.includes(dir)) {
      this.schedule(true, true, relevant);
      return;
    }
    if (relevant) this.schedule(false);
  }

  private async compute(relist: boolean): Promise<void> {
    if (relist || this.listing === undefined) await this.list();
    this.watchAll();
    const found = await findCandidates({
      named: this.named,
      patterns: this.patterns,
      allow: this.allow,
      listing: this.listing ?? [],
      resolve: (path) => this.resolve(path),
      readdir: (dir) => this.fs.readdir(dir),
    });
    if (this.closed) return;
    const previous = this.current;
    this.current = found.candidates;
    this.ignoredPorts = found.ignored;
    this.missing = found.missing;
    for (const skip of found.ignored) {
      this.logger.debug({ port: skip.path, usb: skip.usb }, 'discovery: ignored (not on the allow-list)');
    }
    for (const change of changesBetween(previous, found.candidates)) {
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

function safeClose(watch: DirectoryWatch | undefined): void {
  try {
    watch?.close();
  } catch {
    // Already gone.
  }
}
