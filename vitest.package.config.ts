import { defineConfig } from 'vitest/config';

// `npm run test:package`: the tarball, installed globally from itself alone, under each supported
// Node version (test/package/). Installs compile a native module: minutes, not seconds.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/package/**/*.test.ts'],
    testTimeout: 40 * 60_000,
    hookTimeout: 20 * 60_000,
  },
});
