import { defineConfig } from 'vitest/config';

// The real serialport binding polls on the main libuv loop: reading from a worker thread aborts
// Node (../shared/SERIAL-NOTES.md), so test files run in forked processes.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
