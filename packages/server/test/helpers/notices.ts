/**
 * Incident notices and batches as the alert engine hands them to the
 * notifier (outputs/notifications/incident-notice.ts), for the notification
 * tests: series `cdn=edge-<i>.example`, rebuffering above 5 %.
 */
import type {
  IncidentNotice,
  IncidentTransition,
  NotificationBatch,
} from '../../src/outputs/notifications/incident-notice.js';

export function notice(i: number, transition: IncidentTransition, incidentId = `inc-${i}`): IncidentNotice {
  return {
    incidentId,
    dedupKey: `${incidentId}:${transition}`,
    transition,
    severity: 'critical',
    metric: 'current_rebuffering_percentage',
    unit: 'percent',
    operator: '>',
    threshold: 5,
    openValue: 12.5,
    worstValue: 20 + i,
    value: 12.5,
    breakdown: 'cdn',
    breakdownValue: `edge-${i}.example`,
    filters: ['stream_type:live'],
    audience: 40 + i,
    exampleViewIds: [`view-${i}-a`, `view-${i}-b`],
    startedAt: '2026-12-07T08:00:00.000Z',
    acknowledgedAt: transition === 'acknowledge' ? '2026-12-07T08:05:00.000Z' : null,
    resolvedAt: transition === 'resolve' ? '2026-12-07T08:10:00.000Z' : null,
    links: {
      incident: `http://openqoe.test/ui/alerts/incidents/${incidentId}`,
      series: `http://openqoe.test/ui/monitor?dimension=cdn&filters=cdn:edge-${i}.example`,
    },
  };
}

export function batch(
  envId: string,
  channelIds: readonly string[],
  notices: readonly IncidentNotice[],
  rule = { id: 'rule-1', name: 'CDN rebuffering' },
): NotificationBatch {
  return {
    envId,
    envName: 'production',
    rule: {
      ...rule,
      description: 'Rebuffering above 5 % for 60 s on one CDN host',
      runbookUrl: 'https://runbooks.example/cdn-rebuffering',
      severity: 'critical',
    },
    channelIds,
    notices,
  };
}

/** `count` notices of one transition, series 0 … count−1. */
export const notices = (count: number, transition: IncidentTransition, from = 0): IncidentNotice[] =>
  Array.from({ length: count }, (_, i) => notice(from + i, transition));
