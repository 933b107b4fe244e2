/**
 * Reads and writes of a unix serial port's non-blocking fd on the main thread, when the binding's
 * poller says the fd is ready: `readSync` once it is readable, `writeSync` until all is written,
 * waiting for writable on EAGAIN.
 *
 * Why: bindings-cpp does its unix reads and writes with fs.read/fs.write on libuv's thread pool, so
 * a reply costs a read that finds nothing (EAGAIN), a poll and a second read, and a request a
 * write: four thread-pool hand-offs per round trip (docs/performance.md, stack overhead). On a
 * non-blocking fd that the poller reported ready a read or write does not block, so the pool buys
 * nothing. After a read that did not fill the buffer the kernel's buffer is most likely empty, so
 * the next read waits for readable first instead of failing with EAGAIN (the poll is level
 * triggered: bytes already there report readable at once).
 *
 * The poller (bindings-cpp's Poller) has one quirk this works around: `once(event)` re-arms the
 * poll with that event only, dropping the other direction's interest until the event fires. When a
 * read and a write both wait, both are re-armed together.
 *
 * What it keeps from the binding's own read (docs/architecture.md, "Why it is built this way"): a 0-byte read is a hang-up, never
 * retried (bindings-cpp #162 retries it forever); a close cancels a waiting read or write (the
 * poller emits a `canceled` error), which the stream takes as a cancel, not a disconnect.
 */
import { readSync, writeSync } from 'node:fs';
import type { BindingPortInterface } from '@serialport/bindings-cpp';

/** bindings-cpp's EVENTS (poller.js). */
const UV_READABLE = 0b01;
const UV_WRITABLE = 0b10;

type Readiness = 'readable' | 'writable';

/** Shape of bindings-cpp's unix port objects (LinuxPortBinding, DarwinPortBinding). */
export interface UnixPort extends BindingPortInterface {
  fd: number | null;
  poller: {
    once(event: Readiness, callback: (error: Error | null) => void): unknown;
    poll?(flags: number): void;
  };
}

export function isUnixPort(port: BindingPortInterface): port is UnixPort {
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

/** The port was closed under a read or write: the stream ignores it (no disconnect). */
export class CanceledError extends Error {
  readonly canceled = true;
}

export class ReadinessIo {
  /** The last read left bytes in the kernel, or none was made yet: read before polling. */
  private readFirst = false;
  private readWaiting = false;
  private writeWaiting = false;
  private writing: Promise<void> | undefined;

  constructor(private readonly port: UnixPort) {}

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    for (;;) {
      if (!this.readFirst) await this.ready('readable');
      const fd = this.openFd();
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buffer, offset, length, null);
      } catch (error) {
        if (isRetry(error)) {
          // EINTR: try again at once; EAGAIN (a spurious wake-up): wait again.
          this.readFirst = (error as NodeJS.ErrnoException).code === 'EINTR';
          continue;
        }
        throw error;
      }
      if (bytesRead === 0) throw new ZeroByteReadError(this.port.openOptions.path);
      this.readFirst = bytesRead === length;
      return { buffer, bytesRead };
    }
  }

  write(buffer: Buffer): Promise<void> {
    if (buffer.length === 0) return Promise.resolve();
    const writing = this.writeAll(buffer);
    this.writing = writing;
    const done = () => {
      if (this.writing === writing) this.writing = undefined;
    };
    writing.then(done, done);
    return writing;
  }

  /** The write in progress, if any (drain waits for it before tcdrain). */
  get pendingWrite(): Promise<void> | undefined {
    return this.writing;
  }

  private async writeAll(buffer: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buffer.length) {
      const fd = this.openFd();
      try {
        offset += writeSync(fd, buffer, offset, buffer.length - offset);
      } catch (error) {
        if (!isRetry(error)) throw error;
        if ((error as NodeJS.ErrnoException).code !== 'EINTR') await this.ready('writable');
      }
    }
  }

  private openFd(): number {
    const { fd } = this.port;
    if (!this.port.isOpen || fd === null) throw new CanceledError('Port is not open');
    return fd;
  }

  private ready(event: Readiness): Promise<void> {
    const reading = event === 'readable';
    if (reading) this.readWaiting = true;
    else this.writeWaiting = true;
    return new Promise<void>((resolve, reject) => {
      this.port.poller.once(event, (error) => {
        if (reading) this.readWaiting = false;
        else this.writeWaiting = false;
        if (error) reject(error);
        else resolve();
      });
      // once() armed the poll for this event alone: keep the other direction's waiter armed too.
      if (this.readWaiting && this.writeWaiting) this.port.poller.poll?.(UV_READABLE | UV_WRITABLE);
    });
  }
}

const RETRY_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

function isRetry(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && RETRY_CODES.has(code);
}
