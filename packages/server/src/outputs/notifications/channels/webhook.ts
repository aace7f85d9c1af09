/**
 * Generic webhook: one JSON POST per notification with every notice in full
 * (machine-readable: nothing is left out for length). With a signing secret,
 * `X-Openqoe-Timestamp` is the send's Unix time in seconds and
 * `X-Openqoe-Signature: v1=<hex>` the HMAC-SHA256, keyed with the secret, of
 * `<timestamp>.<body bytes>`; a receiver recomputes it, compares in constant
 * time and refuses timestamps older than its replay window (docs/alerting.md).
 */
import { createHmac } from 'node:crypto';
import type { IncidentNotice } from '../incident-notice.js';
import { byTransition, type Notification, notificationTitle, summaryLine } from '../notification-text.js';
import { type ChannelSender, postJson, type SenderContext } from './channel-sender.js';

export const SIGNATURE_HEADER = 'X-Openqoe-Signature';
export const TIMESTAMP_HEADER = 'X-Openqoe-Timestamp';

export function webhookSignature(secret: string, timestamp: string, body: Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

const noticeJson = (n: IncidentNotice) => ({
  incident_id: n.incidentId,
  dedup_key: n.dedupKey,
  transition: n.transition,
  severity: n.severity,
  metric: n.metric,
  unit: n.unit,
  operator: n.operator,
  threshold: n.threshold,
  open_value: n.openValue,
  worst_value: n.worstValue,
  value: n.value,
  breakdown: n.breakdown,
  breakdown_value: n.breakdownValue,
  filters: n.filters,
  audience: n.audience,
  example_view_ids: n.exampleViewIds,
  root_cause: n.rootCause ?? null,
  started_at: n.startedAt,
  acknowledged_at: n.acknowledgedAt,
  resolved_at: n.resolvedAt,
  links: n.links,
});

/** The body: the notification's id and title, then each rule's batch with its summary and notices. */
export function webhookBody(n: Notification, listed: number) {
  return {
    version: 1,
    id: n.id,
    test: n.test === true,
    title: notificationTitle(n, listed),
    batches: n.batches.map((b) => ({
      environment: { id: b.envId, name: b.envName },
      rule: {
        id: b.rule.id,
        name: b.rule.name,
        description: b.rule.description,
        runbook_url: b.rule.runbookUrl,
        severity: b.rule.severity,
      },
      summary: byTransition(b.notices).map(([t, list]) => summaryLine(t, list, listed)),
      notices: b.notices.map(noticeJson),
    })),
  };
}

export function webhookSender(c: SenderContext): ChannelSender {
  const url = c.settings['url'] as string;
  const secret = c.settings['signing_secret'] as string | undefined;
  return {
    send(n, signal) {
      const body = Buffer.from(JSON.stringify(webhookBody(n, c.listed)));
      const headers: Record<string, string> = {};
      if (secret !== undefined) {
        const timestamp = String(Math.floor(c.nowMs() / 1000));
        headers[TIMESTAMP_HEADER] = timestamp;
        headers[SIGNATURE_HEADER] = webhookSignature(secret, timestamp, body);
      }
      return postJson(url, body, c, signal, headers);
    },
  };
}
