/**
 * One channel as a destination of the delivery core: what its queue holds
 * (one rule's batch per record, or a re-send marker) becomes one
 * notification per send, and a token bucket limits sends per minute. When
 * the bucket is empty the core holds (`holdMs`) and the next send takes
 * everything queued meanwhile, combined: a flapping rule or 200 series never
 * become 200 pages.
 */
import { createHash } from 'node:crypto';
import type { Destination, QueueRecord } from '../delivery/destination.js';
import type { ChannelReply, ChannelSender } from './channels/channel-sender.js';
import type { NotificationBatch } from './incident-notice.js';
import type { Notification } from './notification-text.js';

/** What a queue record holds. */
export type QueuedItem = { batch: NotificationBatch } | { resend: true };

export function queueRecord(item: QueuedItem, id: string): QueueRecord {
  return { id, key: '', dueAtMs: 0, payload: Buffer.from(JSON.stringify(item)) };
}

/** The notification a send makes of its records; its id follows from theirs, so a resend keeps it. */
export function notificationOf(records: readonly QueueRecord[]): Notification {
  const items = records.map((r) => JSON.parse(r.payload.toString('utf8')) as QueuedItem);
  const id = createHash('sha256')
    .update(records.map((r) => r.id).join('\n'))
    .digest('hex')
    .slice(0, 32);
  return { id, batches: items.flatMap((i) => ('batch' in i ? [i.batch] : [])) };
}

/** Sends per minute, in bursts of up to the same number: full at start, refilled continuously. */
export class TokenBucket {
  private tokens: number;
  private atMs: number;

  constructor(
    private readonly perMinute: number,
    nowMs: number,
  ) {
    this.tokens = Math.max(1, perMinute);
    this.atMs = nowMs;
  }

  private refill(nowMs: number): void {
    this.tokens = Math.min(
      Math.max(1, this.perMinute),
      this.tokens + ((nowMs - this.atMs) * this.perMinute) / 60_000,
    );
    this.atMs = nowMs;
  }

  /** 0 when a send may go now, else how long until it may. */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 60_000) / this.perMinute);
  }

  take(nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= 1;
  }
}

export function channelOutlet(
  sender: ChannelSender,
  bucket: TokenBucket,
  hooks: { held(): void; sent(reply: ChannelReply): void },
): Destination {
  return {
    holdMs() {
      const ms = bucket.waitMs(Date.now());
      if (ms > 0) hooks.held();
      return ms;
    },
    async send(records, signal) {
      const reply = await sender.send(notificationOf(records), signal);
      if (reply.outcome.ok) {
        bucket.take(Date.now());
        hooks.sent(reply);
      }
      return reply.outcome;
    },
    close: async () => sender.close?.(),
  };
}
