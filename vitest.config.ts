import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.vitalwire/**', 'dist/**'],
    // One redis-server for the run, its URL provided to the Redis suites (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The end-to-end suites spawn socat, redis-server and chromium: two cores cannot run many at once.
    maxWorkers: 2,
  },
});
