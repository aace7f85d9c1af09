/**
 * The suite's setup file (vitest `setupFiles`, run in each worker before a
 * test file): vitest's timeouts scaled to this machine (see patience.ts),
 * and whatever the file's tests left running stopped after its own hooks
 * (see processes.ts).
 */
import { afterAll, beforeEach, vi } from 'vitest';
import { IDLE_POLL_TIMEOUT_MS, IDLE_TEST_TIMEOUT_MS, patience, testBudget } from './patience.js';
import { stopLeftovers } from './processes.js';

// Read when a test or hook is declared: set before the file is collected.
vi.setConfig({
  testTimeout: testBudget(IDLE_TEST_TIMEOUT_MS),
  hookTimeout: testBudget(IDLE_TEST_TIMEOUT_MS),
});

// `expect.poll` reads its default when called: renewed per test with the factor as it is then.
// (setConfig replaces the whole `expect` object; vitest.config.ts sets nothing else in it.)
beforeEach(() => {
  vi.setConfig({ expect: { poll: { timeout: patience(IDLE_POLL_TIMEOUT_MS), interval: 50 } } });
});

// Registered first, so it runs after the file's own afterAll hooks.
afterAll(async () => {
  const stopped = await stopLeftovers();
  if (stopped.length) console.warn(`stopped what the tests left running: ${stopped.join(', ')}`);
});
