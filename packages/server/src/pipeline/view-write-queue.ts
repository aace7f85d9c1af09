/**
 * The pipeline's view rows on their way to the store. Rows queued while a
 * write runs go together in the next one (one upsert per commit interval
 * carries every view completed in it). A failed write is never dropped: its
 * rows go back in the queue, where a newer row of the same view replaces
 * them, and the write is retried with a capped exponential backoff until the
 * store takes it. While it fails the queue reports `failing`, and the intake
 * consumer stops reading the bus (docs/architecture.md, "Failure modes").
 */
import { VIEW_COLUMNS, type ViewRow } from '../store/view-row.js';

/** First retry after this long, doubling per failure up to `RETRY_MAX_MS`. */
export const RETRY_MIN_MS = 100;
export const RETRY_MAX_MS = 5000;

/** How long to wait before the next attempt after `failures` failed ones in a row. */
export const retryDelayMs = (failures: number): number =>
  Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, failures - 1));

export interface ViewWriteQueueOptions {
  /** Least time between two writes (the pipeline's commit interval). */
  intervalMs: number;
  written(rows: number): void;
  failed(err: Error, rows: number, failures: number): void;
}

export class ViewWriteQueue {
  /** Newest row per view, by env and view id. */
  private readonly queued = new Map<string, ViewRow>();
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private lastWriteMs = Number.NEGATIVE_INFINITY;
  /** Failed attempts in a row; 0 once a write goes through. */
  private failures = 0;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly write: (rows: ViewRow[]) => Promise<void>,
    private readonly options: ViewWriteQueueOptions,
  ) {}

  /** Rows waiting for the store. */
  get size(): number {
    return this.queued.size;
  }

  /** The last write failed and its rows are still waiting. */
  get failing(): boolean {
    return this.failures > 0;
  }

  add(rows: readonly ViewRow[]): void {
    if (rows.length === 0) return;
    for (const row of rows) {
      const key = rowKey(row);
      // Re-inserted, so the map's order stays the order rows last changed in.
      this.queued.delete(key);
      this.queued.set(key, row);
    }
    this.schedule();
  }

  /** Resolves after the attempt that takes every row queued now (or after the last one, once stopping). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** From now on a write goes at once and a failure is not retried: what stays queued is `size`. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.chain = this.chain.then(() => this.attempt());
  }

  private async attempt(): Promise<void> {
    const wait = this.failures
      ? retryDelayMs(this.failures)
      : this.options.intervalMs - (performance.now() - this.lastWriteMs);
    if (wait > 1 && !this.stopping) await this.pause(wait);
    this.lastWriteMs = performance.now();
    this.scheduled = false;
    const rows = [...this.queued.values()];
    this.queued.clear();
    if (rows.length === 0) return;
    try {
      await this.write(rows);
    } catch (err) {
      // Back in the queue unless a newer row of the same view arrived meanwhile.
      for (const row of rows) {
        const key = rowKey(row);
        if (!this.queued.has(key)) this.queued.set(key, row);
      }
      this.failures++;
      this.options.failed(err as Error, rows.length, this.failures);
      if (!this.stopping) this.schedule();
      return;
    }
    this.failures = 0;
    this.options.written(rows.length);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

const ENV = VIEW_COLUMNS.findIndex((c) => c.name === 'env_id');
const VIEW = VIEW_COLUMNS.findIndex((c) => c.name === 'view_id');
const rowKey = (row: ViewRow): string => `${row[ENV]}\u0000${row[VIEW]}`;
