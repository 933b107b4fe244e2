/**
 * The rule that protects modems, GPS receivers and microcontroller boards: a port is a candidate
 * (and may receive bytes) only if its USB vendor[:product] ID is on the allow-list, or the user
 * named it (an exact entry of `ports`, by its path or its /dev/serial/by-id name), or it matches a
 * pattern the user wrote. Every other listed port is ignored and never opened. Two names of one
 * device (a by-id link and its ttyUSBn) are one candidate, under the user's name.
 */
import { join } from 'node:path';
import type { UsbId } from '../../host/ports/list.js';
import type { PortPattern } from './glob.js';
import type {
  CandidateReason,
  DiscoveredPortInfo,
  DiscoveryChange,
  IgnoredPort,
  PortCandidate,
  UsbInfo,
} from './types.js';

/** A port name with a scheme (tcp://, mock://...): no device node, always "exists". */
export const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

const RANK: Record<CandidateReason, number> = { named: 0, pattern: 1, allowed: 2 };

export interface CandidateSources {
  /** Exact port names the user gave (config `ports`, `--port`). */
  named: readonly string[];
  patterns: readonly PortPattern[];
  allow: readonly UsbId[];
  listing: readonly DiscoveredPortInfo[];
  /** The device node a path leads to; undefined when it does not exist. */
  resolve(path: string): Promise<string | undefined>;
  readdir(dir: string): Promise<string[]>;
}

export interface CandidateSet {
  candidates: Map<string, PortCandidate>;
  /** Device paths the user named that do not exist. */
  missing: string[];
  ignored: IgnoredPort[];
}

export async function findCandidates(sources: CandidateSources): Promise<CandidateSet> {
  const { named, patterns } = sources;
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

  for (const port of named) {
    if (SCHEME.test(port)) {
      next.set(port, { port, reason: 'named' });
      continue;
    }
    const device = await sources.resolve(port);
    if (device === undefined) missing.push(port);
    else addDevice({ port, reason: 'named', device });
  }

  for (const pattern of patterns) {
    let names: string[];
    try {
      names = await sources.readdir(pattern.dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!pattern.matchesName(name)) continue;
      const path = join(pattern.dir, name);
      const device = await sources.resolve(path);
      if (device !== undefined) addDevice({ port: path, reason: 'pattern', device });
    }
  }

  for (const info of sources.listing) {
    const byId = byIdOf(info);
    const usb = usbOf(info);
    const allowed = matchUsbId(sources.allow, info);
    const userNamed = [info.path, byId].some(
      (name) => name !== undefined && (named.includes(name) || patterns.some((p) => p.matchesPath(name))),
    );
    const device = (await sources.resolve(info.path)) ?? info.path;
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
  return { candidates: next, missing, ignored };
}

/** What went away, then what appeared or gained details (a later listing), from `previous` to `next`. */
export function changesBetween(
  previous: ReadonlyMap<string, PortCandidate>,
  next: ReadonlyMap<string, PortCandidate>,
): DiscoveryChange[] {
  const changes: DiscoveryChange[] = [];
  for (const candidate of previous.values()) {
    if (absentOrMoved(candidate, next))
      changes.push({ type: 'disappeared', candidate: copyCandidate(candidate) });
  }
  for (const candidate of next.values()) {
    if (absentOrMoved(candidate, previous))
      changes.push({ type: 'appeared', candidate: copyCandidate(candidate) });
    else if (gainedDetails(previous.get(candidate.port)!, candidate))
      changes.push({ type: 'updated', candidate: copyCandidate(candidate) });
  }
  return changes;
}

function gainedDetails(before: PortCandidate, after: PortCandidate): boolean {
  return (
    (before.usb === undefined && after.usb !== undefined) ||
    (before.byId === undefined && after.byId !== undefined)
  );
}

/**
 * `candidate`'s name is not in `other`, or it leads to another device there (re-enumerated, a new
 * pty): for the one side it went away, for the other it appeared.
 */
function absentOrMoved(candidate: PortCandidate, other: ReadonlyMap<string, PortCandidate>): boolean {
  const counterpart = other.get(candidate.port);
  return (
    !counterpart ||
    (counterpart.device !== undefined &&
      candidate.device !== undefined &&
      counterpart.device !== candidate.device)
  );
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

export function copyCandidate(candidate: PortCandidate): PortCandidate {
  const copy: PortCandidate = { ...candidate };
  if (candidate.usb) copy.usb = { ...candidate.usb };
  return copy;
}
