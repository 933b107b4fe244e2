export * from './discovery.js';
export * from './glob.js';
export * from './watch.js';
