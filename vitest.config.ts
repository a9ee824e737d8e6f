import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Node (npm start) loads graphql's CommonJS build for our code and for
  // @graphql-tools alike; vite would give our code the ESM build instead, and
  // the two builds' classes do not recognise each other. Load what Node loads.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
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
