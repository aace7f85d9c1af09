/**
 * The notifications output (the alert engine's Notifier): one delivery per
 * channel on the delivery core, its queue and state under
 * `{dataDir}/notifications/{channelId}/` (queue/, dead-letters/,
 * state.json). `notify` resolves once the batch is durable in each channel's
 * queue; each delivery sends at least once, retries with backoff, holds
 * what its rate limit does not let through and sends it combined. An
 * Alertmanager channel with incidents open gets a re-send queued on its
 * interval so Alertmanager does not time them out. A channel's delivery is
 * rebuilt when it changes and closed (its queue removed) when it is deleted.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Static } from '@sinclair/typebox';
import type { NotificationsConfigSchema } from '../../config/notifications-config.js';
import type { NotificationChannelRecord } from '../../store/notification-channel-store.js';
import { DeadLetterDir } from '../delivery/dead-letter.js';
import { Delivery } from '../delivery/delivery.js';
import { channelOutlet, queueRecord, TokenBucket } from './channel-outlet.js';
import type { ChannelType } from './channel-settings.js';
import { ChannelState } from './channel-state.js';
import { hasOpenAlerts } from './channels/alertmanager.js';
import type { ChannelReply, ChannelSender } from './channels/channel-sender.js';
import { SENDERS } from './channels/registry.js';
import type { NotificationBatch, Notifier } from './incident-notice.js';
import type { NotificationChannels } from './notification-channels.js';
import { type NotificationMetrics, notificationCounters } from './notification-metrics.js';
import { testBatch } from './notification-text.js';

export type NotificationsConfig = Static<typeof NotificationsConfigSchema>;
type Log = { info(m: string): void; warn(m: string): void; error(m: string): void };

interface Open {
  delivery: Delivery;
  state: ChannelState<object>;
  resend?: NodeJS.Timeout;
}

export class ChannelNotifier implements Notifier {
  private readonly open = new Map<string, Open>();
  private closed = false;
  /** Opening, closing and offering one at a time: a channel changed meanwhile is never offered to closed. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    readonly channels: NotificationChannels,
    private readonly options: {
      config: NotificationsConfig;
      dataDir: string;
      metrics: NotificationMetrics;
      log: Log;
    },
  ) {
    channels.onChange = (id, removed) =>
      this.exclusive(async () => {
        await this.closeChannel(id);
        // A deleted channel's queue goes with it; a changed one reopens at once with what it held.
        const changed = channels.get(id);
        if (removed) await rm(this.dir(id), { recursive: true, force: true });
        else if (changed && !this.closed) await this.opened(changed);
      });
  }

  /** Opens every channel's delivery, so what was queued before a restart is sent. */
  async start(): Promise<void> {
    for (const c of this.channels.list()) await this.exclusive(() => this.opened(c));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  private dir(id: string): string {
    return join(this.options.dataDir, 'notifications', id);
  }

  /** How a channel sends, over a state (persisted, or in memory for a test send). */
  private sender(c: NotificationChannelRecord, state: ChannelState<object>): ChannelSender {
    return SENDERS[c.type as ChannelType]({
      channelId: c.id,
      settings: { ...c.settings, ...c.secrets },
      listed: this.options.config.listedSeries,
      timeoutMs: this.options.config.requestTimeoutMs,
      state,
      nowMs: Date.now,
    });
  }

  private async opened(c: NotificationChannelRecord): Promise<Open> {
    const have = this.open.get(c.id);
    if (have) return have;
    const { config, metrics, log } = this.options;
    const dir = this.dir(c.id);
    const state = ChannelState.load<object>(join(dir, 'state.json'), () => ({}));
    const perMinute =
      (c.settings['rate_limit_per_minute'] as number | undefined) ?? config.rateLimitPerMinute;
    const label = `notification channel ${c.name} (${c.id})`;
    const outlet = channelOutlet(this.sender(c, state), new TokenBucket(perMinute, Date.now()), {
      held: () => metrics.held.labels(c.id).inc(),
      sent: () => metrics.notifications.labels(c.id).inc(),
    });
    const delivery = await Delivery.open(outlet, {
      label,
      nouns: ['notification batch', 'notification batches'],
      dir: join(dir, 'queue'),
      bufferMaxBytes: config.bufferMaxBytes,
      whenFull: config.whenFull,
      retry: { initialBackoffMs: config.retryInitialBackoffMs, maxBackoffMs: config.retryMaxBackoffMs },
      limits: { maxEvents: 1000, maxBytes: 4 * 1024 * 1024, maxRecordBytes: 1024 * 1024 },
      maxDelayMs: 0,
      deadLetters: new DeadLetterDir(join(dir, 'dead-letters'), 'json'),
      counters: notificationCounters(metrics, c.id),
      log,
    });
    const entry: Open = { delivery, state };
    if (c.type === 'alertmanager') {
      const everyMs =
        ((c.settings['resend_interval_seconds'] as number | undefined) ??
          config.alertmanagerResendMs / 1000) * 1000;
      entry.resend = setInterval(() => {
        // Only when nothing waits: a send in flight or held carries the open alerts anyway.
        if (!hasOpenAlerts(state) || delivery.queue.records > 0) return;
        delivery
          .offer([queueRecord({ resend: true }, `resend-${Date.now()}`)])
          .catch((err: unknown) => log.warn(`${label}: cannot queue the re-send: ${(err as Error).message}`));
      }, everyMs);
      entry.resend.unref();
    }
    this.open.set(c.id, entry);
    return entry;
  }

  private async closeChannel(id: string): Promise<void> {
    const entry = this.open.get(id);
    if (!entry) return;
    this.open.delete(id);
    clearInterval(entry.resend);
    await entry.delivery.close();
  }

  async notify(batch: NotificationBatch): Promise<void> {
    // The record id follows from the notices, so the engine offering the same batch again is skipped.
    const keys = batch.notices.map((n) => n.dedupKey).join('\n');
    const durable = await this.exclusive(async () => {
      if (this.closed) throw new Error('notifications: the notifier is closed');
      const offers: Promise<void>[] = [];
      for (const id of new Set(batch.channelIds)) {
        const c = this.channels.get(id);
        if (!c || c.envId !== batch.envId) {
          this.options.log.warn(
            `notifications: rule ${batch.rule.id} names channel ${id}, which its environment does not have`,
          );
          continue;
        }
        const recordId = createHash('sha256').update(`${id}\n${keys}`).digest('hex').slice(0, 32);
        offers.push((await this.opened(c)).delivery.offer([queueRecord({ batch }, recordId)]));
      }
      return offers;
    });
    await Promise.all(durable);
  }

  async hasChannel(envId: string, channelId: string): Promise<boolean> {
    return this.channels.get(channelId)?.envId === envId;
  }

  /**
   * Sends a test notification through the channel now, bypassing its queue and rate limit, and
   * answers what the receiver said. The channel's state is not touched.
   */
  async test(c: NotificationChannelRecord, envName: string): Promise<{ delivered: boolean; said: string }> {
    const sender = this.sender(c, ChannelState.memory({}));
    try {
      const batch = testBatch(c.envId, envName, c.id, Date.now());
      const reply: ChannelReply = await sender.send(
        { id: `test-${c.id}-${Date.now()}`, batches: [batch], test: true },
        AbortSignal.timeout(this.options.config.requestTimeoutMs + 1000),
      );
      return { delivered: reply.outcome.ok, said: reply.said };
    } finally {
      await sender.close?.();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.exclusive(async () => {
      for (const id of [...this.open.keys()]) await this.closeChannel(id);
    });
  }
}
