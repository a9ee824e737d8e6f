import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/services.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // 2 cores: forks in parallel, but each file starts its own servers on port 0.
    pool: 'forks',
    maxWorkers: 2,
    env: { NODE_ENV: 'test' },
  },
});
