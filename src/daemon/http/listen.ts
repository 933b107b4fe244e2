/**
 * Where the dashboard listens: `HOST:PORT` from `daemon --http` or the config. Loopback only
 * unless the user says otherwise (docs/dashboard.md, "Security"): a bench's terminals are not
 * for the whole network to see.
 */
import { isIP } from 'node:net';
import { PosbridgeError } from '../../host/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** `127.0.0.1:8390`, `[::1]:8390`, `localhost:0` (0: any free port). */
export function parseListen(text: string, allowRemote: boolean): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !(port >= 0 && port <= 65535))
    throw new PosbridgeError('USAGE', `--http ${text}: not HOST:PORT`, {
      hint: 'e.g. --http 127.0.0.1:8390 (the port from 1 to 65535, or 0 for any free one)',
    });
  const host = (match[1] ?? match[2])!;
  if (host !== 'localhost' && isIP(host) === 0)
    throw new PosbridgeError('USAGE', `--http ${text}: ${host} is not an IP address`, {
      hint: 'give the address to listen on, e.g. 127.0.0.1',
    });
  if (!allowRemote && !isLoopback(host))
    throw new PosbridgeError('USAGE', `--http ${text}: ${host} is not a loopback address`, {
      hint: 'the dashboard listens on this machine only (127.0.0.1) unless you also give --http-allow-remote (or http.allowRemote: true in the config); anyone who can reach it still needs the printed URL',
    });
  return { host, port };
}
