/**
 * What the alert engine (alerts/) hands to the notifications output: one
 * batch per rule per evaluation, holding every incident transition of that
 * rule in that evaluation (grouping: 200 series opening together are one
 * batch, so one notification per channel). The notifier makes the batch
 * durable (the delivery core's on-disk queue, one queue per channel) before
 * `notify` resolves, so the engine may record the transition as sent.
 */

export type IncidentTransition = 'trigger' | 'acknowledge' | 'resolve' | 'repeat';
export type AlertSeverity = 'critical' | 'error' | 'warning' | 'info';

export interface IncidentNotice {
  incidentId: string;
  /**
   * Stable per incident and transition (`<incidentId>:<transition>`, with the repeat's number for
   * `repeat`): a redelivery after a crash carries the same key, so receivers can drop it.
   */
  dedupKey: string;
  transition: IncidentTransition;
  severity: AlertSeverity;
  /** The metric id the rule watches (a real-time metric or a view metric) and its unit ('percent', 'ms', 'viewers', …). */
  metric: string;
  unit: string;
  operator: '>' | '<';
  threshold: number;
  /** The value that opened the incident, the worst seen while open, and the latest. */
  openValue: number;
  worstValue: number;
  value: number;
  /** The breakdown dimension and value this series is (both null for the whole environment). */
  breakdown: string | null;
  breakdownValue: string | null;
  filters: readonly string[];
  /** Viewers (real-time metrics) or views (windowed view metrics) while open. */
  audience: number;
  exampleViewIds: readonly string[];
  /** Whole-environment incidents: which breakdown values carry most of the change (absent in notices queued before it existed). */
  rootCause?: string | null;
  /** ISO 8601 UTC. */
  startedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  /** Absolute URLs: the incident page and Monitor (or Metrics) filtered to the series. */
  links: { incident: string; series: string };
}

export interface NotificationBatch {
  envId: string;
  /** The environment's name, for the message text. */
  envName: string;
  rule: {
    id: string;
    name: string;
    description: string;
    runbookUrl: string | null;
    severity: AlertSeverity;
  };
  /** Channels to notify (ids of the environment's notification channels). */
  channelIds: readonly string[];
  /** At least one; every transition of this rule in this evaluation. */
  notices: readonly IncidentNotice[];
}

/** The notifications output, as the alert engine sees it. */
export interface Notifier {
  /** Queues the batch durably for each of its channels; resolves once it is on disk. */
  notify(batch: NotificationBatch): Promise<void>;
  /** Whether the environment has a channel with this id (rules refuse unknown channel ids). */
  hasChannel(envId: string, channelId: string): Promise<boolean>;
}
