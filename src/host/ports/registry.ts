/**
 * From the port name a person types to an open Transport (docs/cli.md, "Common flags" and "Serial servers"):
 *   /dev/ttyUSB0, /dev/serial/by-id/..., any other path (a pty symlink)  -> the serial factory
 *   tcp://HOST:PORT                                                     -> TCP
 *   rfc2217://HOST:PORT[?options], telnet://HOST:PORT[?options]         -> Telnet (telnet/)
 *   SCHEME://...                                                        -> a factory registered for SCHEME
 * The composition root registers `mock` (the in-process mock terminal); src/host knows it only
 * through the PortFactory interface.
 *
 * Every open goes through the endpoint lock first (endpoint-lock.ts): one owner per terminal on
 * this machine, whoever opens it (the CLI's in-process engine, the daemon's port manager, station,
 * console). A refused open touched nothing: no connection, no byte, no termios. The lock is freed
 * when the transport ends, whoever ends it.
 */
import type { Logger } from 'pino';
import { PosbridgeError } from '../errors.js';
import { defaultEndpoint, deviceEndpoint } from './endpoint.js';
import { type EndpointLocks, processEndpointLocks } from './endpoint-lock.js';
import { loadedOnUse } from './loaded-on-use.js';
import { parsePortName } from './port-name.js';
import { serialPortFactory } from './serial.js';
import { tcpPortFactory } from './tcp.js';
import type { PortFactory, PortOpenOptions, Transport } from './transport.js';

export { type ParsedPortName, parsePortName } from './port-name.js';

const SCHEME_NAME = /^[a-z][a-z0-9+.-]*$/;

export interface PortRegistryOptions {
  /** Opens device paths. Default: serialPortFactory() (serialport, platform binding). */
  devices?: PortFactory | undefined;
  /** Opens tcp:// names. Default: tcpPortFactory(). */
  tcp?: PortFactory | undefined;
  /** Opens rfc2217:// names. Default: rfc2217PortFactory(). */
  rfc2217?: PortFactory | undefined;
  /** Opens telnet:// names. Default: telnetPortFactory(). */
  telnet?: PortFactory | undefined;
  /** Given to the default rfc2217:// and telnet:// factories (at debug: every negotiation step). */
  logger?: Logger | undefined;
  /** The one-owner locks. Default: this process's (shared by every registry in it). */
  locks?: EndpointLocks | undefined;
}

export class PortRegistry {
  private readonly factories = new Map<string, PortFactory>();
  private devices: PortFactory;
  private readonly locks: EndpointLocks;

  constructor(options: PortRegistryOptions = {}) {
    this.devices = options.devices ?? serialPortFactory();
    this.locks = options.locks ?? processEndpointLocks();
    this.factories.set('tcp', options.tcp ?? tcpPortFactory());
    const { logger } = options;
    this.factories.set(
      'rfc2217',
      options.rfc2217 ??
        loadedOnUse(async () => (await import('./telnet/factory.js')).rfc2217PortFactory({ logger })),
    );
    this.factories.set(
      'telnet',
      options.telnet ??
        loadedOnUse(async () => (await import('./telnet/factory.js')).telnetPortFactory({ logger })),
    );
  }

  /** Opens `SCHEME://...` names with `factory` (replacing any earlier one for SCHEME). */
  register(scheme: string, factory: PortFactory): this {
    const key = scheme.toLowerCase();
    if (!SCHEME_NAME.test(key)) throw new PosbridgeError('USAGE', `invalid port scheme "${scheme}"`);
    this.factories.set(key, factory);
    return this;
  }

  /** Opens device paths with `factory` instead of the default serial one. */
  setDeviceFactory(factory: PortFactory): this {
    this.devices = factory;
    return this;
  }

  /** Schemes that open, e.g. ['mock', 'rfc2217', 'tcp', 'telnet']. */
  schemes(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** Opens a port by name. Rejects with a PosbridgeError (USAGE, PORT_NOT_FOUND, PORT_BUSY, PORT_OPEN_FAILED). */
  open(name: string, options: Partial<PortOpenOptions> = {}): Promise<Transport> {
    const openOptions: PortOpenOptions = { baudRate: 115_200, ...options };
    if (name.trim() === '') {
      return Promise.reject(
        new PosbridgeError('USAGE', 'no port given', {
          hint: 'Name the terminal with --port (posbridge ports lists serial ports).',
        }),
      );
    }
    const parsed = parsePortName(name);
    if (parsed.kind === 'device') return this.openLocked(this.devices, name, openOptions);
    const factory = this.factories.get(parsed.scheme);
    if (!factory) {
      const known = [...this.schemes().map((s) => `${s}://`), 'a device path'].join(', ');
      return Promise.reject(
        new PosbridgeError('USAGE', `unsupported port type ${parsed.scheme}:// in ${name}`, {
          hint: `Use one of: ${known}.`,
          details: { port: name, scheme: parsed.scheme },
        }),
      );
    }
    return this.openLocked(factory, name, openOptions);
  }

  private async openLocked(factory: PortFactory, name: string, options: PortOpenOptions): Promise<Transport> {
    const endpoint = await (factory.endpoint
      ? factory.endpoint(name)
      : parsePortName(name).kind === 'device'
        ? deviceEndpoint(name)
        : defaultEndpoint(factory, name));
    const lease = await this.locks.acquire(endpoint, name);
    let transport: Transport;
    try {
      transport = await factory.open(name, options);
    } catch (error) {
      lease.release();
      throw error;
    }
    // Called exactly once, before close() resolves: a reopen right after a close finds it free.
    transport.onClose(() => lease.release());
    return transport;
  }
}

/** A registry with the default device and TCP factories. */
export function createPortRegistry(options: PortRegistryOptions = {}): PortRegistry {
  return new PortRegistry(options);
}

/** Opens `name` through `registry` (default: a registry with the device and TCP factories). */
export function openPort(
  name: string,
  options: Partial<PortOpenOptions> = {},
  registry: PortRegistry = createPortRegistry(),
): Promise<Transport> {
  return registry.open(name, options);
}
