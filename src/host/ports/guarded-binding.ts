/**
 * The production serialport binding: bindings-cpp for opening (with its flock), termios, modem
 * lines and closing; reads and writes of unix ports done here (readiness-io.ts), on the main
 * thread when the poller says the fd is ready, instead of on libuv's thread pool.
 *
 * It also turns "the device went away" into a disconnect, always. The problem (docs/architecture.md,
 * bindings-cpp issue #162): when a hang-up lands while a read is re-armed, the unix read returns
 * 0 bytes and the binding retries at once, forever: no `close` event, a core at 100 %, a session
 * that hangs. A serial read with VMIN=1 never legitimately returns 0 bytes, so here a 0-byte read
 * is a disconnect error, which SerialPortStream turns into a `close` with a DisconnectedError.
 *
 * A port that is not a unix one (no numeric `fd` and `poller`: Windows, a test double) is
 * delegated to, and a 0-byte result from it becomes the same disconnect error.
 */
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
import { isUnixPort, ReadinessIo, ZeroByteReadError } from './readiness-io.js';

export { ZeroByteReadError } from './readiness-io.js';

export class GuardedPort implements BindingPortInterface {
  /** Readiness-driven reads and writes, for a unix port. */
  private readonly io: ReadinessIo | undefined;

  constructor(readonly inner: BindingPortInterface) {
    this.io = isUnixPort(inner) ? new ReadinessIo(inner) : undefined;
  }

  get openOptions(): Required<OpenOptions> {
    return this.inner.openOptions;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  /** bindings-cpp's close stops the poller, which cancels a waiting read or write. */
  close(): Promise<void> {
    return this.inner.close();
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (this.io) return this.io.read(buffer, offset, length);
    const result = await this.inner.read(buffer, offset, length);
    if (result.bytesRead === 0) throw new ZeroByteReadError(this.openOptions.path);
    return result;
  }

  write(buffer: Buffer): Promise<void> {
    return this.io ? this.io.write(buffer) : this.inner.write(buffer);
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

  /** Waits for our write in progress, then for the binding's (tcdrain). */
  async drain(): Promise<void> {
    await this.io?.pendingWrite;
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
