/**
 * An in-memory cable: a Transport for the host and a peer end for whatever plays the terminal.
 *
 * The peer end has the shape of the mock terminal's DeviceLink (label, send, onReceive, onClose,
 * close), so the composition root can hand it to a MockTerminal without src/host knowing the
 * mock; tests script it directly. Bytes cross in a microtask, never inside the sender's call, as
 * on a real wire.
 */
import { PosbridgeError } from '../errors.js';
import { processEndpoint } from './endpoint.js';
import { createLinkState } from './link-state.js';
import type { PortFactory, Transport } from './transport.js';

/** Bytes the host sent before the peer registered a handler; beyond this they are dropped. */
const MAX_UNDELIVERED = 1024 * 1024;

export interface MemoryPeer {
  readonly label: string;
  /** Bytes from the peer to the host. Dropped after the link ended. */
  send(bytes: Uint8Array): void;
  /** The (single) handler for bytes from the host. */
  onReceive(handler: (bytes: Uint8Array) => void): void;
  /** The (single) handler called once when the link ends, whoever ended it. */
  onClose(handler: () => void): void;
  /** The peer pulls the cable: the host's transport closes with a DISCONNECTED error. */
  close(): void;
}

export interface MemoryLink {
  transport: Transport;
  peer: MemoryPeer;
}

export function createMemoryLink(name: string, label = `memory ${name}`): MemoryLink {
  const host = createLinkState();
  let receive: ((bytes: Uint8Array) => void) | undefined;
  let peerClose: (() => void) | undefined;
  let peerNotified = false;
  const undelivered: Uint8Array[] = [];
  let undeliveredBytes = 0;

  const notifyPeer = (): void => {
    queueMicrotask(() => {
      if (peerNotified || !peerClose) return;
      peerNotified = true;
      peerClose();
    });
  };

  const transport: Transport = {
    name,
    get closed() {
      return host.closed;
    },
    async write(bytes) {
      if (host.closed) throw disconnected(name);
      const copy = Uint8Array.from(bytes);
      queueMicrotask(() => {
        if (host.closed) return;
        if (receive) receive(copy);
        else if (undeliveredBytes + copy.length <= MAX_UNDELIVERED) {
          undelivered.push(copy);
          undeliveredBytes += copy.length;
        }
      });
    },
    onData: (callback) => host.onData(callback),
    onClose: (callback) => host.onClose(callback),
    async close() {
      // Let bytes already written reach the peer first, as a real port flushes on close.
      await Promise.resolve();
      if (host.finish()) notifyPeer();
    },
  };

  const peer: MemoryPeer = {
    label,
    send(bytes) {
      if (host.closed || bytes.length === 0) return;
      const copy = Uint8Array.from(bytes);
      queueMicrotask(() => host.emitData(copy));
    },
    onReceive(handler) {
      receive = handler;
      const pending = undelivered.splice(0);
      undeliveredBytes = 0;
      if (pending.length > 0) {
        queueMicrotask(() => {
          for (const bytes of pending) handler(bytes);
        });
      }
    },
    onClose(handler) {
      peerClose = handler;
      if (host.closed) notifyPeer();
    },
    close() {
      // Bytes the peer sent before hanging up still arrive (they were queued first).
      queueMicrotask(() => {
        if (host.finish(disconnected(name))) notifyPeer();
      });
    },
  };

  return { transport, peer };
}

function disconnected(name: string): PosbridgeError {
  return new PosbridgeError('DISCONNECTED', `${name}: the link went away`, {
    hint: 'Check the cable and that the terminal is on, then run the command again (it resumes).',
    details: { port: name },
  });
}

/**
 * A PortFactory whose ports are in-memory links handed to `attach` (e.g. a mock terminal). The
 * CLI registers it for `mock://`: `registry.register('mock', memoryPortFactory((name, peer) =>
 * terminalFor(name).attach(peer)))`. A throw from `attach` fails the open with PORT_NOT_FOUND
 * unless it is already a PosbridgeError.
 */
export function memoryPortFactory(attach: (name: string, peer: MemoryPeer) => void): PortFactory {
  const factory: PortFactory = {
    endpoint: async (name) => processEndpoint(factory, name),
    async open(name) {
      const { transport, peer } = createMemoryLink(name);
      try {
        attach(name, peer);
      } catch (error) {
        await transport.close();
        if (error instanceof PosbridgeError) throw error;
        throw new PosbridgeError('PORT_NOT_FOUND', `${name}: ${(error as Error).message ?? String(error)}`, {
          hint: 'Check the port name (posbridge ports lists them).',
          details: { port: name },
          cause: error,
        });
      }
      return transport;
    },
  };
  return factory;
}
