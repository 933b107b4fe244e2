/** The daemon's local API: server, client (RemoteEngine, findDaemon), socket and lifecycle. */
export * from './client.js';
export * from './lifecycle.js';
export * from './server.js';
export * from './socket.js';
export * from './sse.js';
export * from './wire.js';
