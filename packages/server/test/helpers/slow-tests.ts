/**
 * For a test file whose tests or hooks take longer than vitest's default:
 * `slowTests(180_000)` before them sets the timeout of every test and hook
 * declared after it in that file to that idle-machine time, scaled to the
 * machine with headroom like every vitest timeout (see patience.ts).
 * A literal timeout on a test (`it(name, fn, 180_000)`) would not scale,
 * so the suite does not use them.
 */
import { vi } from 'vitest';
import { testBudget } from './patience.js';

export function slowTests(idleMs: number): void {
  // vitest reads these when a test or hook is declared; it restores its config after each file.
  vi.setConfig({ testTimeout: testBudget(idleMs), hookTimeout: testBudget(idleMs) });
}
