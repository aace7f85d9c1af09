/**
 * The counters of the notification channels on the server's Prometheus
 * registry (`/metrics`), labelled by channel id, and what the delivery core
 * reports for one channel under them. A queued record is one rule's batch of
 * an evaluation; one send (a notification) may combine several.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryCounters } from '../delivery/delivery.js';

export function createNotificationMetrics(registry: Registry) {
  const labelNames = ['channel'] as const;
  const registers = [registry];
  return {
    queued: new Counter({
      name: 'openqoe_notification_batches_queued_total',
      help: 'Batches (one rule, one evaluation) made durable in a channel queue',
      labelNames,
      registers,
    }),
    sent: new Counter({
      name: 'openqoe_notification_batches_sent_total',
      help: 'Batches the receiver accepted',
      labelNames,
      registers,
    }),
    notifications: new Counter({
      name: 'openqoe_notifications_sent_total',
      help: 'Notifications (messages, pages, mails) the receiver accepted; one may combine several batches',
      labelNames,
      registers,
    }),
    failed: new Counter({
      name: 'openqoe_notification_batches_failed_total',
      help: 'Batches the receiver refused for good; kept in the channel dead-letter directory',
      labelNames,
      registers,
    }),
    retried: new Counter({
      name: 'openqoe_notification_retries_total',
      help: 'Sends retried, by reason (HTTP or SMTP status, network)',
      labelNames: ['channel', 'reason'] as const,
      registers,
    }),
    dropped: new Counter({
      name: 'openqoe_notification_batches_dropped_total',
      help: 'Batches not queued, by reason (buffer_full, too_large); logged',
      labelNames: ['channel', 'reason'] as const,
      registers,
    }),
    held: new Counter({
      name: 'openqoe_notification_rate_limited_total',
      help: 'Times a channel rate limit held what was waiting (sent combined later)',
      labelNames,
      registers,
    }),
    buffered: new Gauge({
      name: 'openqoe_notification_buffered_batches',
      help: 'Batches on disk waiting for the receiver',
      labelNames,
      registers,
    }),
    bufferedBytes: new Gauge({
      name: 'openqoe_notification_buffered_bytes',
      help: 'Bytes on disk waiting for the receiver',
      labelNames,
      registers,
    }),
  };
}

export type NotificationMetrics = ReturnType<typeof createNotificationMetrics>;

export function notificationCounters(m: NotificationMetrics, channel: string): DeliveryCounters {
  return {
    queued: (n) => m.queued.labels(channel).inc(n),
    dropped: (n, reason) => m.dropped.labels(channel, reason).inc(n),
    sent: (records) => m.sent.labels(channel).inc(records.length),
    retried: (reason) => m.retried.labels(channel, reason).inc(),
    refused: () => m.failed.labels(channel).inc(),
    buffered: (records, bytes) => {
      m.buffered.labels(channel).set(records);
      m.bufferedBytes.labels(channel).set(bytes);
    },
  };
}
