/**
 * `rfc2217://HOST:PORT[?options]` and `telnet://HOST:PORT[?options]`, pure: the port name a person
 * types, read into what the transport needs. The host and port are those of a URL, so anything
 * that keys ports by URL host and port (the port lock) sees rfc2217://h:p, telnet://h:p and
 * tcp://h:p as the one server port they are.
 *
 * The options are pyserial's `rfc2217://` URL options that matter here (docs/cli.md, "Serial
 * servers"), so a URL that works with pyserial, esptool or miniterm works here too:
 *   ign_set_control   do not wait for (nor check) the answer to SET-CONTROL
 *   poll_modem        poll the server while the port is open; an unanswered poll is an unplug
 *   timeout=SECONDS   bound on each negotiation wait (pyserial's network timeout), default 3
 *   logging=LEVEL     accepted (debug, info, warning, error); posbridge logs by --log-level
 * Anything else is a usage error naming the option.
 */
import { PosbridgeError } from '../../errors.js';

export type TelnetScheme = 'telnet' | 'rfc2217';

export interface TelnetPortSpec {
  scheme: TelnetScheme;
  host: string;
  port: number;
  /** `HOST:PORT` as typed in a URL (IPv6 in brackets, host lower-cased), for messages. */
  address: string;
  /** Bound on each negotiation wait, ms. */
  timeoutMs: number;
  /** `?ign_set_control`: SET-CONTROL is sent but its answer neither awaited nor checked. */
  ignSetControl: boolean;
  /** `?poll_modem`: poll the server while open; no answer within timeoutMs is an unplug. */
  pollModem: boolean;
  /** `?logging=LEVEL` as given (pyserial's own log level; posbridge follows --log-level). */
  logging?: string;
}

/** pyserial's default network timeout (serial/rfc2217.py). */
export const DEFAULT_NEGOTIATION_TIMEOUT_S = 3;
const MAX_TIMEOUT_S = 60;
const LOGGING_LEVELS = ['debug', 'info', 'warning', 'error'];

const OPTIONS: Record<TelnetScheme, readonly string[]> = {
  rfc2217: ['ign_set_control', 'poll_modem', 'timeout', 'logging'],
  telnet: ['timeout', 'logging'],
};

export function isTelnetScheme(scheme: string): scheme is TelnetScheme {
  return scheme === 'telnet' || scheme === 'rfc2217';
}

/** Reads a telnet:// or rfc2217:// name; a USAGE error names what is wrong. */
export function parseTelnetPortName(name: string): TelnetPortSpec {
  const match = /^([A-Za-z0-9]+):\/\/([^/?#]*)(\/)?(?:\?([^#]*))?$/.exec(name);
  const scheme = match?.[1]?.toLowerCase();
  if (!match || scheme === undefined || !isTelnetScheme(scheme)) throw nameUsage(name, 'rfc2217');
  const { host, port } = hostPort(match[2]!, name, scheme);
  const spec: TelnetPortSpec = {
    scheme,
    host,
    port,
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    timeoutMs: DEFAULT_NEGOTIATION_TIMEOUT_S * 1000,
    ignSetControl: false,
    pollModem: false,
  };
  for (const [key, value] of new URLSearchParams(match[4] ?? '')) applyOption(spec, key, value, name);
  return spec;
}

function hostPort(authority: string, name: string, scheme: TelnetScheme): { host: string; port: number } {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$/.exec(authority);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port < 1 || port > 65535) throw nameUsage(name, scheme);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host: host.toLowerCase(), port };
}

function applyOption(spec: TelnetPortSpec, key: string, value: string, name: string): void {
  if (!OPTIONS[spec.scheme].includes(key)) {
    const only = OPTIONS.rfc2217.includes(key) ? ` (${key} is an RFC 2217 option: use rfc2217://)` : '';
    throw new PosbridgeError('USAGE', `unknown ${spec.scheme}:// option "${key}" in ${name}${only}`, {
      hint: `Options: ${OPTIONS[spec.scheme].map((o) => (o === 'timeout' ? 'timeout=SECONDS' : o === 'logging' ? 'logging=LEVEL' : o)).join(', ')}.`,
      details: { port: name, option: key },
    });
  }
  switch (key) {
    case 'ign_set_control':
    case 'poll_modem':
      if (value !== '') throw optionUsage(name, key, `${key} takes no value`);
      if (key === 'ign_set_control') spec.ignSetControl = true;
      else spec.pollModem = true;
      return;
    case 'timeout': {
      const seconds = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(value) ? Number(value) : Number.NaN;
      if (!(seconds > 0 && seconds <= MAX_TIMEOUT_S))
        throw optionUsage(name, key, `timeout must be a number of seconds above 0, at most ${MAX_TIMEOUT_S}`);
      spec.timeoutMs = Math.round(seconds * 1000);
      return;
    }
    case 'logging':
      if (!LOGGING_LEVELS.includes(value))
        throw optionUsage(name, key, `logging must be one of ${LOGGING_LEVELS.join(', ')}`);
      spec.logging = value;
      return;
  }
}

function optionUsage(name: string, option: string, message: string): PosbridgeError {
  return new PosbridgeError('USAGE', `${message} (in ${name})`, {
    hint: 'See docs/cli.md, "Serial servers", for the options of rfc2217:// and telnet:// ports.',
    details: { port: name, option },
  });
}

function nameUsage(name: string, scheme: TelnetScheme): PosbridgeError {
  return new PosbridgeError('USAGE', `not a ${scheme}:// port name: ${name}`, {
    hint: `Write it as ${scheme}://HOST:PORT[?options], e.g. ${scheme}://192.168.1.50:4001.`,
    details: { port: name },
  });
}
