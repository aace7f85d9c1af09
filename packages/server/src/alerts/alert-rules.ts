/**
 * Alert rules: what one is made of once checked (every default filled in),
 * the check itself (every bad field named at once: the body's shape, then
 * the metric, measurement, dimension, filters, hysteresis, runbook URL and
 * channels), and the rule as the API answers it. A rule watches either a
 * real-time metric of the monitoring API (evaluated every tick) or, with
 * `window_seconds`, a view metric of the query API over the views that ended
 * in that trailing window (evaluated every `evaluate_every_seconds`).
 */
import type {
  AlertRule,
  AlertRuleInput,
  AlertSeverity,
  AnomalyCondition as AnomalyInput,
  ErrorField,
  ThresholdCondition,
} from '@openqoe/schema';
import {
  AlertEscalation,
  AlertRuleInput as AlertRuleInputSchema,
  AnomalyCondition as AnomalyConditionSchema,
  ThresholdCondition as ThresholdConditionSchema,
} from '@openqoe/schema';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ApiError } from '../http/api-error.js';
import { REALTIME_DIMENSIONS, REALTIME_METRIC_IDS } from '../pipeline/realtime/realtime-catalog.js';
import { DIMENSIONS } from '../query/dimensions.js';
import { METRICS } from '../query/metric-catalog.js';
import { parseRealtimeFilters } from '../query/realtime/monitoring-filters.js';
import {
  type AnomalyCondition,
  type AnomalyVerdict,
  defaultDirection,
  defaultMinChange,
} from './anomaly-baseline.js';

/** A rule's settings, checked, with every default filled in (stored as is, answered in snake_case). */
export interface RuleSpec {
  kind: 'realtime' | 'window';
  name: string;
  metric: string;
  measurement: string | null;
  window_seconds: number | null;
  evaluate_every_seconds: number | null;
  breakdown: string | null;
  filters: string[];
  condition: Required<ThresholdCondition> | AnomalyCondition;
  severity: AlertSeverity;
  description: string;
  runbook_url: string | null;
  channel_ids: string[];
  /** Re-notify an incident nobody acknowledged, once (absent in rules stored before it existed: none). */
  escalation?: { after_minutes: number; channel_ids: string[] } | null;
  enabled: boolean;
}

export interface Rule {
  id: string;
  envId: string;
  source: 'api' | 'config';
  spec: RuleSpec;
  createdAtMs: number;
  updatedAtMs: number;
}

export const DEFAULT_RESOLVE_FOR_SECONDS = 120;
export const DEFAULT_EVALUATE_EVERY_SECONDS = 60;
const REALTIME_MEASUREMENTS = ['median', 'p95'];

/** TypeBox's error paths ("/condition/for_seconds", "/filters/0") as the API names fields. */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ''): ErrorField[] {
  return [...Value.Errors(schema, value)].map((e) => ({
    path:
      prefix +
      (e.path
        .replace(/^\//, '')
        .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
        .replace(/\//g, '.') || '(root)'),
    problem: e.message,
  }));
}

/** Whether `url` is an absolute http(s) URL. */
export function isHttpUrl(url: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** Audience metrics: the value is the audience itself, so `min_audience` does not apply. */
export const isAudienceMetric = (spec: RuleSpec) =>
  spec.metric === 'current_concurrent_viewers' || spec.metric === 'views';

/**
 * Checks a rule body and fills its defaults; throws one ApiError naming every bad field
 * (`prefix` names where it sits, e.g. `alerts.rules[2].` in the config file).
 */
export async function checkRule(
  input: unknown,
  hasChannel: (id: string) => Promise<boolean>,
  prefix = '',
): Promise<RuleSpec> {
  const problems = schemaProblems(AlertRuleInputSchema, input, prefix);
  const body = (input && typeof input === 'object' ? input : {}) as Partial<AlertRuleInput>;
  const bad = (path: string, problem: string) => problems.push({ path: prefix + path, problem });
  const kind = body.window_seconds !== undefined ? 'window' : 'realtime';
  const anomaly = (body.condition as { type?: unknown } | undefined)?.type === 'anomaly';
  const metric = String(body.metric ?? '');
  let measurement: string | null = body.measurement ?? null;
  const filters = Array.isArray(body.filters) ? body.filters.filter((f) => typeof f === 'string') : [];
  const breakdown = typeof body.breakdown === 'string' ? body.breakdown : null;
  if (kind === 'realtime') {
    if (!(REALTIME_METRIC_IDS as readonly string[]).includes(metric)) {
      bad(
        'metric',
        `unknown real-time metric "${metric}"; one of ${REALTIME_METRIC_IDS.join(', ')} (or set window_seconds for a view metric)`,
      );
    } else if (metric === 'video_startup_time' && anomaly) {
      // The series history keeps startup time as its mean per minute, not its quantiles.
      measurement ??= 'mean';
      if (measurement !== 'mean') bad('measurement', 'anomaly rules watch the mean startup time: mean');
    } else if (metric === 'video_startup_time') {
      measurement ??= 'median';
      if (!REALTIME_MEASUREMENTS.includes(measurement)) bad('measurement', 'must be median or p95');
    } else if (measurement !== null) bad('measurement', `${metric} has no measurements`);
    if (breakdown !== null && !REALTIME_DIMENSIONS[breakdown])
      bad(
        'breakdown',
        `unknown real-time dimension "${breakdown}"; one of ${Object.keys(REALTIME_DIMENSIONS).join(', ')}`,
      );
    const filterProblems: ErrorField[] = [];
    parseRealtimeFilters(filters, filterProblems);
    for (const p of filterProblems) bad(p.path, p.problem);
    if (body.evaluate_every_seconds !== undefined)
      bad(
        'evaluate_every_seconds',
        'applies to windowed rules only: real-time rules are evaluated every tick',
      );
  } else {
    const def = (METRICS as Record<string, (typeof METRICS)[keyof typeof METRICS]>)[metric];
    if (!def) bad('metric', `unknown view metric "${metric}"; see GET /data/v1/metrics`);
    else {
      measurement ??= def.defaultMeasurement;
      if (!def.sql[measurement as keyof typeof def.sql])
        bad('measurement', `${metric} offers ${Object.keys(def.sql).join(', ')}`);
    }
    if (breakdown !== null && !DIMENSIONS[breakdown])
      bad('breakdown', `unknown dimension "${breakdown}"; see GET /data/v1/dimensions`);
    filters.forEach((f, i) => {
      const m = /^!?([a-z0-9_]+):/s.exec(f);
      if (!m) bad(`filters[${i}]`, 'must be "dimension:value" or "!dimension:value"');
      else if (!DIMENSIONS[m[1]!]) bad(`filters[${i}]`, `unknown dimension "${m[1]}"`);
    });
  }
  // The union hides which field of the condition is wrong: name it against the type it says it is.
  const vagueCondition = problems.filter((p) => p.path === `${prefix}condition`);
  if (vagueCondition.length && body.condition && typeof body.condition === 'object') {
    problems.splice(0, problems.length, ...problems.filter((p) => !vagueCondition.includes(p)));
    problems.push(
      ...schemaProblems(
        anomaly ? AnomalyConditionSchema : ThresholdConditionSchema,
        body.condition,
        `${prefix}condition.`,
      ),
    );
  }
  if (anomaly && kind === 'window')
    bad(
      'condition.type',
      'anomaly rules watch real-time metrics (their minute history): drop window_seconds',
    );
  if (anomaly && filters.length)
    bad(
      'filters',
      'anomaly rules learn from unfiltered series (the whole environment or one breakdown value)',
    );
  const c = (body.condition ?? {}) as Partial<ThresholdCondition>;
  const above = c.operator !== '<';
  const resolveValue = c.resolve_value ?? c.value ?? 0;
  if (
    c.resolve_value !== undefined &&
    c.value !== undefined &&
    (above ? resolveValue > c.value : resolveValue < c.value)
  )
    bad(
      'condition.resolve_value',
      `must be ${above ? 'at most' : 'at least'} condition.value (${c.value}) for "${c.operator ?? '>'}"`,
    );
  if (typeof body.runbook_url === 'string' && !isHttpUrl(body.runbook_url))
    bad('runbook_url', 'must be an http(s) URL');
  const channelIds = Array.isArray(body.channel_ids) ? body.channel_ids : [];
  for (const [i, id] of channelIds.entries())
    if (typeof id === 'string' && !(await hasChannel(id)))
      bad(`channel_ids[${i}]`, `no notification channel ${id} in this environment`);
  const esc = body.escalation && typeof body.escalation === 'object' ? body.escalation : null;
  if (esc) {
    // The union with null hides which field of the object is wrong: name it.
    const vague = problems.filter((p) => p.path === `${prefix}escalation`);
    if (vague.length) {
      problems.splice(0, problems.length, ...problems.filter((p) => !vague.includes(p)));
      problems.push(...schemaProblems(AlertEscalation, esc, `${prefix}escalation.`));
    }
  }
  const escChannelIds = Array.isArray(esc?.channel_ids) ? esc.channel_ids : channelIds;
  if (Array.isArray(esc?.channel_ids))
    for (const [i, id] of esc.channel_ids.entries())
      if (typeof id === 'string' && !(await hasChannel(id)))
        bad(`escalation.channel_ids[${i}]`, `no notification channel ${id} in this environment`);
  if (problems.length) throw new ApiError('QOE_ERR_VALIDATION', undefined, problems);
  return {
    kind,
    name: body.name!,
    metric,
    measurement,
    window_seconds: body.window_seconds ?? null,
    evaluate_every_seconds:
      kind === 'window' ? (body.evaluate_every_seconds ?? DEFAULT_EVALUATE_EVERY_SECONDS) : null,
    breakdown,
    filters,
    condition: anomaly
      ? anomalyOf(body.condition as AnomalyInput, metric)
      : {
          type: 'threshold',
          operator: c.operator!,
          value: c.value!,
          for_seconds: c.for_seconds!,
          resolve_value: resolveValue,
          resolve_for_seconds: c.resolve_for_seconds ?? DEFAULT_RESOLVE_FOR_SECONDS,
          min_audience: c.min_audience ?? 1,
        },
    severity: body.severity ?? 'warning',
    description: body.description ?? '',
    runbook_url: body.runbook_url ?? null,
    channel_ids: channelIds,
    escalation: esc && { after_minutes: esc.after_minutes, channel_ids: escChannelIds },
    enabled: body.enabled ?? true,
  };
}

/** An anomaly condition with its defaults filled in. */
function anomalyOf(a: AnomalyInput, metric: string): AnomalyCondition {
  return {
    type: 'anomaly',
    sensitivity: a.sensitivity ?? 'medium',
    direction: a.direction ?? defaultDirection(metric),
    min_audience: a.min_audience ?? 1,
    min_change: a.min_change ?? defaultMinChange(metric),
    for_seconds: a.for_seconds ?? 120,
    resolve_for_seconds: a.resolve_for_seconds ?? DEFAULT_RESOLVE_FOR_SECONDS,
  };
}

export function ruleAnswer(
  rule: Rule,
  openIncidents: number,
  verdicts?: ReadonlyMap<string, AnomalyVerdict & { minuteMs: number }>,
): AlertRule {
  const { spec } = rule;
  const anomaly = spec.condition.type === 'anomaly';
  return {
    id: rule.id,
    environment_id: rule.envId,
    source: rule.source,
    ...spec,
    escalation: spec.escalation ?? null,
    open_incidents: openIncidents,
    ...(anomaly && {
      anomaly_series: [...(verdicts ?? [])].map(([key, v]) => ({
        series: spec.breakdown === null ? null : key,
        state: v.state,
        minute: new Date(v.minuteMs).toISOString(),
        value: v.value,
        audience: v.audience,
        baseline: v.state === 'no_history' ? null : v.baseline,
        spread: v.state === 'no_history' ? null : v.spread,
        bound: v.state === 'no_history' ? null : v.bound,
        history_days: v.days,
      })),
    }),
    created_at: new Date(rule.createdAtMs).toISOString(),
    updated_at: new Date(rule.updatedAtMs).toISOString(),
  };
}
