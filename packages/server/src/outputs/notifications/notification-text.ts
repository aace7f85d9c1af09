/**
 * One notification as every channel words it: the batches a send combines
 * (one per rule and evaluation, more when the rate limit held some), their
 * summary lines ("3 series opened: cdn=a, cdn=b, cdn=c"), the first K series
 * named and the rest counted, and each series' value against its threshold.
 */
import type { IncidentNotice, IncidentTransition, NotificationBatch } from './incident-notice.js';

export interface Notification {
  /** Stable for the same queued batches: a resend after a crash carries it again. */
  id: string;
  batches: readonly NotificationBatch[];
  /** A test send from the API: nothing is open or resolved. */
  test?: boolean;
}

const VERB: Record<IncidentTransition, string> = {
  trigger: 'opened',
  acknowledge: 'acknowledged',
  resolve: 'resolved',
  repeat: 'still open',
};
const ORDER: readonly IncidentTransition[] = ['trigger', 'repeat', 'acknowledge', 'resolve'];

export const allNotices = (n: Notification): IncidentNotice[] => n.batches.flatMap((b) => b.notices);

/** `cdn=edge-a.example.com`, or the environment as a whole. */
export function seriesName(n: IncidentNotice): string {
  return n.breakdown === null ? 'whole environment' : `${n.breakdown}=${n.breakdownValue ?? '(none)'}`;
}

export function formatValue(v: number, unit: string): string {
  const rounded = Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100;
  if (unit === 'percent') return `${rounded}%`;
  return unit ? `${rounded} ${unit}` : String(rounded);
}

/** `12.5% > 5%` for an open series; the worst value too once it differs. */
export function valueVsThreshold(n: IncidentNotice): string {
  const text = `${n.metric} ${formatValue(n.value, n.unit)} ${n.operator} ${formatValue(n.threshold, n.unit)}`;
  return n.worstValue !== n.value ? `${text} (worst ${formatValue(n.worstValue, n.unit)})` : text;
}

/** Notices grouped by transition, in a fixed order (opened first). */
export function byTransition(notices: readonly IncidentNotice[]): [IncidentTransition, IncidentNotice[]][] {
  return ORDER.map(
    (t) => [t, notices.filter((n) => n.transition === t)] as [IncidentTransition, IncidentNotice[]],
  ).filter(([, list]) => list.length > 0);
}

/** `3 series opened: cdn=a, cdn=b … and 1 more`, naming at most `listed`. */
export function summaryLine(
  t: IncidentTransition,
  notices: readonly IncidentNotice[],
  listed: number,
): string {
  const names = notices.slice(0, listed).map(seriesName);
  const rest = notices.length - names.length;
  return `${notices.length} series ${VERB[t]}: ${names.join(', ')}${rest > 0 ? ` … and ${rest} more` : ''}`;
}

/** One batch's headline: the rule, the environment and what happened. */
export function batchTitle(b: NotificationBatch, listed: number): string {
  const what = byTransition(b.notices)
    .map(([t, list]) => summaryLine(t, list, listed))
    .join('; ');
  return `[${b.rule.severity}] ${b.rule.name} (${b.envName}): ${what}`;
}

/** The whole notification in one line: the text fallback and subject of every channel. */
export function notificationTitle(n: Notification, listed: number): string {
  if (n.test) return 'openqoe test notification: this channel works';
  const first = n.batches[0];
  if (n.batches.length === 1 && first) return batchTitle(first, listed);
  const counts = byTransition(allNotices(n)).map(([t, list]) => `${list.length} series ${VERB[t]}`);
  return `openqoe: ${n.batches.length} rules, ${counts.join(', ')}`;
}

/** The series lines of a batch, first `listed` named with their values, the rest counted. */
export function seriesLines(notices: readonly IncidentNotice[], listed: number): string[] {
  const lines = notices
    .slice(0, listed)
    .map(
      (n) =>
        `${VERB[n.transition]}: ${seriesName(n)}: ${valueVsThreshold(n)}${n.rootCause ? ` (likely cause: ${n.rootCause})` : ''}`,
    );
  if (notices.length > listed) lines.push(`… and ${notices.length - listed} more`);
  return lines;
}

/** Plain text of the whole notification (email body, logs). */
export function notificationText(n: Notification, listed: number): string {
  if (n.test) return 'This is a test notification sent from openqoe. Nothing is open.';
  return n.batches
    .map((b) => {
      const lines = [batchTitle(b, listed), b.rule.description, ...seriesLines(b.notices, listed)];
      const first = b.notices[0];
      if (first) lines.push(`Incident: ${first.links.incident}`, `Series: ${first.links.series}`);
      if (b.rule.runbookUrl) lines.push(`Runbook: ${b.rule.runbookUrl}`);
      return lines.filter((l) => l !== '').join('\n');
    })
    .join('\n\n');
}

/** A notice for the API's test send: a made-up series of a made-up rule. */
export function testBatch(
  envId: string,
  envName: string,
  channelId: string,
  nowMs: number,
): NotificationBatch {
  const at = new Date(nowMs).toISOString();
  const incidentId = `test-${channelId}`;
  return {
    envId,
    envName,
    rule: {
      id: 'test',
      name: 'openqoe test notification',
      description: 'A test send',
      runbookUrl: null,
      severity: 'info',
    },
    channelIds: [channelId],
    notices: [
      {
        incidentId,
        dedupKey: `${incidentId}:trigger`,
        transition: 'trigger',
        severity: 'info',
        metric: 'test',
        unit: '',
        operator: '>',
        threshold: 0,
        openValue: 1,
        worstValue: 1,
        value: 1,
        breakdown: null,
        breakdownValue: null,
        filters: [],
        audience: 0,
        exampleViewIds: [],
        startedAt: at,
        acknowledgedAt: null,
        resolvedAt: null,
        links: { incident: 'http://localhost/', series: 'http://localhost/' },
      },
    ],
  };
}
