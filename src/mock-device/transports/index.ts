/**
 * The mock terminal's transports: each turns a host's connection into a DeviceLink (../link.ts).
 * - in-process serialport binding (`mock://NAME` ports, integration tests),
 * - TCP (`tcp://HOST:PORT`, a raw serial server),
 * - pseudo-terminal (a real tty path for picocom, screen or the real serialport binding),
 * - a tty someone else made (`--device`: a socat pair's end, a USB gadget, a real UART).
 */
export {
  DEVICE_RETRY,
  type DeviceOptions,
  type DeviceTransport,
  MAX_DEVICE_BACKLOG,
  openDevice,
} from './device.js';
export { TransportError, type TransportErrorCode } from './errors.js';
export {
  createInProcessBinding,
  type InProcessBinding,
  type InProcessBindingOptions,
  type InProcessPort,
  MAX_UNREAD_BYTES,
  type PortResolver,
} from './inproc-binding.js';
export { MAX_UNDELIVERED_BYTES } from './link-core.js';
export { MAX_PIPE_BACKLOG, openPty, type PtyOptions, type PtyTransport } from './pty.js';
export {
  listenTcp,
  MAX_SEND_BACKLOG,
  SEND_HIGH_WATER,
  type TcpListener,
  type TcpListenOptions,
} from './tcp.js';
