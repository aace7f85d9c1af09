/**
 * Drains one sink's disk queue into its transport: batches in order,
 * retries with backoff while the destination is down, acknowledges the
 * queue only after the destination did. Counters go to /metrics.
 */
import type { DiskQueue } from './disk-queue.js';
import type { MonitoringMetrics } from './monitoring-metrics.js';
import { backoffMs, type RetryPolicy, type SinkTransport } from './sink.js';

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
      const { entries, bytes } = await this.queue.peek(
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
        this.metrics.sendErrors.labels(this.name).inc();
        if (attempt === 0) this.log.warn(`monitoring sink ${this.name}: ${(err as Error).message}; retrying`);
        this.backingOff = true;
        await this.idle(backoffMs(this.retry, attempt++));
        this.backingOff = false;
        continue;
      }
      if (attempt > 0) this.log.warn(`monitoring sink ${this.name}: delivering again`);
      attempt = 0;
      await this.queue.ack(bytes);
      this.onAck();
      const now = Date.now();
      for (const e of entries)
        this.metrics.ackLag.labels(this.name).observe(Math.max(0, now - e.dueAtMs) / 1000);
      this.metrics.payloadsSent.labels(this.name).inc(entries.length);
      this.metrics.bytesSent.labels(this.name).inc(entries.reduce((a, e) => a + e.payload.length, 0));
      this.metrics.buffered.labels(this.name).set(this.queue.bufferedBytes);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.transport.close();
    this.queue.close();
  }
}
