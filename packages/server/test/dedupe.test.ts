import { describe, expect, it } from 'vitest';
import { Dedupe } from '../src/pipeline/dedupe.js';

describe('dedupe', () => {
  it('takes each (view, sequence) once, across batches', () => {
    const d = new Dedupe();
    const k = Dedupe.key('env', 'view');
    expect([0, 1, 2].map((s) => d.take(k, s))).toEqual([true, true, true]);
    expect(d.take(k, 1)).toBe(false);
    d.commit(1000);
    expect([0, 1, 2, 3].map((s) => d.take(k, s))).toEqual([false, false, false, true]);
  });

  it('handles out-of-order numbers and closes gaps', () => {
    const d = new Dedupe();
    const k = Dedupe.key('env', 'view');
    for (const s of [5, 3, 0, 1]) d.mark(k, s, 1);
    expect([0, 1, 2, 3, 4, 5, 6].map((s) => d.take(k, s))).toEqual([
      false,
      false,
      true,
      false,
      true,
      false,
      true,
    ]);
    d.commit(2);
    for (let s = 0; s <= 6; s++) expect(d.take(k, s)).toBe(false);
  });

  it('keeps views apart and environments apart', () => {
    const d = new Dedupe();
    d.mark(Dedupe.key('a', 'v'), 0, 1);
    expect(d.take(Dedupe.key('b', 'v'), 0)).toBe(true);
    expect(d.take(Dedupe.key('a', 'w'), 0)).toBe(true);
  });

  it('evicts views silent since before the cutoff', () => {
    const d = new Dedupe();
    for (let s = 0; s <= 9; s++) {
      d.mark(Dedupe.key('e', 'old'), s, 1_000);
      d.mark(Dedupe.key('e', 'new'), s, 5_000);
    }
    expect(d.evict(2_000)).toBe(1);
    expect(d.take(Dedupe.key('e', 'old'), 0)).toBe(true);
    expect(d.take(Dedupe.key('e', 'new'), 0)).toBe(false);
  });
});
