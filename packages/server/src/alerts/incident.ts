/**
 * An incident: one (rule, series) from the moment its condition held for
 * `for_seconds` until its resolve condition held for `resolve_for_seconds`;
 * its transitions (trigger, acknowledge, resolve), each recorded with how far
 * its notification got; and both as the notifications output and the API
 * see them.
 */
import type { Incident } from '@openqoe/schema';
import type { IncidentNotice, IncidentTransition } from '../outputs/notifications/incident-notice.js';
import type { RuleSpec } from './alert-rules.js';
import type { RootCauseHint } from './root-cause.js';

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';
/** `pending` until the notifier holds it (sent again after a restart), or why it is not sent. */
export type Delivery = 'pending' | 'queued' | 'muted' | 'no_channels';

export interface IncidentRecord {
  id: string;
  envId: string;
  ruleId: string;
  ruleName: string;
  metric: string;
  unit: string;
  breakdown: string | null;
  breakdownValue: string | null;
  filters: string[];
  severity: RuleSpec['severity'];
  operator: '>' | '<';
  threshold: number;
  resolveValue: number;
  status: IncidentStatus;
  openValue: number;
  worstValue: number;
  lastValue: number | null;
  audience: number;
  exampleViewIds: string[];
  /** A silence held the trigger: the incident's later transitions are not sent either. */
  muted: boolean;
  startedAtMs: number;
  acknowledgedAtMs: number | null;
  resolvedAtMs: number | null;
  /** The resolve timer (ThresholdState.okSinceMs), kept so a restart resumes it. */
  okSinceMs: number | null;
  /** Whole-environment incidents: the breakdown values that carry most of the change (absent in older rows, null: none stands out). */
  rootCause?: RootCauseHint | null;
  /** When the rule's escalation re-notified it (absent or null: not yet); there is one at most. */
  escalatedAtMs?: number | null;
}

export interface TransitionRecord {
  /** The notice's de-duplication key: `<incident id>:<transition>` (`<incident id>:escalate:1` for the escalation). */
  id: string;
  incidentId: string;
  envId: string;
  ruleId: string;
  /** `repeat`: the escalation of an incident still open (unacknowledged) after the rule's `after_minutes`. */
  transition: IncidentTransition;
  atMs: number;
  delivery: Delivery;
  notice: IncidentNotice;
}

export const dedupKeyOf = (incidentId: string, transition: IncidentTransition) =>
  transition === 'repeat' ? `${incidentId}:escalate:1` : `${incidentId}:${transition}`;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function noticeOf(
  inc: IncidentRecord,
  transition: TransitionRecord['transition'],
  links: IncidentNotice['links'],
): IncidentNotice {
  return {
    incidentId: inc.id,
    dedupKey: dedupKeyOf(inc.id, transition),
    transition,
    severity: inc.severity,
    metric: inc.metric,
    unit: inc.unit,
    operator: inc.operator,
    threshold: inc.threshold,
    openValue: inc.openValue,
    worstValue: inc.worstValue,
    value: inc.lastValue ?? inc.worstValue,
    breakdown: inc.breakdown,
    breakdownValue: inc.breakdownValue,
    filters: inc.filters,
    audience: inc.audience,
    exampleViewIds: inc.exampleViewIds,
    rootCause: inc.rootCause?.summary ?? null,
    startedAt: iso(inc.startedAtMs)!,
    acknowledgedAt: iso(inc.acknowledgedAtMs),
    resolvedAt: iso(inc.resolvedAtMs),
    links,
  };
}

export function incidentAnswer(inc: IncidentRecord, transitions?: readonly TransitionRecord[]): Incident {
  return {
    id: inc.id,
    environment_id: inc.envId,
    status: inc.status,
    rule_id: inc.ruleId,
    rule_name: inc.ruleName,
    metric: inc.metric,
    breakdown: inc.breakdown,
    breakdown_value: inc.breakdownValue,
    filters: inc.filters,
    severity: inc.severity,
    operator: inc.operator,
    threshold: inc.threshold,
    resolve_value: inc.resolveValue,
    open_value: inc.openValue,
    worst_value: inc.worstValue,
    last_value: inc.lastValue,
    audience: inc.audience,
    example_view_ids: inc.exampleViewIds,
    root_cause: inc.rootCause ?? null,
    muted: inc.muted,
    started_at: iso(inc.startedAtMs)!,
    acknowledged_at: iso(inc.acknowledgedAtMs),
    resolved_at: iso(inc.resolvedAtMs),
    ...(transitions && {
      transitions: transitions.map((t) => ({
        transition: t.transition,
        at: iso(t.atMs)!,
        value: t.notice.value,
        dedup_key: t.id,
        delivery: t.delivery,
      })),
    }),
  };
}
