/** Station mode: a manifest, a hub of terminals, the provisioning workflow, a live view, JUnit. */
export * from './csv.js';
export * from './junit.js';
export * from './live-view.js';
export * from './manifest.js';
export * from './static-hub.js';
export * from './station.js';
