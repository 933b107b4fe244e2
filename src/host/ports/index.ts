export * from './endpoint.js';
export * from './endpoint-lock.js';
export * from './guarded-binding.js';
export * from './holders.js';
export * from './list.js';
export * from './memory.js';
export * from './registry.js';
export * from './serial.js';
export * from './sysfs-list.js';
export * from './tcp.js';
export {
  parseTelnetPortName,
  rfc2217PortFactory,
  type TelnetPortFactoryOptions,
  type TelnetPortSpec,
  telnetPortFactory,
} from './telnet/index.js';
export * from './transport.js';
export * from './uucp-lock.js';
