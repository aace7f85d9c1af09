/**
 * The view-write queue keeps every row a failed write carried, lets a newer
 * row of the same view replace an older one, retries with a growing, capped
 * pause, and writes everything once the store takes writes again.
 */
import { describe, expect, it } from 'vitest';
import {
  RETRY_MAX_MS,
  RETRY_MIN_MS,
  retryDelayMs,
  ViewWriteQueue,
} from '../src/pipeline/view-write-queue.js';
import { VIEW_COLUMNS, type ViewRow } from '../src/store/view-row.js';
import { waitFor } from './helpers/patience.js';

/** A row of view `view` (env `e`) whose `status` column carries `version`. */
function row(view: string, version: string): ViewRow {
  return VIEW_COLUMNS.map((c) =>
    c.name === 'env_id' ? 'e' : c.name === 'view_id' ? view : c.name === 'status' ? version : null,
  ) as ViewRow;
}
const STATUS = VIEW_COLUMNS.findIndex((c) => c.name === 'status');
const VIEW = VIEW_COLUMNS.findIndex((c) => c.name === 'view_id');

describe('view write queue', () => {
  it('backs off exponentially up to its cap', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([
      RETRY_MIN_MS,
      2 * RETRY_MIN_MS,
      4 * RETRY_MIN_MS,
      8 * RETRY_MIN_MS,
    ]);
    expect(retryDelayMs(1000)).toBe(RETRY_MAX_MS);
  });

  it('keeps refused rows, merges newer ones over them, and writes them all once the store recovers', async () => {
    let refusing = true;
    const attempts: string[][] = [];
    /** What the store holds: the newest version per view. */
    const stored = new Map<string, string>();
    const failures: number[] = [];
    let written = 0;
    const queue = new ViewWriteQueue(
      async (rows) => {
        attempts.push(rows.map((r) => `${r[VIEW]}=${r[STATUS]}`));
        if (refusing) throw new Error('No space left on device');
        for (const r of rows) stored.set(String(r[VIEW]), String(r[STATUS]));
      },
      { intervalMs: 0, written: (n) => (written += n), failed: (_e, _n, f) => failures.push(f) },
    );
    queue.add([row('a', 'v1'), row('b', 'v1')]);
    await waitFor(async () => failures.length >= 2, 'two refused writes');
    expect(queue.failing).toBe(true);
    // A newer row of `a` and a new view arrive while the store refuses.
    queue.add([row('a', 'v2'), row('c', 'v1')]);
    expect(queue.size).toBe(3);
    await waitFor(async () => failures.length >= 4, 'more refused writes');
    // Each failure waits longer than the one before: counted in a row.
    expect(failures.slice(0, 4)).toEqual([1, 2, 3, 4]);
    refusing = false;
    await waitFor(async () => !queue.failing && queue.size === 0, 'the queue to drain');
    expect(Object.fromEntries(stored)).toEqual({ a: 'v2', b: 'v1', c: 'v1' });
    expect(written).toBe(3);
    // No attempt ever carried two rows of one view.
    for (const a of attempts) expect(new Set(a.map((x) => x.split('=')[0])).size).toBe(a.length);
  });

  it('after stop, tries once at once and keeps what the store refused', async () => {
    const queue = new ViewWriteQueue(
      async () => {
        throw new Error('down');
      },
      { intervalMs: 60_000, written: () => {}, failed: () => {} },
    );
    queue.add([row('a', 'v1')]);
    queue.stop();
    await queue.settled();
    expect(queue.size).toBe(1);
    expect(queue.failing).toBe(true);
  });
});
