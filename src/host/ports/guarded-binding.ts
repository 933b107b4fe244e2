/**
 * A serialport binding wrapper that turns "the device went away" into a disconnect, always.
 *
 * The problem (SERIAL-NOTES.md, bindings-cpp issue #162): when a hang-up lands while a read is
 * re-armed, the unix read returns 0 bytes and the binding retries at once, forever: no `close`
 * event, a core at 100 %, a session that hangs. A serial read with VMIN=1 never legitimately
 * returns 0 bytes, so here a 0-byte read is a disconnect error, which SerialPortStream turns into a
 * `close` with a DisconnectedError.
 *
 * For the unix bindings (a port object with a numeric `fd` and a `poller`), `read` is done here
 * with the same steps as the binding's own unixRead (read; on EAGAIN wait for the poller's
 * `readable`; retry), because the 0-byte retry loop lives inside the binding's read and cannot be
 * intercepted from outside. Any other binding's port is delegated to, and a 0-byte result from it
 * becomes the same disconnect error. Everything else is delegated unchanged.
 */
import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
// The binding interface types come through @serialport/bindings-cpp (serialport's binding package):
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

const readAsync = promisify(fsRead);

/** Shape of bindings-cpp's unix port objects (LinuxPortBinding, DarwinPortBinding). */
interface UnixPort extends BindingPortInterface {
  fd: number | null;
  poller: { once(event: 'readable', callback: (error: Error | null) => void): unknown };
}

function isUnixPort(port: BindingPortInterface): port is UnixPort {
  const candidate = port as Partial<UnixPort>;
  return (
    typeof candidate.fd === 'number' &&
    typeof candidate.poller === 'object' &&
    candidate.poller !== null &&
    typeof candidate.poller.once === 'function'
  );
}

/** An error as the stream expects: not `canceled`, so it means "disconnected". */
export class ZeroByteReadError extends Error {
  readonly disconnected = true;
  constructor(path: string) {
    super(`${path}: read returned 0 bytes (the device hung up)`);
    this.name = 'ZeroByteReadError';
  }
}

class CanceledError extends Error {
  readonly canceled = true;
}

const RETRY_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

export class GuardedPort implements BindingPortInterface {
  constructor(readonly inner: BindingPortInterface) {}

  get openOptions(): Required<OpenOptions> {
    return this.inner.openOptions;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    const { inner } = this;
    if (!isUnixPort(inner)) {
      const result = await inner.read(buffer, offset, length);
      if (result.bytesRead === 0) throw new ZeroByteReadError(this.openOptions.path);
      return result;
    }
    for (;;) {
      const fd = inner.fd;
      if (!inner.isOpen || fd === null) throw new CanceledError('Port is not open');
      try {
        const { bytesRead } = await readAsync(fd, buffer, offset, length, null);
        if (bytesRead === 0) throw new ZeroByteReadError(this.openOptions.path);
        return { buffer, bytesRead };
      } catch (error) {
        if (error instanceof ZeroByteReadError) throw error;
        // Closed under our feet (EBADF after close): a cancel, not a disconnect.
        if (!inner.isOpen) throw new CanceledError('Port is not open');
        const code = (error as NodeJS.ErrnoException).code;
        if (code === undefined || !RETRY_CODES.has(code)) throw error;
        await new Promise<void>((resolve, reject) => {
          inner.poller.once('readable', (pollError) => (pollError ? reject(pollError) : resolve()));
        });
      }
    }
  }

  write(buffer: Buffer): Promise<void> {
    return this.inner.write(buffer);
  }

  update(options: UpdateOptions): Promise<void> {
    return this.inner.update(options);
  }

  set(options: SetOptions): Promise<void> {
    return this.inner.set(options);
  }

  get(): Promise<PortStatus> {
    return this.inner.get();
  }

  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  drain(): Promise<void> {
    return this.inner.drain();
  }
}

export function guardBinding(
  binding: BindingInterface,
): BindingInterface<GuardedPort, OpenOptions, PortInfo> {
  return {
    list: () => binding.list(),
    open: async (options) => new GuardedPort(await binding.open(options)),
  };
}
