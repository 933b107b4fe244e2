/**
 * `posbridge mock --device PATH`: the mock terminal on a tty that someone else made (one end of a
 * socat pair, a USB gadget's /dev/ttyGS0, a real UART). Each open of the tty is one DeviceLink,
 * one connection for the terminal (login, replay cache, event CRC flag). A hang-up of the tty (the
 * socat pair killed, the USB gadget gone: EIO, HUP, a 0-byte read) is the end of the line the
 * terminal can see (docs/protocol.md D41): the link ends, and the tty is reopened with a bounded
 * backoff until it is back. A host closing and reopening its end is not seen (a 3-wire line has no
 * such signal), so one connection spans host sessions, as D41 says. The path is only ever opened:
 * nothing here creates, deletes or replaces it.
 *
 * The first open must succeed (a wrong path is the user's mistake and should be said at once).
 */
import { stat } from 'node:fs/promises';
import type { BindingInterface } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
import type { Timers } from '../../protocol/index.js';
import type { LinkHandler } from '../link.js';
import { type MockLogger, silentLogger } from '../logger.js';
import { TransportError } from './errors.js';
import { createLinkController, type LinkController } from './link-core.js';

/**
 * Terminal→host bytes that may wait in the serial stream when the host side does not read (its
 * end of a socat pair is closed, say). Beyond it bytes are dropped, as a UART overruns.
 */
export const MAX_DEVICE_BACKLOG = 1024 * 1024;

export const DEVICE_RETRY = { firstMs: 100, maxMs: 2000 } as const;

export interface DeviceOptions {
  /** The tty to serve: one end of a socat pair, /dev/ttyGS0, /dev/ttyS1... It must exist. */
  path: string;
  /** Line rate set on the tty (termios); the terminal's own pacing is separate. */
  baudRate: number;
  /**
   * The serialport binding. The composition root passes the platform binding guarded against
   * 0-byte reads (a hang-up would otherwise spin, bindings-cpp #162); tests pass their own.
   */
  binding: BindingInterface;
  /** Reopen backoff after a hang-up: `firstMs`, doubling up to `maxMs`, until the tty is back. */
  retry?: { firstMs: number; maxMs: number };
  /**
   * Timers for the backoff. Default: Node's, kept referenced: while the tty is gone, a pending
   * reopen is what keeps `posbridge mock --device` alive.
   */
  timers?: Timers;
  logger?: MockLogger;
}

export interface DeviceTransport {
  readonly path: string;
  /** Resolves when the transport has stopped (after close()). */
  readonly closed: Promise<void>;
  /** Closes the tty and stops reopening it. Never removes or changes the path. Idempotent. */
  close(): Promise<void>;
}

const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export async function openDevice(options: DeviceOptions, onLink: LinkHandler): Promise<DeviceTransport> {
  if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) {
    throw new TransportError(
      'INVALID_ARGUMENT',
      `Invalid baud rate for ${options.path}: ${options.baudRate}`,
    );
  }
  await checkDevice(options.path);
  const server = new DeviceServer(options, onLink);
  await server.start();
  return server.transport();
}

async function checkDevice(path: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TransportError(
      code === 'ENOENT' ? 'DEVICE_NOT_FOUND' : 'DEVICE_FAILED',
      code === 'ENOENT' ? `No such device: ${path}` : `Cannot use ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!info.isCharacterDevice()) {
    throw new TransportError(
      'INVALID_ARGUMENT',
      `${path} is not a tty (a character device such as /dev/ttyGS0)`,
    );
  }
}

class DeviceServer {
  private stream: SerialPortStream | undefined;
  private controller: LinkController | undefined;
  private stopping = false;
  private retryTimer: unknown;
  private delayMs: number;
  private readonly retry: { firstMs: number; maxMs: number };
  private readonly timers: Timers;
  private readonly log: MockLogger;
  private resolveClosed!: () => void;
  private readonly closedPromise = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });
  private closing: Promise<void> | undefined;
  /** Resolves when the current stream has closed. */
  private streamClosed: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: DeviceOptions,
    private readonly onLink: LinkHandler,
  ) {
    this.retry = options.retry ?? DEVICE_RETRY;
    this.delayMs = this.retry.firstMs;
    this.timers = options.timers ?? systemTimers;
    this.log = options.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (error) {
      throw new TransportError('DEVICE_FAILED', `Cannot open ${this.options.path}: ${message(error)}`, {
        cause: error,
      });
    }
  }

  transport(): DeviceTransport {
    return { path: this.options.path, closed: this.closedPromise, close: () => this.close() };
  }

  private open(): Promise<void> {
    const { path, baudRate, binding } = this.options;
    const stream = new SerialPortStream({ binding, path, baudRate, autoOpen: false, lock: true });
    // Always listen: an unhandled 'error' event kills the process.
    stream.on('error', (error) => this.log.debug({ device: path, err: error.message }, 'device error'));
    return new Promise((resolve, reject) => {
      stream.open((error) => {
        if (error) {
          reject(error);
          return;
        }
        if (this.stopping) {
          stream.close(() => {});
          resolve();
          return;
        }
        this.attach(stream);
        resolve();
      });
    });
  }

  private attach(stream: SerialPortStream): void {
    const { path } = this.options;
    this.stream = stream;
    this.delayMs = this.retry.firstMs;
    const controller = createLinkController(`device ${path}`, {
      write: (bytes) => {
        if (!stream.isOpen || stream.writableLength + bytes.length > MAX_DEVICE_BACKLOG) return;
        stream.write(bytes);
      },
      // The terminal pulled the cable: a tty we did not make cannot hang its host up, so close it
      // and open it again (a new connection for the terminal).
      hangup: () => {
        if (stream.isOpen) stream.close(() => {});
      },
    });
    this.controller = controller;
    let resolveStream!: () => void;
    this.streamClosed = new Promise((resolve) => {
      resolveStream = resolve;
    });
    stream.on('data', (chunk: Buffer) => controller.deliver(chunk));
    stream.once('close', (error: (Error & { disconnected?: boolean }) | null) => {
      resolveStream();
      controller.end();
      if (this.controller === controller) this.controller = undefined;
      if (this.stream === stream) this.stream = undefined;
      if (this.stopping) return;
      this.log.info(
        { device: path, reason: error ? error.message : 'closed by the terminal' },
        error ? 'device hung up: reopening it when it is back' : 'device closed: reopening it',
      );
      this.scheduleReopen();
    });
    // A stream that ends without closing (a 0-byte read that got past the guard): a hang-up.
    stream.on('end', () => {
      if (stream.isOpen) stream.close(() => {});
    });
    this.log.info({ device: path, baud: this.options.baudRate }, 'device open');
    this.onLink(controller.link);
  }

  private scheduleReopen(): void {
    const delay = this.delayMs;
    this.delayMs = Math.min(this.retry.maxMs, this.delayMs * 2);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopping) return;
      this.open().catch((error: unknown) => {
        if (this.stopping) return;
        this.log.debug(
          { device: this.options.path, err: message(error), retryMs: this.delayMs },
          'device not back yet',
        );
        this.scheduleReopen();
      });
    }, delay);
  }

  private close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
      const stream = this.stream;
      if (stream?.isOpen) {
        stream.close(() => {});
        // Bounded: a binding that never reports the close must not hold the mock's exit.
        await Promise.race([this.streamClosed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      }
      this.controller?.end();
      this.resolveClosed();
    })();
    return this.closing;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
