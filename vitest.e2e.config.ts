import { defineConfig } from 'vitest/config';

// The end-to-end suite: one real stack per file (the Argo controller and the sidecar bind the fixed ports of
// a real pod), so files run one after another.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
