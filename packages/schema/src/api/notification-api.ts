/**
 * Answers of the notification channels API (/system/v1/notification-channels):
 * the server serialises with these schemas, so a channel's secret (webhook
 * signing secret, Slack webhook URL, PagerDuty routing key, SMTP password),
 * which is no key here, can never be written out; `has_secret` says whether
 * one is set.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DataOf, ListOf } from './envelope.js';

export const NOTIFICATION_CHANNEL_TYPES = ['webhook', 'slack', 'pagerduty', 'email', 'alertmanager'] as const;
export const NotificationChannelType = Type.Union(NOTIFICATION_CHANNEL_TYPES.map((t) => Type.Literal(t)));

/** The settings the API shows back: every type's keys except the secrets. */
export const NotificationChannelSettings = Type.Object({
  url: Type.Optional(Type.String({ description: 'webhook: where to POST; alertmanager: its base URL' })),
  events_url: Type.Optional(Type.String({ description: 'pagerduty: Events API v2 endpoint' })),
  smtp_host: Type.Optional(Type.String()),
  smtp_port: Type.Optional(Type.Integer()),
  smtp_secure: Type.Optional(
    Type.Boolean({ description: 'TLS from the start (port 465); else STARTTLS when offered' }),
  ),
  smtp_user: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  to: Type.Optional(Type.Array(Type.String())),
  resend_interval_seconds: Type.Optional(
    Type.Number({ description: 'alertmanager: re-send of open incidents' }),
  ),
  rate_limit_per_minute: Type.Optional(
    Type.Number({ description: 'Notifications per minute; the rest are held and combined' }),
  ),
});

export const NotificationChannelInfo = Type.Object({
  id: Type.String(),
  environment_id: Type.String(),
  name: Type.String(),
  type: NotificationChannelType,
  settings: NotificationChannelSettings,
  has_secret: Type.Boolean({ description: 'Whether the type’s write-only secret is set (never returned)' }),
  created_at: Type.String({ description: 'ISO 8601 UTC' }),
  updated_at: Type.String({ description: 'ISO 8601 UTC' }),
});
export type NotificationChannelInfo = Static<typeof NotificationChannelInfo>;

/** `GET /system/v1/notification-channels/{id}`, `POST` (201) and `PATCH` */
export const NotificationChannelResponse = DataOf(NotificationChannelInfo);
export type NotificationChannelResponse = Static<typeof NotificationChannelResponse>;
/** `GET /system/v1/notification-channels` */
export const NotificationChannelListResponse = ListOf(NotificationChannelInfo);
export type NotificationChannelListResponse = Static<typeof NotificationChannelListResponse>;

/** `POST /system/v1/notification-channels/{id}/test` */
export const NotificationChannelTestResponse = DataOf(
  Type.Object({
    delivered: Type.Boolean({ description: 'Whether the receiver accepted the test notification' }),
    receiver_said: Type.String({ description: 'Its answer: HTTP status and body start, or the SMTP reply' }),
  }),
);
export type NotificationChannelTestResponse = Static<typeof NotificationChannelTestResponse>;
