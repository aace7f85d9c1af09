/**
 * Keeps refused payloads, truncated, in the store's rejected_payloads table
 * with their reason, so a site owner can see why beacons were refused.
 * Capped per environment per hour (a public environment key must not let
 * anyone fill the disk); what is over the cap is still counted.
 *
 * Every refusal is recorded whatever it carried: each value is made the
 * column's type here (an address gone with its socket, a length header that
 * is no number), since the store refuses a batch with one untyped value in it
 * (DuckDB: "Cannot create values of type ANY"). A batch the store refuses is
 * retried row by row, and a refusal that still cannot be written is counted
 * (`openqoe_rejected_unrecorded_total`), never silently lost.
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

/** A value as a string column takes it: never undefined, an object or an array. */
const asText = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : v === undefined || v === null
      ? ''
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);
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
    try {
      this.enqueue(input, nowMs);
    } catch (err) {
      // Never turns a refusal into a 500: the refusal is answered, and counted as unrecorded.
      this.metrics.rejectedUnrecorded.inc();
      this.onError(err);
    }
  }

  private enqueue(input: RejectionInput, nowMs: number): void {
    const hour = Math.floor(nowMs / 3_600_000);
    if (hour !== this.hour) {
      this.hour = hour;
      this.counts.clear();
    }
    const envId = typeof input.envId === 'string' ? input.envId : null;
    const bucket = envId ?? '(no environment)';
    const n = this.counts.get(bucket) ?? 0;
    if (n >= this.maxPerEnvironmentPerHour || this.queue.length >= MAX_QUEUE) {
      this.metrics.rejectedCapped.inc();
      return;
    }
    this.counts.set(bucket, n + 1);
    const body = Buffer.isBuffer(input.body) ? input.body : Buffer.alloc(0);
    const kept = storedBody(body, this.maxStoredBodyBytes);
    const declared = Number(input.bodyBytes);
    this.queue.push({
      id: randomUUID(),
      receivedAtMs: nowMs,
      envId,
      ip: asText(input.ip),
      userAgent: asText(input.userAgent).slice(0, 512),
      route: asText(input.route),
      code: asText(input.code) as ErrorCode,
      messages: (Array.isArray(input.messages) ? input.messages : []).map(asText),
      fields: (Array.isArray(input.fields) ? input.fields : [])
        .slice(0, 50)
        .map((f) => ({ path: asText(f?.path), problem: asText(f?.problem) })),
      body: kept.text,
      bodyBytes: Number.isSafeInteger(declared) && declared >= 0 ? declared : body.length,
      // A body refused before it was read (over the size limit) is not kept at all: truncated too.
      truncated: input.body === undefined ? declared > 0 : kept.bytes < body.length,
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
        // One row the store cannot take must not cost the others theirs.
        for (const row of batch) {
          try {
            await this.store.insertRejected([row]);
            this.metrics.rejectedRecorded.inc();
          } catch {
            this.metrics.rejectedUnrecorded.inc();
          }
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
