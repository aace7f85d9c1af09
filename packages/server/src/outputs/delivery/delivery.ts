/**
 * The delivery core every output shares (monitoring-stream sinks, connectors),
 * after Vector's sink wrapper: a destination gives only its payload and its
 * transport (destination.ts); this wraps it with
 *
 * - the durable queue (disk-queue.ts) and the outage policy: `offer` makes
 *   records durable before the caller commits its input; when the buffer is
 *   full they are dropped (counted) or held, and the caller holds the
 *   pipeline — its commit waits, the log's backlog grows and the intake
 *   answers 429 once that is full;
 * - batching: up to the destination's limits, closed on count, bytes or age
 *   (`maxDelayMs` after the oldest waiting record), one batch in flight, so
 *   records arrive in queue order; a destination may hold the next batch
 *   (`holdMs`, a rate limit), which then takes what came meanwhile;
 * - retries until the destination recovers (the buffer, not a retry count,
 *   bounds what waits): exponential backoff with jitter, or the destination's
 *   Retry-After; only a partly failed batch's failed records are resent;
 * - refusals: a batch refused as such is split until the one record is
 *   found; a refused record goes to the dead-letter directory when the kind
 *   keeps one (else it is counted and logged) and the queue moves on;
 * - the counters, through the kind's own metric names (DeliveryCounters).
 *
 * The queue's cursor moves only after the destination accepted (or the core
 * set aside) a record, so neither a SIGKILL nor an outage loses one.
 */
import type { DeadLetterDir } from './dead-letter.js';
import type { BatchLimits, Destination, QueueRecord, SendOutcome } from './destination.js';
import { DiskQueue, type PreviousQueue, type Staged } from './disk-queue.js';

/** What the core reports; each kind maps it to its `/metrics` names and labels. */
export interface DeliveryCounters {
  queued(count: number): void;
  dropped(count: number, reason: 'buffer_full' | 'too_large'): void;
  sent(records: readonly QueueRecord[]): void;
  /** A send that failed and will be retried, by reason (HTTP status, network, partial). */
  retried(reason: string): void;
  /** A record refused for good (set aside when the kind keeps dead letters). */
  refused(record: QueueRecord, reason: string): void;
  buffered(records: number, bytes: number): void;
}

export interface RetryPolicy {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface DeliveryOptions {
  /** Names the destination in log lines: `connector splunk`, `monitoring sink kinesis`. */
  label: string;
  /** What a record is called in log lines: ['event', 'events']. */
  nouns: readonly [string, string];
  dir: string;
  bufferMaxBytes: number;
  whenFull: 'drop' | 'block';
  retry: RetryPolicy;
  limits: BatchLimits;
  /** Longest a record waits for its batch to fill (0: sent as soon as the destination is free). */
  maxDelayMs: number;
  /** Where refused records are kept; without one they are counted, logged and let go. */
  deadLetters?: DeadLetterDir | undefined;
  counters: DeliveryCounters;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  /** A queue the previous version left, moved into this one on open. */
  previous?: PreviousQueue | undefined;
}

/** Exponential backoff with jitter: half fixed, half random, so retries of many servers spread out. */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Longest Retry-After honoured as given; a larger one is capped so a bad header cannot park a destination. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** Buffer-full and too-large warnings: at most one per this interval. */
const FULL_WARNING_MS = 10_000;
/** Retry warnings: on the first failure of an outage, then at most once per this interval. */
const RETRY_WARNING_MS = 60_000;

const thrown = (err: unknown): SendOutcome => ({
  ok: false,
  kind: 'retry',
  reason: 'error',
  message: String(err),
});

/** A record of the batch in flight and its index in that batch. */
interface Item {
  staged: Staged;
  i: number;
}

export class Delivery {
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private readonly stopper = new AbortController();
  private wake: (() => void) | undefined;
  /** When the oldest record not yet taken into a batch was offered (0: from before a restart). */
  private oldestMs: number | undefined;
  /** Records of the batch in flight already acknowledged. */
  private batchAcked = 0;
  private lastRetryWarnMs = 0;
  private lastFullWarnMs = 0;

  private constructor(
    /** What waits for the destination: records, bytes, and whether offers are held for room. */
    readonly queue: DiskQueue,
    private readonly destination: Destination,
    private readonly options: DeliveryOptions,
  ) {}

  static async open(destination: Destination, options: DeliveryOptions): Promise<Delivery> {
    const { limits, log, label, counters } = options;
    let queue: DiskQueue;
    try {
      queue = await DiskQueue.open(options.dir, {
        maxBytes: options.bufferMaxBytes,
        // Small buffers get small segments, so acknowledged space is given back soon.
        segmentBytes: Math.max(64 * 1024, Math.min(16 * 1024 * 1024, Math.floor(options.bufferMaxBytes / 8))),
        readAhead: { records: limits.maxEvents, bytes: limits.maxBytes },
        onError: (err, context) => log.warn(`${label}: queue (${context}): ${err.message}`),
        onWritten: (n) => counters.queued(n),
        previous: options.previous,
      });
    } catch (err) {
      await destination.close?.();
      throw err;
    }
    const delivery = new Delivery(queue, destination, options);
    if (queue.records > 0) delivery.oldestMs = 0;
    queue.onStaged = () => delivery.wake?.();
    delivery.loop = delivery.run().catch((err: unknown) => {
      log.error(`${label}: delivery stopped: ${(err as Error).message}`);
    });
    return delivery;
  }

  /**
   * Hands records over: admitted at once (too large for the destination or,
   * with `drop`, beyond the bound: dropped and counted; with `block`, held in
   * order). The promise resolves when all of them are durable; ids already
   * queued are skipped, so offering a batch again is safe.
   */
  offer(records: readonly QueueRecord[], mode = this.options.whenFull): Promise<void> {
    const { label, nouns, limits, counters } = this.options;
    let fitting = records;
    const tooLarge = records.filter((r) => r.payload.length > limits.maxRecordBytes);
    if (tooLarge.length) {
      fitting = records.filter((r) => r.payload.length <= limits.maxRecordBytes);
      counters.dropped(tooLarge.length, 'too_large');
      this.warnFull(`${label}: ${nouns[0]} ${tooLarge[0]!.id} is larger than the destination takes; dropped`);
    }
    const admitted = this.queue.offer(fitting, mode);
    if (admitted.dropped) {
      counters.dropped(admitted.dropped, 'buffer_full');
      this.warnFull(
        `${label}: buffer full, dropped ${admitted.dropped} ${nouns[1]} (raise bufferMaxBytes or fix the destination)`,
      );
    }
    if (admitted.held)
      this.warnFull(
        `${label}: buffer full (${this.queue.bytes} of ${this.options.bufferMaxBytes} bytes waiting for the destination); ` +
          'holding the pipeline until there is room',
      );
    if (admitted.written + admitted.held > 0) this.oldestMs ??= Date.now();
    this.updateGauges();
    return admitted.durable;
  }

  private warnFull(message: string): void {
    const now = Date.now();
    if (now - this.lastFullWarnMs < FULL_WARNING_MS) return;
    this.lastFullWarnMs = now;
    this.options.log.warn(message);
  }

  private updateGauges(): void {
    this.options.counters.buffered(this.queue.records, this.queue.bytes);
  }

  /** Waits for `ms` or the stop; `idle`: also until records are staged (a backoff is not cut short by them). */
  private wait(ms: number, idle: boolean): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.stopper.signal;
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      if (idle) this.wake = done;
      signal.addEventListener('abort', done);
    });
  }

  private async run(): Promise<void> {
    const { limits, maxDelayMs } = this.options;
    while (this.running) {
      this.updateGauges();
      const staged = this.queue.stagedCount;
      if (staged.records === 0) {
        if (this.queue.records === 0) this.oldestMs = undefined;
        await this.wait(60_000, true);
        continue;
      }
      const age = Date.now() - (this.oldestMs ?? 0);
      if (staged.records < limits.maxEvents && staged.bytes < limits.maxBytes && age < maxDelayMs) {
        await this.wait(maxDelayMs - age, true);
        continue;
      }
      const holdMs = this.destination.holdMs?.() ?? 0;
      if (holdMs > 0) {
        // Held records are not sent as they come: what arrives meanwhile joins the batch.
        await this.wait(holdMs, false);
        continue;
      }
      const readAtMs = Date.now();
      const batch = this.queue.peek(limits.maxEvents, limits.maxBytes);
      this.batchAcked = 0;
      const items = batch.map((staged, i) => ({ staged, i }));
      // Stopping: what was not accepted stays queued for the next start.
      if (!(await this.send(items, true))) return;
      await this.ackTo(batch.length);
      this.oldestMs = this.queue.records > 0 ? readAtMs : undefined;
    }
  }

  /** Acknowledges the batch in flight up to (not including) index `end`. */
  private async ackTo(end: number): Promise<void> {
    if (end <= this.batchAcked) return;
    const count = end - this.batchAcked;
    this.batchAcked = end;
    try {
      await this.queue.ack(count);
    } catch (err) {
      // Delivered: without a durable cursor it is sent again after a restart.
      this.options.log.error(`${this.options.label}: cannot save its cursor: ${(err as Error).message}`);
    }
    this.updateGauges();
  }

  /**
   * Sends `items` until the destination accepted or refused each one; false
   * when stopped first. `run`: the items are the rest of the batch in order
   * (not the failed subset of a partial answer), so a settled head can be
   * acknowledged at once.
   */
  private async send(items: Item[], run: boolean): Promise<boolean> {
    const { label, nouns, retry, counters } = this.options;
    let todo = items;
    let attempt = 0;
    while (this.running) {
      const records = todo.map((t) => t.staged.record);
      // A destination classifies its failures; anything it throws is retried, never lost.
      const outcome = await this.destination.send(records, this.stopper.signal).catch(thrown);
      if (!this.running) return false;
      if (outcome.ok) {
        this.sent(todo);
        if (attempt > 0) this.options.log.info(`${label}: the destination accepts ${nouns[1]} again`);
        return true;
      }
      let waitMs = backoffMs(attempt, retry);
      let reason: string;
      if (outcome.kind === 'reject') {
        if (outcome.accepted === undefined && todo.length > 1) {
          const half = Math.ceil(todo.length / 2);
          return (await this.send(todo.slice(0, half), run)) && (await this.send(todo.slice(half), run));
        }
        const at = outcome.accepted ?? 0;
        const refused = todo[at];
        if (!refused) throw new Error(`${label}: the destination refused record ${at}, beyond its batch`);
        this.sent(todo.slice(0, at));
        todo = todo.slice(at);
        if (run) await this.ackTo(refused.i);
        if (this.refuse(refused.staged.record, outcome)) {
          if (run) await this.ackTo(refused.i + 1);
          todo = todo.slice(1);
          attempt = 0;
          if (todo.length === 0) return true;
          continue;
        }
        // It could not be set aside (e.g. the disk is full): it stays at the head and is retried like an outage.
        reason = outcome.reason;
      } else if (outcome.kind === 'partial') {
        const failed = new Set(outcome.failed);
        this.sent(todo.filter((_, j) => !failed.has(j)));
        todo = outcome.failed.map((j) => todo[j]!);
        run = false;
        reason = 'partial';
      } else {
        const at = outcome.accepted ?? 0;
        if (at > 0) {
          this.sent(todo.slice(0, at));
          if (run) await this.ackTo(todo[at - 1]!.i + 1);
          todo = todo.slice(at);
        }
        reason = outcome.reason;
        if (outcome.retryAfterMs !== undefined) waitMs = Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS);
      }
      counters.retried(reason);
      const now = Date.now();
      if (attempt === 0 || now - this.lastRetryWarnMs >= RETRY_WARNING_MS) {
        this.lastRetryWarnMs = now;
        this.options.log.warn(
          `${label}: ${outcome.message}; retrying ${todo.length} ${nouns[1]} in ${Math.round(waitMs)} ms ` +
            `(${this.queue.records} buffered)`,
        );
      }
      attempt++;
      this.updateGauges();
      await this.wait(waitMs, false);
    }
    return false;
  }

  private sent(items: Item[]): void {
    if (items.length) this.options.counters.sent(items.map((t) => t.staged.record));
  }

  /** A record refused for good: set aside (or let go when the kind keeps none); false if it could not be. */
  private refuse(record: QueueRecord, outcome: Extract<SendOutcome, { kind: 'reject' }>): boolean {
    const { label, nouns, deadLetters, counters, log } = this.options;
    if (!deadLetters) {
      counters.refused(record, outcome.reason);
      log.error(
        `${label}: destination refused ${nouns[0]} ${record.id} (${outcome.message}); it is not retried`,
      );
      return true;
    }
    const reason = outcome.detail ?? outcome.message;
    let file: string;
    try {
      file = deadLetters.write(record, outcome.reason, reason);
    } catch (err) {
      log.warn(`${label}: cannot set refused ${nouns[0]} ${record.id} aside: ${(err as Error).message}`);
      return false;
    }
    counters.refused(record, outcome.reason);
    log.warn(
      `${label}: ${nouns[0]} ${record.id} refused with ${outcome.reason} (${reason}); moved to ${deadLetters.dir}/${file}`,
    );
    return true;
  }

  /** Stops after the send in flight (aborted), closes the destination, then the queue. */
  async close(): Promise<void> {
    this.running = false;
    this.stopper.abort();
    await this.loop;
    await this.destination.close?.();
    await this.queue.close();
  }
}
