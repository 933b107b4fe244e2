/**
 * An EXPERIMENT for benchmark 2, not used by posbridge: the platform serialport binding with its
 * reads and writes done directly on readiness (non-blocking readSync/writeSync on the port's fd;
 * on EAGAIN, wait for the binding's own poller) instead of through fs.read/fs.write on libuv's
 * thread pool. bindings-cpp's unix read costs three thread-pool hops per reply (a read that finds
 * nothing, the poll, a read that finds the bytes) and its write one more; this measures how many
 * round trips per second that leaves on the table. Zero-byte reads are disconnects, as in
 * src/host/ports/guarded-binding.ts.
 */
import { readSync, writeSync } from 'node:fs';
import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-cpp';

interface UnixPort extends BindingPortInterface {
  fd: number | null;
  poller: { once(event: 'readable' | 'writable', callback: (error: Error | null) => void): unknown };
}

const RETRY = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

class DirectIoPort implements BindingPortInterface {
  constructor(private readonly inner: UnixPort) {}

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
    for (;;) {
      const fd = this.inner.fd;
      if (!this.inner.isOpen || fd === null)
        throw Object.assign(new Error('Port is not open'), { canceled: true });
      try {
        const bytesRead = readSync(fd, buffer, offset, length, null);
        if (bytesRead === 0) {
          throw Object.assign(new Error(`${this.openOptions.path}: read returned 0 bytes`), {
            disconnected: true,
          });
        }
        return { buffer, bytesRead };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === undefined || !RETRY.has(code)) throw error;
        await this.wait('readable');
      }
    }
  }

  async write(buffer: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buffer.length) {
      const fd = this.inner.fd;
      if (!this.inner.isOpen || fd === null) throw new Error('Port is not open');
      try {
        offset += writeSync(fd, buffer, offset, buffer.length - offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === undefined || !RETRY.has(code)) throw error;
        await this.wait('writable');
      }
    }
  }

  private wait(event: 'readable' | 'writable'): Promise<void> {
    return new Promise((resolve, reject) => {
      this.inner.poller.once(event, (error) => (error ? reject(error) : resolve()));
    });
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

export async function directIoBinding(): Promise<BindingInterface> {
  const { SerialPort } = await import('serialport');
  const platform = SerialPort.binding as unknown as BindingInterface;
  const binding: BindingInterface<DirectIoPort, OpenOptions, PortInfo> = {
    list: () => platform.list(),
    open: async (options) => new DirectIoPort((await platform.open(options)) as UnixPort),
  };
  return binding as BindingInterface;
}
