import fs from 'node:fs';
import { LinuxBinding, type LinuxBindingInterface, type LinuxPortBinding } from '@serialport/bindings-cpp';

/**
 * The real Linux binding, with bindings-cpp issue #162 worked around for tests that hang up a
 * host: when the other end of a tty goes away, read() can return 0 bytes and the stock binding
 * retries forever (no 'close', a core at 100%; docs/architecture.md). Here a 0-byte read is a
 * disconnect, which is what SerialPortStream needs to close with a DisconnectedError.
 */
export const hangupSafeLinuxBinding: LinuxBindingInterface = {
  list: () => LinuxBinding.list(),
  async open(options) {
    const port = await LinuxBinding.open(options);
    port.read = (buffer, offset, length) => readOrDisconnect(port, buffer, offset, length);
    return port;
  },
};

function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

async function readOrDisconnect(
  port: LinuxPortBinding,
  buffer: Buffer,
  offset: number,
  length: number,
): Promise<{ buffer: Buffer; bytesRead: number }> {
  for (;;) {
    const fd = port.fd;
    if (fd === null) throw canceled();
    let bytesRead: number;
    try {
      bytesRead = await new Promise<number>((resolve, reject) =>
        fs.read(fd, buffer, offset, length, null, (error, n) => (error ? reject(error) : resolve(n))),
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw error;
      if (port.fd === null) throw canceled();
      await new Promise<void>((resolve, reject) =>
        port.poller.once('readable', (err?: Error | null) => (err ? reject(err) : resolve())),
      );
      continue;
    }
    if (bytesRead === 0) {
      throw Object.assign(new Error(`${port.openOptions.path}: the line hung up`), { disconnected: true });
    }
    return { buffer, bytesRead };
  }
}
