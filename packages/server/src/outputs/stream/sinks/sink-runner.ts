/**
 * Drains one sink's disk queue into its transport: batches in order,
 * retries with backoff while the destination is down, acknowledges the
 * queue only after the destination did. A payload the destination refused
 * for good goes to the dead-letter directory so the rest can move on.
 * Counters go to /metrics.
 */
import type { DeadLetterDir } from './dead-letter.js';
import type { DiskQueue, QueueEntry } from './disk-queue.js';
import type { MonitoringMetrics } from './monitoring-metrics.js';
import { backoffMs, PayloadRefusedError, type RetryPolicy, type SinkTransport } from './sink.js';

export class SinkRunner {
  private wake: (() => void) | undefined;
  private stopped = false;
  /** While backing off after a failure, new entries do not cut the wait short. */
  private backingOff = false;
  /** Entries were appended since the loop last looked (a notify may come while it is busy). */
  private appended = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly queue: DiskQueue,
    private readonly transport: SinkTransport,
    private readonly retry: RetryPolicy,
    private readonly metrics: MonitoringMetrics,
    private readonly log: { warn(m: string): void },
    private readonly deadLetters: DeadLetterDir,
    /** Told after entries left the buffer (room for more). */
    private readonly onAck: () => void = () => {},
  ) {}

  start(): void {
    this.metrics.buffered.labels(this.name).set(this.queue.bufferedBytes);
    this.loop = this.run();
  }

  /** Called after entries were appended. */
  notify(): void {
    this.metrics.buffered.labels(this.name).set(this.queue.bufferedBytes);
    this.appended = true;
    if (!this.backingOff) this.wake?.();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      this.appended = false;
      const { entries, bytes, sizes } = await this.queue.peek(
        this.transport.maxBatchEntries,
        this.transport.maxBatchBytes,
      );
      if (entries.length === 0) {
        if (!this.appended) await this.idle(1000);
        continue;
      }
      try {
        await this.transport.send(entries);
      } catch (err) {
        if (err instanceof PayloadRefusedError) {
          // The destination answered: what came before was delivered, and the refused payload is
          // set aside — unless it cannot be (e.g. the disk is full): then it stays at the head of
          // the queue and is retried like an outage.
          const setAside = this.setAside(entries[err.index], err);
          const through = setAside ? err.index + 1 : err.index;
          if (through > 0)
            await this.acknowledge(
              entries.slice(0, err.index),
              sizes.slice(0, through).reduce((a, b) => a + b, 0),
            );
          if (setAside) {
            attempt = 0;
            continue;
          }
        }
        this.metrics.sendErrors.labels(this.name).inc();
        if (attempt === 0) this.log.warn(`monitoring sink ${this.name}: ${(err as Error).message}; retrying`);
        this.backingOff = true;
        await this.idle(backoffMs(this.retry, attempt++));
        this.backingOff = false;
        continue;
      }
      if (attempt > 0) this.log.warn(`monitoring sink ${this.name}: delivering again`);
      attempt = 0;
      await this.acknowledge(entries, bytes);
    }
  }

  /** Removes delivered entries from the queue and counts them. */
  private async acknowledge(delivered: QueueEntry[], bytes: number): Promise<void> {
    await this.queue.ack(bytes);
    this.onAck();
    const now = Date.now();
    for (const e of delivered)
      this.metrics.ackLag.labels(this.name).observe(Math.max(0, now - e.dueAtMs) / 1000);
    this.metrics.payloadsSent.labels(this.name).inc(delivered.length);
    this.metrics.bytesSent.labels(this.name).inc(delivered.reduce((a, e) => a + e.payload.length, 0));
    this.metrics.buffered.labels(this.name).set(this.queue.bufferedBytes);
  }

  /** Writes a refused payload to the dead-letter directory, durably; false if it could not. */
  private setAside(refused: QueueEntry | undefined, err: PayloadRefusedError): boolean {
    if (!refused) throw new Error(`sink ${this.name} refused entry ${err.index}, beyond its batch`);
    let file: string;
    try {
      file = this.deadLetters.write(refused, err.status, err.reason);
    } catch (writeErr) {
      this.log.warn(
        `monitoring sink ${this.name}: cannot set refused payload ${refused.id} aside: ${(writeErr as Error).message}`,
      );
      return false;
    }
    this.metrics.rejected.labels(this.name, String(err.status)).inc();
    this.log.warn(
      `monitoring sink ${this.name}: payload ${refused.id} refused with ${err.status} (${err.reason}); ` +
        `moved to ${this.deadLetters.dir}/${file}`,
    );
    return true;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.transport.close();
    this.queue.close();
  }
}
