import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests open real sockets and namespaces; two workers match the machine's 2 cores.
    maxWorkers: 2,
  },
});
