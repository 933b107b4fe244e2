/**
 * `tcp://HOST:PORT`: a raw TCP serial server (or the mock terminal's TCP transport) as a Transport.
 * The TCP connection is the "cable": the terminal's replay cache and login last as long as it does.
 */
import net from 'node:net';
import { PosbridgeError } from '../errors.js';
import { type HostLookup, networkEndpoint } from './endpoint.js';
import { createLinkState } from './link-state.js';
import type { PortFactory, Transport } from './transport.js';

export interface TcpPortFactoryOptions {
  /** Resolves host names for the endpoint lock's key (endpoint.ts). Default: the system resolver. */
  lookup?: HostLookup | undefined;
  /** Bound on connecting, ms. Default 5000. */
  connectTimeoutMs?: number | undefined;
  /** Bound on a graceful close before the socket is destroyed, ms. Default 1000. */
  closeTimeoutMs?: number | undefined;
}

export const TCP_DEFAULTS = { connectTimeoutMs: 5000, closeTimeoutMs: 1000 } as const;

/** Host and port of a `tcp://HOST:PORT` name (IPv6 hosts in brackets), or a USAGE error. */
export function parseTcpName(name: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(name);
  } catch {
    throw tcpUsage(name);
  }
  const port = Number(url.port);
  if (url.protocol !== 'tcp:' || url.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw tcpUsage(name);
  }
  if (url.pathname !== '' && url.pathname !== '/') throw tcpUsage(name);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port };
}

function tcpUsage(name: string): PosbridgeError {
  return new PosbridgeError('USAGE', `not a TCP port name: ${name}`, {
    hint: 'Write it as tcp://HOST:PORT, e.g. tcp://127.0.0.1:4001.',
    details: { port: name },
  });
}

export function tcpPortFactory(options: TcpPortFactoryOptions = {}): PortFactory {
  const connectTimeoutMs = options.connectTimeoutMs ?? TCP_DEFAULTS.connectTimeoutMs;
  const closeTimeoutMs = options.closeTimeoutMs ?? TCP_DEFAULTS.closeTimeoutMs;
  return {
    endpoint: async (name) => {
      const { host, port } = parseTcpName(name);
      return networkEndpoint(host, port, options.lookup);
    },
    async open(name) {
      const { host, port } = parseTcpName(name);
      const socket = await connect(name, host, port, connectTimeoutMs);
      return new TcpTransport(name, socket, closeTimeoutMs);
    },
  };
}

export function connect(name: string, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new PosbridgeError('PORT_OPEN_FAILED', `${name}: no connection within ${timeoutMs} ms`, {
          hint: 'Check the address and that the serial server (or posbridge mock) is running and reachable.',
          details: { port: name },
        }),
      );
    }, timeoutMs);
    timer.unref?.();
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const notFound = error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN';
      reject(
        new PosbridgeError(
          notFound ? 'PORT_NOT_FOUND' : 'PORT_OPEN_FAILED',
          `${name}: ${notFound ? 'unknown host' : error.code === 'ECONNREFUSED' ? 'connection refused' : error.message}`,
          {
            hint: notFound
              ? 'Check the host name.'
              : 'Check that the serial server (or posbridge mock --listen) is running at that address.',
            details: { port: name, errno: error.code },
            cause: error,
          },
        ),
      );
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

export class TcpTransport implements Transport {
  readonly name: string;
  private readonly state = createLinkState();
  private closedByUs = false;

  constructor(
    name: string,
    private readonly socket: net.Socket,
    private readonly closeTimeoutMs: number,
  ) {
    this.name = name;
    // 'error' is always followed by 'close'; listening keeps it from being thrown.
    let lastError: Error | undefined;
    socket.on('error', (error) => {
      lastError = error;
    });
    socket.on('data', (chunk: Buffer) => this.state.emitData(chunk));
    socket.once('close', () => {
      this.state.finish(
        this.closedByUs
          ? undefined
          : Object.assign(new Error(lastError ? lastError.message : 'the TCP peer closed the connection'), {
              disconnected: true,
            }),
      );
    });
  }

  get closed(): boolean {
    return this.state.closed;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.state.closed || this.socket.destroyed) {
      return Promise.reject(
        new PosbridgeError('DISCONNECTED', `${this.name}: the connection is closed`, {
          details: { port: this.name },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  onData(callback: (bytes: Uint8Array) => void): () => void {
    return this.state.onData(callback);
  }

  onClose(callback: (error?: Error) => void): () => void {
    return this.state.onClose(callback);
  }

  async close(): Promise<void> {
    if (this.state.closed) return;
    this.closedByUs = true;
    const timer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    timer.unref?.();
    this.socket.end();
    await this.state.ended;
    clearTimeout(timer);
  }
}
