/** Station mode: a manifest, a hub of terminals, the provisioning workflow, JUnit (the live view is screen output: src/cli). */
export * from './csv.js';
export * from './junit.js';
export * from './manifest.js';
export * from './static-hub.js';
export * from './station.js';
