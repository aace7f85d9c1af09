import { defineConfig } from 'vitest/config';
import { IDLE_TEST_TIMEOUT_MS } from './packages/server/test/helpers/patience.js';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // The idle-machine values; the setup file scales them to the machine in each worker
    // (packages/server/test/helpers/patience.ts; OPENQOE_TEST_SLOWDOWN overrides the measurement).
    testTimeout: IDLE_TEST_TIMEOUT_MS,
    hookTimeout: IDLE_TEST_TIMEOUT_MS,
    // Scaled timeouts, the expect.poll default, and what a test file left running stopped after it.
    setupFiles: ['packages/server/test/helpers/setup.ts'],
    // Integration tests start real servers; two workers match the 2-core machines.
    maxWorkers: 2,
  },
});
