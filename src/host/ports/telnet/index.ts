export * from './codec.js';
export * from './com-port.js';
export * from './factory.js';
export * from './link.js';
export * from './negotiation.js';
export * from './url.js';
