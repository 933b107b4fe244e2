import { configDefaults, defineConfig } from 'vitest/config';

// The real serialport binding polls on the main libuv loop: reading from a worker thread aborts
// Node (../shared/SERIAL-NOTES.md), so test files run in forked processes.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // The package test installs the tarball under three Node versions: its own run
    // (npm run test:package, vitest.package.config.ts).
    exclude: [...configDefaults.exclude, 'test/package/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
