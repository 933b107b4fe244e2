/**
 * Where the dashboard listens: `HOST:PORT` from `daemon --http` or the config's `http.listen`.
 * Loopback only unless the user says otherwise (docs/dashboard.md, "Security"): a bench's
 * terminals are not for the whole network to see.
 */
import { isIP } from 'node:net';
import { PosbridgeError } from '../../host/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Why a text is no address to listen on; each caller words it for its own flag or field. */
export type ListenProblem =
  | { problem: 'format' }
  | { problem: 'not-ip'; host: string }
  | { problem: 'remote'; host: string };

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** `127.0.0.1:8390`, `[::1]:8390`, `localhost:0` (0: any free port); else what is wrong. */
export function checkListen(text: string, allowRemote: boolean): ListenAddress | ListenProblem {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !(port >= 0 && port <= 65535)) return { problem: 'format' };
  const host = (match[1] ?? match[2])!;
  if (host !== 'localhost' && isIP(host) === 0) return { problem: 'not-ip', host };
  if (!allowRemote && !isLoopback(host)) return { problem: 'remote', host };
  return { host, port };
}

/** `daemon --http TEXT [--http-allow-remote]`: the address, or a usage error naming the flag. */
export function parseListen(text: string, allowRemote: boolean): ListenAddress {
  const checked = checkListen(text, allowRemote);
  if (!('problem' in checked)) return checked;
  switch (checked.problem) {
    case 'format':
      throw new PosbridgeError('USAGE', `--http ${text}: not HOST:PORT`, {
        hint: 'e.g. --http 127.0.0.1:8390 (the port from 1 to 65535, or 0 for any free one)',
      });
    case 'not-ip':
      throw new PosbridgeError('USAGE', `--http ${text}: ${checked.host} is not an IP address`, {
        hint: 'give the address to listen on, e.g. 127.0.0.1',
      });
    case 'remote':
      throw new PosbridgeError('USAGE', `--http ${text}: ${checked.host} is not a loopback address`, {
        hint: 'the dashboard listens on this machine only (127.0.0.1) unless you also give --http-allow-remote; anyone who can reach it still needs the printed URL',
      });
  }
}

/** The same problems as the config's `http.listen` field reports them (docs/daemon.md). */
export function listenFieldProblem(text: string, checked: ListenProblem): string {
  switch (checked.problem) {
    case 'format':
      return `"${text.slice(0, 60)}" is not HOST:PORT, e.g. "127.0.0.1:8390" (the port from 1 to 65535, or 0 for any free one)`;
    case 'not-ip':
      return `${checked.host} is not an IP address: give the address to listen on, e.g. "127.0.0.1:8390"`;
    case 'remote':
      return `${checked.host} is not a loopback address: the dashboard listens on this machine only (127.0.0.1) unless http.allowRemote is true; anyone who can reach it still needs the printed URL`;
  }
}
