/**
 * What every monitoring sink is: a transport that delivers a batch of
 * queued payloads in order, all or nothing (a partial success is retried
 * inside the transport or the whole batch is resent; ids make resends
 * recognisable). The runner owns buffering, retries and counters.
 */
import type { QueueEntry } from './disk-queue.js';

export interface SinkTransport {
  /** Most entries one `send` takes (a request's limits). */
  readonly maxBatchEntries: number;
  readonly maxBatchBytes: number;
  /**
   * Resolves once every entry is acknowledged by the destination; rejects
   * otherwise (retried), or with a `PayloadRefusedError` when the destination
   * refused one entry for good.
   */
  send(entries: QueueEntry[]): Promise<void>;
  close(): Promise<void>;
}

/** Exponential backoff with a cap, the one retry policy of the sinks. */
export interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

export const backoffMs = (p: RetryPolicy, attempt: number): number =>
  Math.min(p.maxDelayMs, p.initialDelayMs * 2 ** Math.min(attempt, 20));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The destination refused `entries[index]` for good (it will never accept
 * these bytes); the entries before it were acknowledged. The runner moves the
 * refused payload to the sink's dead-letter directory and goes on, instead of
 * holding the whole queue behind it.
 */
export class PayloadRefusedError extends Error {
  constructor(
    readonly index: number,
    /** The destination's status (an HTTP status for the http sink). */
    readonly status: number,
    /** Why, as the destination said it (truncated). */
    readonly reason: string,
  ) {
    super(`payload refused with ${status}: ${reason}`);
  }
}
