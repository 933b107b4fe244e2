/**
 * Serial devices as Transports, through serialport 13's SerialPortStream.
 *
 * Field facts this honours (docs/cli.md, "One owner per terminal"):
 * - Exclusive access is `lock: true` (flock). A failed second open applies its termios to the
 *   owner's tty before it fails, so before opening we look in /proc/locks for a holder and refuse
 *   with PORT_BUSY without touching the device. (Two posbridge processes starting in the same
 *   millisecond can both pass the look; the flock still lets only one in.)
 * - The lock error has no `.code`: it is matched by its message.
 * - Programs that lock with UUCP lock files instead (minicom) are honoured, and get ours while we
 *   own the device (uucp-lock.ts), next to the flock.
 * - A 0-byte read can spin forever instead of reporting the hang-up: the real binding is wrapped
 *   (guarded-binding.ts), which also reads and writes on readiness instead of on libuv's thread
 *   pool (readiness-io.ts).
 * - An `error` listener is always attached (a cancelled drain or write emits one on close, which
 *   would kill the process); `close` is handled exactly once; we never wait for drain.
 *
 * The binding is injectable: tests pass SerialPortMock.binding, the composition root may pass the
 * mock terminal's in-process binding; only the real binding gets the device checks.
 */
import { stat } from 'node:fs/promises';
import type { BindingInterface } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
import type { Logger } from 'pino';
import { PosbridgeError } from '../errors.js';
import { deviceEndpoint, processEndpoint } from './endpoint.js';
import { guardBinding } from './guarded-binding.js';
import { findLockHolders, findOpenHolders, type PortHolder, portBusy } from './holders.js';
import { createLinkState, type LinkState } from './link-state.js';
import type { PortFactory, PortOpenOptions, Transport } from './transport.js';
import { acquireUucpLock, type UucpLease } from './uucp-lock.js';

export interface SerialPortFactoryOptions {
  /**
   * The serialport binding. Default: the platform binding of the `serialport` package (loaded on
   * first use), wrapped by guardBinding.
   */
  binding?: BindingInterface | undefined;
  /**
   * Check that the device exists and that nobody holds its lock before opening. Default: true
   * for the platform binding, false for an injected one (whose paths need not exist on disk).
   */
  deviceChecks?: boolean | undefined;
  logger?: Logger | undefined;
  /** Bound on opening, ms. Default 5000. */
  openTimeoutMs?: number | undefined;
  /** Bound on closing, ms. Default 2000. */
  closeTimeoutMs?: number | undefined;
  /** Where to look for holders. Default `/proc`. */
  procRoot?: string | undefined;
  /** UUCP lock directories (device checks only). Default /run/lock, /var/lock. */
  uucpLockDirs?: readonly string[] | undefined;
}

export const SERIAL_DEFAULTS = { openTimeoutMs: 5000, closeTimeoutMs: 2000 } as const;

let platformBinding: Promise<BindingInterface> | undefined;

/** The platform binding, guarded; loaded once, on first use (so `mock://` never loads native code). */
export function loadPlatformBinding(): Promise<BindingInterface> {
  platformBinding ??= import('serialport').then(
    ({ SerialPort }) => guardBinding(SerialPort.binding as unknown as BindingInterface) as BindingInterface,
  );
  return platformBinding;
}

export function serialPortFactory(options: SerialPortFactoryOptions = {}): PortFactory {
  const deviceChecks = options.deviceChecks ?? options.binding === undefined;
  const openTimeoutMs = options.openTimeoutMs ?? SERIAL_DEFAULTS.openTimeoutMs;
  const holderOptions = options.procRoot === undefined ? {} : { procRoot: options.procRoot };
  const factory: PortFactory = {
    // The real binding opens devices: one owner on this machine, whatever link names it. An
    // injected binding's ports live in this process (the mock terminal's, SerialPortMock's).
    endpoint: async (name) => (deviceChecks ? deviceEndpoint(name) : processEndpoint(factory, name)),
    async open(name: string, openOptions: PortOpenOptions): Promise<Transport> {
      const { baudRate } = openOptions;
      if (!Number.isInteger(baudRate) || baudRate <= 0) {
        throw new PosbridgeError('USAGE', `invalid baud rate ${baudRate}`, {
          hint: 'Give --baud a positive whole number (TSP/1 default: 115200).',
        });
      }
      let uucp: UucpLease | undefined;
      if (deviceChecks) {
        await checkDevice(name, holderOptions);
        uucp = await acquireUucpLock(name, {
          ...holderOptions,
          dirs: options.uucpLockDirs,
          logger: options.logger,
        });
      }
      const binding = options.binding ?? (await loadPlatformBinding());
      const stream = new SerialPortStream({ binding, path: name, baudRate, autoOpen: false, lock: true });
      // Always listen: an unhandled 'error' event kills the process.
      stream.on('error', (error) => options.logger?.debug({ port: name, err: error }, 'serial port error'));
      try {
        await openStream(stream, name, openTimeoutMs);
      } catch (error) {
        uucp?.release();
        throw await openError(name, error, deviceChecks, holderOptions);
      }
      const transport = new SerialTransport(
        name,
        stream,
        options.closeTimeoutMs ?? SERIAL_DEFAULTS.closeTimeoutMs,
        options.logger,
        deviceChecks ? () => findOpenHolders(name, holderOptions) : undefined,
      );
      transport.onClose(() => uucp?.release());
      return transport;
    },
  };
  return factory;
}

function openStream(stream: SerialPortStream, name: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`opening ${name} took longer than ${timeoutMs} ms`));
      // If it opens after all, let go of it.
      stream.once('open', () => stream.close(() => {}));
    }, timeoutMs);
    timer.unref?.();
    stream.open((error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    });
  });
}

async function checkDevice(name: string, holderOptions: { procRoot?: string }): Promise<void> {
  try {
    const info = await stat(name);
    if (!info.isCharacterDevice()) {
      throw new PosbridgeError('PORT_OPEN_FAILED', `${name} is not a serial device`, {
        hint: 'Name a serial device such as /dev/ttyUSB0 or /dev/serial/by-id/...; posbridge ports lists them.',
        details: { port: name },
      });
    }
  } catch (error) {
    if (error instanceof PosbridgeError) throw error;
    throw notFoundOrDenied(name, error);
  }
  const holders = await findLockHolders(name, holderOptions);
  if (holders.length > 0) throw portBusy(name, holders);
}

function notFoundOrDenied(name: string, error: unknown): PosbridgeError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return denied(name, error);
  return new PosbridgeError('PORT_NOT_FOUND', `no such port: ${name}`, {
    hint: name.startsWith('/dev/serial/')
      ? 'The device is not plugged in (udev removes its by-id link while it is absent). Run posbridge ports to see what is there.'
      : 'Check the name; run posbridge ports to list serial ports.',
    details: { port: name },
    cause: error,
  });
}

function denied(name: string, error: unknown): PosbridgeError {
  return new PosbridgeError('PORT_OPEN_FAILED', `permission denied opening ${name}`, {
    hint: 'Add your user to the group that owns the device (usually dialout) and log in again.',
    details: { port: name },
    cause: error,
  });
}

async function openError(
  name: string,
  error: unknown,
  deviceChecks: boolean,
  holderOptions: { procRoot?: string },
): Promise<PosbridgeError> {
  if (error instanceof PosbridgeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (code === 'PORT_BUSY' || /cannot lock port|port is locked|already open/i.test(message)) {
    let holders: PortHolder[] = [];
    if (deviceChecks) {
      holders = await findLockHolders(name, holderOptions);
      if (holders.length === 0) holders = await findOpenHolders(name, holderOptions);
    }
    return portBusy(name, holders);
  }
  if (
    code === 'UNKNOWN_PORT' ||
    code === 'ENOENT' ||
    /no such file|does not exist|unknown port/i.test(message)
  ) {
    return notFoundOrDenied(name, error);
  }
  if (code === 'EACCES' || /permission denied/i.test(message)) return denied(name, error);
  return new PosbridgeError('PORT_OPEN_FAILED', `cannot open ${name}: ${message}`, {
    hint: 'Check the port name and --baud; unplug and replug the cable if it persists.',
    details: { port: name },
    cause: error,
  });
}

/** A SerialPortStream as a Transport. */
export class SerialTransport implements Transport {
  readonly name: string;
  private readonly stream: SerialPortStream;
  private readonly state: LinkState;
  private readonly pendingWrites = new Set<(error: Error) => void>();
  private closing: Promise<void> | undefined;

  constructor(
    name: string,
    stream: SerialPortStream,
    private readonly closeTimeoutMs: number,
    private readonly logger?: Logger,
    private readonly findHolders?: () => Promise<PortHolder[]>,
  ) {
    this.name = name;
    this.stream = stream;
    this.state = createLinkState((error) =>
      logger?.error({ err: error, port: name }, 'transport listener threw'),
    );
    stream.on('data', (chunk: Buffer) => this.state.emitData(chunk));
    stream.on('close', (error: Error | null) => this.ended(error ?? undefined));
    // A stream that ends without closing (a 0-byte read that got past the guard): treat as unplug.
    stream.on('end', () => {
      if (this.state.closed) return;
      this.ended(
        Object.assign(new Error(`${name}: the device stopped sending (end of stream)`), {
          disconnected: true,
        }),
      );
      if (stream.isOpen) stream.close(() => {});
    });
  }

  get closed(): boolean {
    return this.state.closed;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.state.closed) return Promise.reject(this.disconnected());
    return new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        this.pendingWrites.delete(fail);
        reject(error);
      };
      this.pendingWrites.add(fail);
      this.stream.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), (error) => {
        if (!this.pendingWrites.delete(fail)) return;
        // A write cancelled by close, or failed on a dead line: the link is gone either way.
        if (error) reject(this.disconnected(error));
        else resolve();
      });
    });
  }

  onData(callback: (bytes: Uint8Array) => void): () => void {
    return this.state.onData(callback);
  }

  onClose(callback: (error?: Error) => void): () => void {
    return this.state.onClose(callback);
  }

  async otherHolders(): Promise<PortHolder[]> {
    return ((await this.findHolders?.()) ?? []).filter((holder) => !holder.self);
  }

  close(): Promise<void> {
    if (this.state.closed) return Promise.resolve();
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        // The binding did not report the close in time: consider the link ended anyway.
        this.logger?.warn({ port: this.name }, 'serial port close did not complete in time');
        this.ended(undefined);
        resolve();
      }, this.closeTimeoutMs);
      timer.unref?.();
      void this.state.ended.then(() => {
        clearTimeout(timer);
        resolve();
      });
      if (this.stream.isOpen) {
        this.stream.close((error) => {
          if (error) this.logger?.debug({ port: this.name, err: error }, 'serial port close error');
        });
      } else {
        this.ended(undefined);
      }
    });
    return this.closing;
  }

  private ended(error: Error | undefined): void {
    if (!this.state.finish(error)) return;
    // Writes queued in the stream would wait for an 'open' that never comes: fail them now.
    const writes = [...this.pendingWrites];
    this.pendingWrites.clear();
    for (const fail of writes) fail(this.disconnected());
  }

  private disconnected(cause?: Error): PosbridgeError {
    const closed = cause === undefined || (cause as { canceled?: boolean }).canceled === true;
    const message = closed ? 'the port is closed' : `the write failed (${cause.message})`;
    return new PosbridgeError('DISCONNECTED', `${this.name}: ${message}`, {
      details: { port: this.name },
      ...(cause && { cause }),
    });
  }
}
