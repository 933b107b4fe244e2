export * from './create.js';
export * from './manager.js';
