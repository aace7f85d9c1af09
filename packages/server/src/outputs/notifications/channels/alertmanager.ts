/**
 * Prometheus Alertmanager (`POST <url>/api/v2/alerts`): one alert per
 * incident (labels: alertname = the rule, the series, the environment,
 * severity, rule and incident ids; annotations: summary, value against
 * threshold, links; `startsAt`, `generatorURL` = the incident page). An alert
 * without `endsAt` is resolved by Alertmanager after its resolve_timeout, so
 * every send carries all the incidents still open (the channel keeps them,
 * channel-state.ts) and the notifier queues a re-send on an interval below
 * that timeout; a resolve sends the alert with `endsAt` and forgets it.
 * Alertmanager groups and routes them itself.
 */
import type { ChannelState } from '../channel-state.js';
import type { IncidentNotice, NotificationBatch } from '../incident-notice.js';
import { type Notification, seriesName, valueVsThreshold } from '../notification-text.js';
import { type ChannelSender, postJson, type SenderContext } from './channel-sender.js';

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL: string;
}

/** The alerts Alertmanager holds open for this channel, by incident id. */
export interface AlertmanagerState {
  open: Record<string, AlertmanagerAlert>;
}

export function alertOf(b: NotificationBatch, n: IncidentNotice): AlertmanagerAlert {
  const annotations: Record<string, string> = {
    summary: `${b.rule.name}: ${seriesName(n)}: ${valueVsThreshold(n)}`,
    description: b.rule.description,
    value: String(n.value),
    threshold: String(n.threshold),
    worst_value: String(n.worstValue),
    audience: String(n.audience),
    incident_url: n.links.incident,
    series_url: n.links.series,
    dedup_key: n.dedupKey,
  };
  if (n.rootCause) annotations['root_cause'] = n.rootCause;
  if (b.rule.runbookUrl) annotations['runbook_url'] = b.rule.runbookUrl;
  if (n.acknowledgedAt) annotations['acknowledged_at'] = n.acknowledgedAt;
  return {
    labels: {
      alertname: b.rule.name,
      severity: n.severity,
      environment: b.envName,
      series: seriesName(n),
      metric: n.metric,
      rule_id: b.rule.id,
      incident_id: n.incidentId,
    },
    annotations,
    startsAt: n.startedAt,
    generatorURL: n.links.incident,
  };
}

/** What one send posts: every alert still open after the notification, and those it resolves. */
export function alertmanagerAlerts(n: Notification, state: AlertmanagerState): AlertmanagerAlert[] {
  const resolved: AlertmanagerAlert[] = [];
  for (const b of n.batches)
    for (const x of b.notices) {
      if (x.transition !== 'resolve') {
        state.open[x.incidentId] = alertOf(b, x);
        continue;
      }
      delete state.open[x.incidentId];
      resolved.push({ ...alertOf(b, x), endsAt: x.resolvedAt ?? new Date().toISOString() });
    }
  return [...Object.values(state.open), ...resolved];
}

export function alertmanagerSender(c: SenderContext): ChannelSender {
  const url = `${(c.settings['url'] as string).replace(/\/+$/, '')}/api/v2/alerts`;
  const state = c.state as ChannelState<AlertmanagerState>;
  return {
    async send(n, signal) {
      const next = state.draft();
      next.open ??= {};
      const alerts = n.test
        ? [
            {
              labels: { alertname: 'openqoe test notification', severity: 'info' },
              annotations: { summary: 'openqoe test notification: this channel works' },
              startsAt: new Date(c.nowMs()).toISOString(),
              endsAt: new Date(c.nowMs() + 5 * 60_000).toISOString(),
              generatorURL: 'http://localhost/',
            },
          ]
        : alertmanagerAlerts(n, next);
      if (alerts.length === 0) return { outcome: { ok: true }, said: 'nothing open' };
      const reply = await postJson(url, alerts, c, signal);
      if (reply.outcome.ok && !n.test) state.save(next);
      return reply;
    },
  };
}

/** Whether the channel has incidents open in Alertmanager (the notifier re-sends them). */
export const hasOpenAlerts = (state: ChannelState<object>) =>
  Object.keys((state.current as Partial<AlertmanagerState>).open ?? {}).length > 0;
