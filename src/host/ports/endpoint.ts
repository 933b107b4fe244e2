/**
 * What a port name reaches, as the key of its lock (endpoint-lock.ts): two names that reach the
 * same terminal must give the same key, or two runs both get in (issue 9: both read STATUS, both
 * log in, the terminal locks).
 *
 * - A device path is keyed by its target with every symlink resolved: `/dev/serial/by-id/usb-X`,
 *   a pty link and `/dev/ttyUSB0` are one device.
 * - A network endpoint (tcp://, and any scheme registered later with a host and port) is keyed by
 *   host and port, not by scheme (a serial server's port is one terminal whatever speaks to it):
 *   the host lower-cased, without brackets or a trailing dot, IPv4-mapped IPv6 unwrapped, a name
 *   resolved to its first address (the one a connection tries first). Every spelling of this
 *   machine (`localhost`, 127.0.0.1, ::1, 0.0.0.0) is one key, `loopback`: a server on this
 *   machine is usually reached by any of them, and a lock too wide only says "busy" where a lock
 *   too narrow lets two runs share a terminal.
 * - An in-process port (mock://, an injected serialport binding, a memory link) is keyed by its
 *   name within the factory that opens it, in this process only: two factories are two sets of
 *   terminals, even with the same names (tests run several mock worlds side by side).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { realpath } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve } from 'node:path';

export interface Endpoint {
  /** `host`: one owner on this machine; `process`: one owner in this process (in-process ports). */
  scope: 'host' | 'process';
  /** `device:/dev/ttyUSB0`, `net:192.168.1.30:4001`, `net:loopback:7001`, `process#3:mock://a`. */
  key: string;
}

/** Resolves a host name to one address (the first, as a connection tries it). */
export type HostLookup = (host: string) => Promise<string>;

export const defaultHostLookup: HostLookup = async (host) => (await dnsLookup(host)).address;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0', '::']);

/** The spelling-independent form of a host, without DNS: `loopback` for this machine. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) h = mapped[1]!;
  if (LOOPBACK_NAMES.has(h) || h.endsWith('.localhost')) return 'loopback';
  return h;
}

/** The key of `host:port`; a name is resolved (lookup failure: the name itself, the open then fails). */
export async function networkEndpoint(
  host: string,
  port: number,
  lookup: HostLookup = defaultHostLookup,
): Promise<Endpoint> {
  let h = normalizeHost(host);
  if (h !== 'loopback' && isIP(h) === 0) {
    try {
      h = normalizeHost(await lookup(h));
    } catch {
      // Unknown host: opening it fails next with a clear message; the key only has to be stable.
    }
  }
  return { scope: 'host', key: `net:${h}:${port}` };
}

/** The key of a device path: its target with every symlink resolved (or the absolute path if absent). */
export async function deviceEndpoint(path: string): Promise<Endpoint> {
  let target: string;
  try {
    target = await realpath(path);
  } catch {
    target = resolve(path);
  }
  return { scope: 'host', key: `device:${target}` };
}

const owners = new WeakMap<object, number>();
let nextOwner = 1;

/** An in-process port of `owner` (the factory that opens it): one owner in this process. */
export function processEndpoint(owner: object, name: string): Endpoint {
  let id = owners.get(owner);
  if (id === undefined) {
    id = nextOwner++;
    owners.set(owner, id);
  }
  return { scope: 'process', key: `process#${id}:${name}` };
}

/**
 * The endpoint of a name whose factory does not say: a URL with a host and a port is a network
 * endpoint (a scheme added later gets the host-wide lock without knowing about it), anything else
 * is keyed by its name within `owner` (its factory) in this process.
 */
export async function defaultEndpoint(
  owner: object,
  name: string,
  lookup: HostLookup = defaultHostLookup,
): Promise<Endpoint> {
  let url: URL | undefined;
  try {
    url = new URL(name);
  } catch {
    url = undefined;
  }
  if (url && url.hostname !== '' && url.port !== '')
    return networkEndpoint(url.hostname, Number(url.port), lookup);
  return processEndpoint(owner, name);
}
