/**
 * One connector's delivery loop: reads its disk buffer in order, one batch
 * in flight at a time (so events of a view arrive in order), sends it, and
 * moves the durable cursor only once the destination accepted it.
 *
 * Batches close on count, bytes or age (`maxDelayMs` after the oldest waiting
 * event). Retries use exponential backoff with jitter, or the destination's
 * Retry-After when it gives one, and go on until the destination recovers:
 * the buffer, not the retry count, bounds what waits. A batch the
 * destination refuses as such (400, 413) is split in halves until the one
 * bad event is found; that event is counted as failed and logged.
 */
import type { ConnectorMetrics } from './connector-metrics.js';
import type { BatchLimits, Destination } from './destination.js';
import type { BufferRecord, DiskBuffer } from './disk-buffer.js';

export interface RetryPolicy {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface DeliveryOptions {
  name: string;
  limits: BatchLimits;
  maxDelayMs: number;
  retry: RetryPolicy;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
}

/** Exponential backoff with jitter: half fixed, half random, so retries of many servers spread out. */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Longest Retry-After honoured as given; a larger one is capped so a bad header cannot park the connector. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

export class Delivery {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly stopper = new AbortController();
  private wake: (() => void) | undefined;
  /** Warnings are logged on the first retry of an outage and then every minute, not per attempt. */
  private lastWarnMs = 0;

  constructor(
    private readonly buffer: DiskBuffer,
    private readonly destination: Destination,
    private readonly metrics: ConnectorMetrics,
    private readonly options: DeliveryOptions,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run().catch((err: unknown) => {
      this.options.log.error(`connector ${this.options.name}: delivery stopped: ${(err as Error).message}`);
    });
  }

  /** Called after an append: the loop may have a batch to send. */
  notify(): void {
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.stopper.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }

  /** Waits for `ms` or an append, whichever is first. */
  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.stopper.signal;
      const self = this;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
      signal.addEventListener('abort', done);
    });
  }

  private async run(): Promise<void> {
    const { limits, maxDelayMs } = this.options;
    const buffer = this.buffer;
    while (this.running) {
      this.updateGauges();
      if (buffer.cursor >= buffer.end) {
        buffer.oldestAppendMs = undefined;
        await this.idle(60_000);
        continue;
      }
      const age = Date.now() - (buffer.oldestAppendMs ?? 0);
      if (buffer.records < limits.maxEvents && buffer.bytes < limits.maxBytes && age < maxDelayMs) {
        await this.idle(maxDelayMs - age);
        continue;
      }
      const readAtMs = Date.now();
      let batch: Awaited<ReturnType<DiskBuffer['read']>>;
      try {
        batch = await buffer.read(buffer.cursor, limits.maxEvents, limits.maxBytes);
      } catch (err) {
        // A disk error must not end delivery for good: log it and try again.
        this.options.log.error(
          `connector ${this.options.name}: cannot read its buffer: ${(err as Error).message}`,
        );
        await this.sleep(1000);
        continue;
      }
      if (batch.records.length === 0) {
        await this.idle(100);
        continue;
      }
      const delivered = await this.deliver(batch.records);
      if (!delivered) return; // stopping: the batch stays in the buffer for the next start
      try {
        await buffer.ack(batch.end, batch.records.length);
      } catch (err) {
        // The batch was delivered; without a durable cursor it is sent again after a restart.
        this.options.log.error(
          `connector ${this.options.name}: cannot save its cursor: ${(err as Error).message}`,
        );
      }
      buffer.oldestAppendMs = buffer.records > 0 ? readAtMs : undefined;
    }
  }

  private updateGauges(): void {
    this.metrics.buffered.labels(this.options.name).set(this.buffer.records);
    this.metrics.bufferedBytes.labels(this.options.name).set(this.buffer.bytes);
  }

  /** Sends records until the destination took or refused each one; false when stopped first. */
  private async deliver(records: BufferRecord[]): Promise<boolean> {
    const name = this.options.name;
    let todo = records;
    let attempt = 0;
    while (this.running) {
      const outcome = await this.destination.send(
        todo.map((r) => r.text),
        this.stopper.signal,
      );
      if (!this.running) return false;
      if (outcome.ok) {
        this.metrics.sent.labels(name).inc(todo.length);
        if (attempt > 0) this.options.log.info(`connector ${name}: destination accepted events again`);
        return true;
      }
      if (outcome.kind === 'reject') {
        if (todo.length > 1) {
          const half = Math.ceil(todo.length / 2);
          return (await this.deliver(todo.slice(0, half))) && (await this.deliver(todo.slice(half)));
        }
        this.metrics.failed.labels(name).inc();
        this.options.log.error(
          `connector ${name}: destination refused event ${todo[0]!.id} (${outcome.message}); it is not retried`,
        );
        return true;
      }
      let waitMs = backoffMs(attempt, this.options.retry);
      if (outcome.kind === 'partial') {
        const accepted = todo.length - outcome.failed.length;
        if (accepted > 0) this.metrics.sent.labels(name).inc(accepted);
        todo = outcome.failed.map((i) => todo[i]!);
        this.metrics.retried.labels(name, 'partial').inc();
      } else {
        this.metrics.retried.labels(name, outcome.reason).inc();
        if (outcome.retryAfterMs !== undefined) waitMs = Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS);
      }
      const now = Date.now();
      if (attempt === 0 || now - this.lastWarnMs >= 60_000) {
        this.lastWarnMs = now;
        this.options.log.warn(
          `connector ${name}: ${outcome.message}; retrying ${todo.length} events in ${Math.round(waitMs)} ms ` +
            `(${this.buffer.records} buffered)`,
        );
      }
      attempt++;
      this.updateGauges();
      await this.sleep(waitMs);
    }
    return false;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopper.abort();
    await this.loop;
    await this.destination.close?.();
  }
}
