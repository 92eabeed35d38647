import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real peers (moto_server, the handshake binary) on free ports;
    // two cores, so keep files parallel but bounded.
    maxWorkers: 2,
  },
});
