import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.vitalwire/**'],
    
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The end-to-end suites spawn socat, redis-server and chromium: two cores cannot run many at once.
    maxWorkers: 2,
  },
});
