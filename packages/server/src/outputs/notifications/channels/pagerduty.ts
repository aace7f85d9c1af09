/**
 * PagerDuty Events API v2: one event per POST (`routing_key`, `event_action`
 * trigger | acknowledge | resolve, `dedup_key`; a trigger's `payload` with
 * summary, source, severity, timestamp, component, group, class and
 * custom_details, and `links`). An incident's dedup_key is its id, so its
 * trigger and resolve meet in one PagerDuty alert. Grouping: the series a
 * batch opens together are one alert, keyed by the first one's id; the
 * channel remembers which alert each belongs to (channel-state.ts) and
 * resolves the alert when its last series resolves. `repeat` sends nothing
 * (PagerDuty alerts do not time out).
 */
import { PAGERDUTY_EVENTS_URL } from '../channel-settings.js';
import type { ChannelState } from '../channel-state.js';
import type { IncidentNotice, NotificationBatch } from '../incident-notice.js';
import { batchTitle, type Notification, seriesName, valueVsThreshold } from '../notification-text.js';
import { type ChannelReply, type ChannelSender, postJson, type SenderContext } from './channel-sender.js';

/** Which PagerDuty alert (its dedup_key) each open incident belongs to. */
export interface PagerDutyState {
  alertOf: Record<string, string>;
}

export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: Record<string, unknown>;
  };
  links?: { href: string; text: string }[];
  client?: string;
}

function triggerEvent(
  routingKey: string,
  key: string,
  b: NotificationBatch,
  opened: IncidentNotice[],
  listed: number,
): PagerDutyEvent {
  const first = opened[0]!;
  const one: NotificationBatch = { ...b, notices: opened };
  const links = [
    { href: first.links.incident, text: 'Incident in openqoe' },
    { href: first.links.series, text: 'Series in Monitor' },
  ];
  if (b.rule.runbookUrl) links.push({ href: b.rule.runbookUrl, text: 'Runbook' });
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: key,
    payload: {
      // PagerDuty cuts summaries at 1024 characters.
      summary: batchTitle(one, listed).slice(0, 1024),
      source:
        opened.length === 1 ? `${b.envName}: ${seriesName(first)}` : `${b.envName}: ${opened.length} series`,
      severity: b.rule.severity,
      timestamp: first.startedAt,
      component: first.metric,
      group: first.breakdown ?? 'environment',
      class: b.rule.name,
      custom_details: {
        rule_id: b.rule.id,
        environment: b.envName,
        description: b.rule.description,
        series: opened.slice(0, listed).map((n) => ({
          series: seriesName(n),
          value: valueVsThreshold(n),
          audience: n.audience,
          root_cause: n.rootCause ?? null,
          incident_id: n.incidentId,
          dedup_key: n.dedupKey,
        })),
        more_series: Math.max(0, opened.length - listed),
      },
    },
    links,
    client: 'openqoe',
  };
}

/** The events a notification makes, and the state after them. */
export function pagerDutyEvents(
  n: Notification,
  routingKey: string,
  state: PagerDutyState,
  listed: number,
): PagerDutyEvent[] {
  const events: PagerDutyEvent[] = [];
  const simple = (action: 'acknowledge' | 'resolve', key: string) =>
    events.push({ routing_key: routingKey, event_action: action, dedup_key: key });
  for (const b of n.batches) {
    const opened = b.notices.filter((x) => x.transition === 'trigger');
    if (opened.length) {
      // A redelivered trigger finds its alert again; new series open one alert keyed by the first.
      const key = state.alertOf[opened[0]!.incidentId] ?? opened[0]!.incidentId;
      for (const x of opened) state.alertOf[x.incidentId] ??= key;
      events.push(triggerEvent(routingKey, key, b, opened, listed));
    }
    const acked = new Set(
      b.notices
        .filter((x) => x.transition === 'acknowledge')
        .map((x) => state.alertOf[x.incidentId] ?? x.incidentId),
    );
    for (const key of acked) simple('acknowledge', key);
    for (const x of b.notices.filter((y) => y.transition === 'resolve')) {
      const key = state.alertOf[x.incidentId] ?? x.incidentId;
      delete state.alertOf[x.incidentId];
      if (!Object.values(state.alertOf).includes(key)) simple('resolve', key);
    }
  }
  return events;
}

export function pagerDutySender(c: SenderContext): ChannelSender {
  const routingKey = c.settings['routing_key'] as string;
  const url = (c.settings['events_url'] as string | undefined) ?? PAGERDUTY_EVENTS_URL;
  const state = c.state as ChannelState<PagerDutyState>;
  return {
    async send(n, signal) {
      const next = state.draft();
      next.alertOf ??= {};
      const events = n.test
        ? [
            {
              routing_key: routingKey,
              event_action: 'trigger' as const,
              dedup_key: `openqoe-test-${c.channelId}`,
              payload: {
                summary: 'openqoe test notification: this channel works',
                source: 'openqoe',
                severity: 'info' as const,
              },
            },
          ]
        : pagerDutyEvents(n, routingKey, next, c.listed);
      let reply: ChannelReply = { outcome: { ok: true }, said: 'nothing to send' };
      // In order; a failure retries the whole notification, and PagerDuty drops what it already has by dedup_key.
      for (const event of events) {
        reply = await postJson(url, event, c, signal);
        if (!reply.outcome.ok) return reply;
      }
      if (!n.test) state.save(next);
      return reply;
    },
  };
}
