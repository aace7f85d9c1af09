/**
 * Keeps refused payloads, truncated, in the store's rejected_payloads table
 * with their reason, so a site owner can see why beacons were refused.
 * Capped per environment per hour (a public environment key must not let
 * anyone fill the disk); what is over the cap is still counted.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { ErrorCode, ErrorField } from '@openqoe/schema';
import type { Metrics } from '../../observability/metrics.js';
import type { RawStore, RejectedPayload } from '../../store/store.js';

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
const BASE64_PREFIX = 'base64:';

/**
 * The stored form of a body, at most `maxBytes` bytes once stored. Text is
 * kept as text, cut at a character boundary (a cut through a multi-byte
 * character would otherwise make it look binary); anything else (a broken
 * gzip stream) as base64 so the column stays valid, cut so the encoded form
 * fits too. `bytes` is how many bytes of the body the stored form holds.
 */
export function storedBody(body: Buffer, maxBytes: number): { text: string; bytes: number } {
  let end = Math.min(body.length, maxBytes);
  // Back off over continuation bytes (10xxxxxx) to the start of the character that was cut.
  if (end < body.length) {
    let back = 0;
    while (back < 3 && end - back > 0 && (body[end - back]! & 0xc0) === 0x80) back++;
    end -= back;
  }
  const text = body.subarray(0, end);
  if (isUtf8(text)) return { text: text.toString('utf8'), bytes: end };
  const binary = Math.min(body.length, Math.floor(Math.max(0, maxBytes - BASE64_PREFIX.length) / 4) * 3);
  if (binary === 0) return { text: '', bytes: 0 };
  return { text: `${BASE64_PREFIX}${body.subarray(0, binary).toString('base64')}`, bytes: binary };
}

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
    const kept = storedBody(body, this.maxStoredBodyBytes);
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
      body: kept.text,
      bodyBytes: input.bodyBytes,
      // A body refused before it was read (over the size limit) is not kept at all: truncated too.
      truncated: input.body === undefined ? input.bodyBytes > 0 : kept.bytes < body.length,
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
