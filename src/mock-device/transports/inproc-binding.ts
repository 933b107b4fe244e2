// The interface types come through @serialport/bindings-cpp (serialport's own binding package):
// @serialport/bindings-interface's "exports" map hides its declarations from NodeNext ESM.
import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-cpp';
import type { LinkHandler } from '../link.js';
import { TransportError } from './errors.js';
import { createLinkController, type LinkController } from './link-core.js';

/**
 * How many terminal→host bytes wait for the host to read them. Beyond it bytes are dropped, as a
 * UART drops what the host does not read (an overrun). SerialPortStream reads continuously up to
 * its own highWaterMark (64 KiB), so this only fills when the application stops reading.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;

/** Maps a port path to the terminal behind it, or undefined when nothing is plugged in there. */
export type PortResolver = (path: string) => LinkHandler | undefined;

export interface InProcessBindingOptions {
  /** Enumerates the paths the resolver knows, for `list()`. Without it `list()` is empty. */
  list?: () => Iterable<string>;
}

/** A serialport binding whose ports are wired to mock terminals in this process. */
export interface InProcessBinding extends BindingInterface<InProcessPort, OpenOptions, PortInfo> {
  /** Pull the cable at `path`: the terminal's link closes and the host sees a disconnect. */
  unplug(path: string): boolean;
  /** Whether a host currently holds `path` open. */
  isOpen(path: string): boolean;
}

export function createInProcessBinding(
  resolve: PortResolver,
  options: InProcessBindingOptions = {},
): InProcessBinding {
  // One entry per held path: the exclusive lock, and what unplug() acts on.
  const held = new Map<string, InProcessPort>();

  return {
    async list(): Promise<PortInfo[]> {
      const paths = options.list ? [...options.list()] : [];
      return paths.map((path) => ({
        path,
        manufacturer: 'posbridge (in-process mock)',
        serialNumber: undefined,
        pnpId: undefined,
        locationId: undefined,
        productId: undefined,
        vendorId: undefined,
      }));
    },

    async open(openOptions: OpenOptions): Promise<InProcessPort> {
      if (!openOptions || typeof openOptions.path !== 'string' || openOptions.path === '') {
        throw new TransportError('INVALID_ARGUMENT', 'Cannot open a port without a path');
      }
      const { path } = openOptions;
      if (typeof openOptions.baudRate !== 'number' || !(openOptions.baudRate > 0)) {
        throw new TransportError('INVALID_ARGUMENT', `Cannot open ${path}: invalid baud rate`);
      }
      if (held.has(path)) {
        throw new TransportError('PORT_BUSY', `Port busy: ${path} is already open (exclusive lock)`);
      }
      const handler = resolve(path);
      if (!handler) {
        throw new TransportError('UNKNOWN_PORT', `Unknown port: no in-process terminal at ${path}`);
      }

      const release = (port: InProcessPort): void => {
        if (held.get(path) === port) held.delete(path);
      };
      const port = new InProcessPort(withDefaults(openOptions), release);
      held.set(path, port);
      try {
        handler(port.controller.link);
      } catch (error) {
        port.controller.link.close();
        release(port);
        throw error;
      }
      return port;
    },

    unplug(path: string): boolean {
      const port = held.get(path);
      if (!port) return false;
      port.controller.link.close();
      return true;
    },

    isOpen(path: string): boolean {
      return held.has(path);
    },
  };
}

function withDefaults(options: OpenOptions): Required<OpenOptions> {
  return {
    dataBits: 8,
    lock: true,
    stopBits: 1,
    parity: 'none',
    rtscts: false,
    xon: false,
    xoff: false,
    xany: false,
    hupcl: true,
    ...options,
  };
}

interface PendingRead {
  buffer: Buffer;
  offset: number;
  length: number;
  resolve: (result: { buffer: Buffer; bytesRead: number }) => void;
  reject: (error: Error) => void;
}

/**
 * The host's end of one in-process cable. `state` is `open`, then either `closed` (the host
 * closed it) or `disconnected` (the terminal ended the link; the host still has to close).
 */
export class InProcessPort implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  readonly controller: LinkController;
  /** Terminal→host bytes dropped because the host did not read them (see MAX_UNREAD_BYTES). */
  droppedBytes = 0;
  private state: 'open' | 'disconnected' | 'closed' = 'open';
  private readonly unread: Buffer[] = [];
  private unreadBytes = 0;
  private pendingRead: PendingRead | undefined;
  private readonly release: (port: InProcessPort) => void;

  constructor(openOptions: Required<OpenOptions>, release: (port: InProcessPort) => void) {
    this.openOptions = openOptions;
    this.release = release;
    this.controller = createLinkController(`inproc ${openOptions.path}`, {
      write: (bytes) => this.receiveFromDevice(bytes),
      hangup: () => this.deviceGone(),
    });
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  async close(): Promise<void> {
    if (this.state === 'closed') throw this.notOpen();
    const wasConnected = this.state === 'open';
    this.state = 'closed';
    this.release(this);
    this.unread.length = 0;
    this.unreadBytes = 0;
    this.failPendingRead(
      new TransportError('CANCELED', `Read canceled: ${this.path} was closed`, { canceled: true }),
    );
    // Queued, like every host→terminal delivery, so bytes written before the close arrive first.
    if (wasConnected) queueMicrotask(() => this.controller.end());
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!Buffer.isBuffer(buffer)) throw new TypeError('"buffer" is not a Buffer');
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 1) {
      throw new TypeError(`invalid read range: offset ${offset}, length ${length}`);
    }
    if (buffer.length < offset + length) throw new Error('buffer is too small');
    if (this.state === 'closed') throw this.notOpen({ canceled: true });
    if (this.pendingRead) throw new Error('A read is already pending');
    // Bytes the terminal sent before it went away are still readable, like a wire's tail.
    if (this.unreadBytes > 0) return { buffer, bytesRead: this.take(buffer, offset, length) };
    if (this.state === 'disconnected') throw this.disconnectedError();
    return new Promise((resolve, reject) => {
      this.pendingRead = { buffer, offset, length, resolve, reject };
    });
  }

  async write(buffer: Buffer): Promise<void> {
    if (!Buffer.isBuffer(buffer)) throw new TypeError('"buffer" is not a Buffer');
    this.assertConnected();
    if (buffer.length === 0) return;
    // Copy now (the stream may reuse its buffer) and deliver from a microtask: the terminal's
    // handler never runs inside the host's write() and its errors never reject the write.
    const bytes = Buffer.from(buffer);
    queueMicrotask(() => this.controller.deliver(bytes));
  }

  async update(options: UpdateOptions): Promise<void> {
    if (!options || typeof options.baudRate !== 'number' || !(options.baudRate > 0)) {
      throw new TypeError('"options.baudRate" is not a valid baud rate');
    }
    this.assertConnected();
    this.openOptions.baudRate = options.baudRate;
  }

  async set(_options: SetOptions): Promise<void> {
    // Modem lines are not simulated: the terminal ignores DTR/RTS/break.
    this.assertConnected();
  }

  async get(): Promise<PortStatus> {
    this.assertConnected();
    // A plugged-in, powered terminal.
    return { cts: true, dsr: true, dcd: true };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    this.assertConnected();
    return { baudRate: this.openOptions.baudRate };
  }

  async flush(): Promise<void> {
    this.assertConnected();
    // Received but not read is discarded; written bytes were already handed to the terminal.
    this.unread.length = 0;
    this.unreadBytes = 0;
  }

  async drain(): Promise<void> {
    this.assertConnected();
    // Deliveries are queued microtasks; awaiting puts us behind those already queued.
    await null;
  }

  private get path(): string {
    return this.openOptions.path;
  }

  private receiveFromDevice(bytes: Uint8Array): void {
    if (this.state !== 'open') return;
    const room = MAX_UNREAD_BYTES - this.unreadBytes;
    const kept = bytes.length <= room ? bytes : bytes.subarray(0, Math.max(room, 0));
    this.droppedBytes += bytes.length - kept.length;
    if (kept.length === 0) return;
    this.unread.push(Buffer.from(kept.buffer, kept.byteOffset, kept.length));
    this.unreadBytes += kept.length;
    const pending = this.pendingRead;
    if (pending) {
      this.pendingRead = undefined;
      pending.resolve({
        buffer: pending.buffer,
        bytesRead: this.take(pending.buffer, pending.offset, pending.length),
      });
    }
  }

  private deviceGone(): void {
    if (this.state !== 'open') return;
    this.state = 'disconnected';
    // The cable is out: the path is free for the next plug-in even before the host closes.
    this.release(this);
    if (this.unreadBytes === 0) this.failPendingRead(this.disconnectedError());
  }

  /** Moves up to `length` unread bytes into `buffer`; requires unreadBytes > 0. */
  private take(buffer: Buffer, offset: number, length: number): number {
    let copied = 0;
    while (copied < length && this.unread.length > 0) {
      const head = this.unread[0]!;
      const n = Math.min(head.length, length - copied);
      head.copy(buffer, offset + copied, 0, n);
      copied += n;
      if (n === head.length) this.unread.shift();
      else this.unread[0] = head.subarray(n);
    }
    this.unreadBytes -= copied;
    return copied;
  }

  private failPendingRead(error: Error): void {
    const pending = this.pendingRead;
    this.pendingRead = undefined;
    pending?.reject(error);
  }

  private assertConnected(): void {
    if (this.state === 'closed') throw this.notOpen();
    if (this.state === 'disconnected') throw this.disconnectedError();
  }

  private notOpen(flags: { canceled?: boolean } = {}): TransportError {
    return new TransportError('PORT_NOT_OPEN', `Port is not open: ${this.path}`, flags);
  }

  private disconnectedError(): TransportError {
    return new TransportError('DISCONNECTED', `Port ${this.path} disconnected: the device ended the link`, {
      disconnected: true,
    });
  }
}
