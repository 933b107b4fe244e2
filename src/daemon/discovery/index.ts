export { matchUsbId } from './candidates.js';
export * from './discovery.js';
export * from './glob.js';
export type * from './types.js';
export * from './watch.js';
