/**
 * Configuration of the alert notifications output: the delivery keys every
 * channel's queue shares, and the defaults of what a channel may set itself
 * (its rate limit). Channels themselves are data, made through
 * /system/v1/notification-channels (docs/alerting.md).
 */
import { Type } from '@sinclair/typebox';
import { deliveryKeys } from './delivery-config.js';

export const NotificationsConfigSchema = Type.Object(
  {
    ...deliveryKeys({
      bufferMaxBytes: 64 * 1024 * 1024,
      bufferMinBytes: 1024 * 1024,
      retryMaxBackoffMs: 300_000,
    }),
    requestTimeoutMs: Type.Integer({
      minimum: 100,
      default: 10_000,
      description: 'Longest wait for a receiver (HTTP or SMTP) before the send is retried',
    }),
    rateLimitPerMinute: Type.Number({
      exclusiveMinimum: 0,
      default: 4,
      description:
        'Notifications a channel sends per minute unless it sets rate_limit_per_minute (a token bucket of that size); what comes meanwhile is held and sent combined',
    }),
    listedSeries: Type.Integer({
      minimum: 1,
      maximum: 40,
      default: 10,
      description: 'Series a grouped notification names; the rest are counted',
    }),
    alertmanagerResendMs: Type.Integer({
      minimum: 100,
      default: 60_000,
      description:
        'How often the open incidents are sent again to an Alertmanager channel that sets no resend_interval_seconds (keep it below Alertmanager’s resolve_timeout, 5 min by default)',
    }),
  },
  { additionalProperties: false, default: {} },
);
