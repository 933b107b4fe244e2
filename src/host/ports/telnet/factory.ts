/**
 * PortFactories for `rfc2217://HOST:PORT` (a serial server speaking RFC 2217: ser2net, Moxa
 * NPort, Lantronix, pyserial's server) and `telnet://HOST:PORT` (the same Telnet framing without
 * COM-PORT-OPTION, for a server whose line is set up on its side).
 *
 * The TCP connection is the cable, as for tcp://: a server that closes or resets it, or dies, is
 * an unplug (DISCONNECTED, exit 3, resumable). TCP keepalive notices a server that vanished
 * without a word while the link is idle; with `?poll_modem` the server is also polled every
 * second (SET-CONTROL "which flow control?", which every RFC 2217 server answers, modem lines or
 * not), and a poll unanswered within the port's timeout ends the link the same way.
 */
import type { Logger } from 'pino';
import { systemTimers, type Timers } from '../../../protocol/index.js';
import { PosbridgeError } from '../../errors.js';
import { connect, TCP_DEFAULTS } from '../tcp.js';
import type { PortFactory, PortOpenOptions, Transport } from '../transport.js';
import { Control, setControl } from './com-port.js';
import { TelnetLink } from './link.js';
import { negotiate } from './setup.js';
import { parseTelnetPortName, type TelnetPortSpec, type TelnetScheme } from './url.js';

export interface TelnetPortFactoryOptions {
  /** Bound on connecting, ms. Default 5000. */
  connectTimeoutMs?: number | undefined;
  /** Bound on a graceful close before the socket is destroyed, ms. Default 1000. */
  closeTimeoutMs?: number | undefined;
  /** Interval of `?poll_modem` polls, ms. Default 1000. */
  pollIntervalMs?: number | undefined;
  /** Idle time before TCP keepalive probes start, ms. Default 10000. */
  keepAliveMs?: number | undefined;
  timers?: Timers | undefined;
  logger?: Logger | undefined;
}

export const TELNET_DEFAULTS = { pollIntervalMs: 1000, keepAliveMs: 10_000 } as const;

export function rfc2217PortFactory(options: TelnetPortFactoryOptions = {}): PortFactory {
  return telnetFamilyFactory('rfc2217', options);
}

export function telnetPortFactory(options: TelnetPortFactoryOptions = {}): PortFactory {
  return telnetFamilyFactory('telnet', options);
}

function telnetFamilyFactory(scheme: TelnetScheme, options: TelnetPortFactoryOptions): PortFactory {
  const timers = options.timers ?? systemTimers;
  return {
    async open(name: string, openOptions: PortOpenOptions): Promise<Transport> {
      const spec = parseTelnetPortName(name);
      if (spec.scheme !== scheme) {
        throw new PosbridgeError('USAGE', `${name} is not a ${scheme}:// port`, { details: { port: name } });
      }
      const { baudRate } = openOptions;
      if (scheme === 'rfc2217' && (!Number.isInteger(baudRate) || baudRate <= 0 || baudRate > 0xffffffff)) {
        throw new PosbridgeError('USAGE', `invalid baud rate ${baudRate}`, {
          hint: 'Give --baud a positive whole number (TSP/1 default: 115200).',
        });
      }
      if (spec.logging !== undefined) {
        options.logger?.debug(
          { port: name, logging: spec.logging },
          'logging= is accepted for pyserial compatibility; posbridge logs by --log-level (debug shows the negotiation)',
        );
      }
      const socket = await connect(
        name,
        spec.host,
        spec.port,
        options.connectTimeoutMs ?? TCP_DEFAULTS.connectTimeoutMs,
      );
      socket.setKeepAlive(true, options.keepAliveMs ?? TELNET_DEFAULTS.keepAliveMs);
      const link = new TelnetLink(name, socket, {
        comPort: scheme === 'rfc2217',
        timers,
        closeTimeoutMs: options.closeTimeoutMs ?? TCP_DEFAULTS.closeTimeoutMs,
        logger: options.logger,
      });
      try {
        await negotiate(link, spec, baudRate);
      } catch (error) {
        await link.close();
        throw error;
      }
      if (link.discarded > 0) {
        options.logger?.debug(
          { port: name, bytes: link.discarded },
          'dropped bytes that came before the port was set up',
        );
      }
      if (spec.pollModem)
        pollServer(link, spec, timers, options.pollIntervalMs ?? TELNET_DEFAULTS.pollIntervalMs);
      return link;
    },
  };
}

/** `?poll_modem`: ask `intervalMs` after each answer; no answer within the port's timeout is an unplug. */
function pollServer(link: TelnetLink, spec: TelnetPortSpec, timers: Timers, intervalMs: number): void {
  let awaiting = false;
  let deadline: unknown;
  let next: unknown;
  const poll = (): void => {
    if (link.closed) return;
    awaiting = true;
    link.sendRaw(setControl(Control.REQUEST_FLOW));
    deadline = timers.setTimeout(() => {
      if (awaiting) {
        link.fail(
          `the serial server stopped answering (no answer to a poll within ${spec.timeoutMs / 1000} s)`,
        );
      }
    }, spec.timeoutMs);
  };
  const stopListening = link.onComPort((message) => {
    if (message.kind !== 'control' || !awaiting) return;
    awaiting = false;
    timers.clearTimeout(deadline);
    next = timers.setTimeout(poll, intervalMs);
  });
  next = timers.setTimeout(poll, intervalMs);
  link.onClose(() => {
    stopListening();
    timers.clearTimeout(deadline);
    timers.clearTimeout(next);
  });
}
