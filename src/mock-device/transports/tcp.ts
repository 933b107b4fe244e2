import net from 'node:net';
import type { LinkHandler } from '../link.js';
import { TransportError } from './errors.js';
import { createLinkController } from './link-core.js';

/**
 * Terminal→host bytes that may wait in one socket's send buffer (Node's, above the kernel's).
 * Above SEND_HIGH_WATER we stop reading the host's requests, which is what makes the terminal
 * stop producing replies; unsolicited events can still add a little. A peer that lets more than
 * MAX_SEND_BACKLOG pile up is not reading at all: its connection is dropped.
 */
export const SEND_HIGH_WATER = 64 * 1024;
export const MAX_SEND_BACKLOG = 1024 * 1024;

export interface TcpListenOptions {
  /** Interface to bind; default 127.0.0.1 (the mock is not meant to be reachable from the network). */
  host?: string;
  /** 0 picks a free port; read the chosen one from `address`. */
  port: number;
}

export interface TcpListener {
  readonly address: { host: string; port: number };
  /** Stops accepting and drops every connection (unsent terminal output is discarded). */
  close(): Promise<void>;
}

/** A TCP "serial server": each accepted connection is one DeviceLink. */
export async function listenTcp(options: TcpListenOptions, onLink: LinkHandler): Promise<TcpListener> {
  const host = options.host ?? '127.0.0.1';
  const { port } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TransportError('INVALID_ARGUMENT', `Invalid TCP port: ${port}`);
  }

  const sockets = new Set<net.Socket>();
  const linksClosed = new Set<Promise<void>>();
  // allowHalfOpen false (the default): a host that ends its side ends the whole link, as a serial
  // host cannot half-close.
  const server = net.createServer({ noDelay: true, allowHalfOpen: false }, (socket) => {
    sockets.add(socket);
    const closed = attach(socket, onLink);
    linksClosed.add(closed);
    void closed.then(() => linksClosed.delete(closed));
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        new TransportError(
          'LISTEN_FAILED',
          `Cannot listen on tcp://${hostPort(host, port)}: ${error.message}`,
          {
            cause: error,
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // After listen, a server error (e.g. EMFILE on accept) must not crash the mock; the listener
  // keeps running and the affected connection simply never arrives.
  server.on('error', () => {});

  const bound = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: { host: bound.address, port: bound.port },
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await serverClosed;
        await Promise.all(linksClosed);
      })();
      return closing;
    },
  };
}

/** Wires one accepted socket to a DeviceLink; resolves when the link has ended. */
function attach(socket: net.Socket, onLink: LinkHandler): Promise<void> {
  const controller = createLinkController(`tcp ${hostPort(socket.remoteAddress, socket.remotePort)}`, {
    write(bytes) {
      if (socket.destroyed) return;
      if (socket.writableLength + bytes.length > MAX_SEND_BACKLOG) {
        socket.destroy();
        return;
      }
      socket.write(bytes);
      if (socket.writableLength > SEND_HIGH_WATER) socket.pause();
    },
    hangup() {
      // The terminal pulled the cable: end gracefully so the bytes it sent last still arrive.
      socket.end();
    },
  });

  // An 'error' (ECONNRESET, EPIPE...) is always followed by 'close', which ends the link; the
  // listener only keeps the error from being thrown as an unhandled 'error' event.
  socket.on('error', () => {});
  socket.on('drain', () => socket.resume());
  socket.on('data', (chunk: Buffer) => controller.deliver(chunk));
  socket.once('close', () => controller.end());

  try {
    onLink(controller.link);
  } catch (error) {
    socket.destroy();
    controller.end();
    throw error;
  }
  return controller.closed;
}

function hostPort(host: string | undefined, port: number | undefined): string {
  const h = host ?? '?';
  return `${h.includes(':') ? `[${h}]` : h}:${port ?? '?'}`;
}
