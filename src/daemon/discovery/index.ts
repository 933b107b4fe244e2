export * from './create.js';
export * from './discovery.js';
export * from './glob.js';
export * from './manager.js';
export * from './watch.js';
