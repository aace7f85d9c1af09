/**
 * Keeps refused payloads, truncated, in the store's rejected_payloads table
 * with their reason, so a site owner can see why beacons were refused.
 * Capped per environment per hour (a public environment key must not let
 * anyone fill the disk); what is over the cap is still counted.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { ErrorCode, ErrorField } from '@openqoe/schema';
import type { Metrics } from '../observability/metrics.js';
import type { RawStore, RejectedPayload } from '../store/store.js';

export interface RejectionInput {
  envId: string | null;
  ip: string;
  userAgent: string;
  route: string;
  code: ErrorCode;
  messages: string[];
  fields: ErrorField[];
  body: Buffer | undefined;
  bodyBytes: number;
}

const MAX_QUEUE = 10_000;

export class RejectedRecorder {
  private queue: RejectedPayload[] = [];
  private readonly counts = new Map<string, number>();
  private hour = 0;
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: RawStore,
    private readonly metrics: Metrics,
    private readonly maxStoredBodyBytes: number,
    private readonly maxPerEnvironmentPerHour: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.flush(), 500);
    this.timer.unref();
  }

  record(input: RejectionInput, nowMs = Date.now()): void {
    const hour = Math.floor(nowMs / 3_600_000);
    if (hour !== this.hour) {
      this.hour = hour;
      this.counts.clear();
    }
    const bucket = input.envId ?? '(no environment)';
    const n = this.counts.get(bucket) ?? 0;
    if (n >= this.maxPerEnvironmentPerHour || this.queue.length >= MAX_QUEUE) {
      this.metrics.rejectedCapped.inc();
      return;
    }
    this.counts.set(bucket, n + 1);
    const body = input.body ?? Buffer.alloc(0);
    const kept = body.subarray(0, this.maxStoredBodyBytes);
    this.queue.push({
      id: randomUUID(),
      receivedAtMs: nowMs,
      envId: input.envId,
      ip: input.ip,
      userAgent: input.userAgent.slice(0, 512),
      route: input.route,
      code: input.code,
      messages: input.messages,
      fields: input.fields.slice(0, 50),
      // Text is kept as text; anything else (a broken gzip stream) as base64 so the column stays valid.
      body: isUtf8(kept) ? kept.toString('utf8') : `base64:${kept.toString('base64')}`,
      bodyBytes: input.bodyBytes,
      truncated: body.length > kept.length,
    });
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      try {
        await this.store.insertRejected(batch);
        this.metrics.rejectedRecorded.inc(batch.length);
      } catch (err) {
        this.onError(err);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
