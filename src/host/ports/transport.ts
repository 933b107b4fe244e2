/**
 * The byte link under a session, whatever carries it (serial device, TCP socket, in-process mock).
 * The session never imports a serial library: a PortFactory hands it a Transport (the transport
 * is a factory, so tests hand it a memory link).
 */
import type { Endpoint } from './endpoint.js';
import type { PortHolder } from './holders.js';

export interface Transport {
  /** The port name as the user typed it (`/dev/ttyUSB0`, `tcp://host:port`, `mock://a`). */
  readonly name: string;
  /**
   * Queue bytes for the wire. Resolves once the bytes were handed to the OS (never waits for a
   * drain, which can hang while the other side does not read); rejects with a DISCONNECTED
   * PosbridgeError once the transport is closed.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Bytes from the wire, in order. Returns a function that removes the listener. */
  onData(callback: (bytes: Uint8Array) => void): () => void;
  /**
   * Called exactly once when the link ends, whoever ended it: `error` is set when the link went
   * away (unplug, peer closed), undefined when `close()` ended it. A listener registered after
   * the end is still called (once, asynchronously).
   */
  onClose(callback: (error?: Error) => void): () => void;
  /** Ends the link. Idempotent; resolves once it has ended (bounded: it cannot hang). */
  close(): Promise<void>;
  /** True once the link has ended. */
  readonly closed: boolean;
  /**
   * Other processes that have the same device open, which may be reading bytes meant for us
   * (device transports only; read from /proc when asked).
   */
  otherHolders?(): Promise<PortHolder[]>;
}

export interface PortOpenOptions {
  /** Line rate for serial devices; ignored by TCP and in-process transports. Default 115200. */
  baudRate: number;
}

export interface PortFactory {
  /** Opens `name`; rejects with a PosbridgeError (PORT_NOT_FOUND, PORT_BUSY, PORT_OPEN_FAILED). */
  open(name: string, options: PortOpenOptions): Promise<Transport>;
  /**
   * What `name` reaches, for the registry's one-owner lock (endpoint-lock.ts). Default: a URL with
   * a host and a port is a network endpoint, a device path its resolved target, anything else its
   * name within this process.
   */
  endpoint?(name: string): Promise<Endpoint>;
}
