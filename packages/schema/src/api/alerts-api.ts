/**
 * Alerting's API shapes (docs/alerting.md): what a rule is made of (the body
 * of `POST /system/v1/alert-rules`, also the shape of `alerts.rules` in the
 * config file), rules, silences and incidents as answered. The server
 * serialises with these and the dashboard reads their types.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DataOf, ListOf } from './envelope.js';

export const ALERT_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export const AlertSeverity = Type.Union(ALERT_SEVERITIES.map((s) => Type.Literal(s)));
export type AlertSeverity = Static<typeof AlertSeverity>;

const Seconds = (description: string, minimum = 0) => Type.Integer({ minimum, description });

export const ThresholdCondition = Type.Object(
  {
    type: Type.Literal('threshold'),
    operator: Type.Union([Type.Literal('>'), Type.Literal('<')], {
      description: '`>`: the series is bad above `value`; `<`: below it (an audience that falls to zero)',
    }),
    value: Type.Number({ description: 'The threshold, in the metric’s unit' }),
    for_seconds: Seconds('How long the condition must hold before an incident opens (0: at once)'),
    resolve_value: Type.Optional(
      Type.Number({
        description: 'Hysteresis: the incident resolves once the value is back past this (default `value`)',
      }),
    ),
    resolve_for_seconds: Type.Optional(
      Seconds(
        'How long the resolve condition must hold before the incident resolves (default 120): a flapping series keeps one incident',
      ),
    ),
    min_audience: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Smallest audience a series needs to open an incident: viewers (real-time) or views (windowed); default 1',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ThresholdCondition = Static<typeof ThresholdCondition>;

export const ANOMALY_SENSITIVITIES = ['low', 'medium', 'high'] as const;

/** Deviation from the series' own history (docs/alerting.md, "Anomaly conditions"); real-time rules only. */
export const AnomalyCondition = Type.Object(
  {
    type: Type.Literal('anomaly'),
    sensitivity: Type.Optional(
      Type.Union(
        ANOMALY_SENSITIVITIES.map((s) => Type.Literal(s)),
        {
          description:
            'How far from the baseline a minute must be, in robust spreads: low 6, medium 4 (default), high 3',
        },
      ),
    ),
    direction: Type.Optional(
      Type.Union([Type.Literal('up'), Type.Literal('down')], {
        description:
          'Which way is bad: `up` (default for rebuffering, failures, startup time) or `down` (viewers, bitrate)',
      }),
    ),
    min_audience: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Smallest audience a series needs to open an incident (default 1)',
      }),
    ),
    min_change: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'Smallest absolute change from the baseline that counts, in the metric’s unit (default 1 for percentages, 0 otherwise)',
      }),
    ),
    for_seconds: Type.Optional(
      Seconds('How long the series must stay anomalous before an incident opens (default 120)'),
    ),
    resolve_for_seconds: Type.Optional(
      Seconds('How long the series must be back to normal before the incident resolves (default 120)'),
    ),
  },
  { additionalProperties: false },
);
export type AnomalyCondition = Static<typeof AnomalyCondition>;

export const AlertCondition = Type.Union([ThresholdCondition, AnomalyCondition]);
export type AlertCondition = Static<typeof AlertCondition>;

export const AlertEscalation = Type.Object(
  {
    after_minutes: Type.Integer({
      minimum: 1,
      maximum: 10_080,
      description:
        'An incident still open (not acknowledged) this long after it opened is notified once more',
    }),
    channel_ids: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), {
        maxItems: 20,
        description: 'Where the escalation goes (default: the rule’s channels)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AlertEscalation = Static<typeof AlertEscalation>;

/** What a client sends to create or replace a rule (and what a config rule holds besides `id`). */
export const AlertRuleInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    metric: Type.String({
      description:
        'A real-time metric of the monitoring API, or (with `window_seconds`) a view metric of the query API',
    }),
    measurement: Type.Optional(
      Type.String({ description: 'median | p95 for real-time startup time; a view metric’s measurement' }),
    ),
    window_seconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 86_400,
        description: 'Makes the rule watch a view metric over the views that ended in this trailing window',
      }),
    ),
    evaluate_every_seconds: Type.Optional(
      Type.Integer({ minimum: 10, maximum: 3600, description: 'Windowed rules: how often (default 60)' }),
    ),
    breakdown: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: 'A dimension: each of its values is a series of its own; none: the whole environment',
      }),
    ),
    filters: Type.Optional(
      Type.Array(Type.String({ maxLength: 300 }), {
        maxItems: 20,
        description: '"dimension:value" or "!dimension:value"',
      }),
    ),
    condition: AlertCondition,
    severity: Type.Optional(AlertSeverity),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    runbook_url: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    channel_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
    escalation: Type.Optional(
      Type.Union([AlertEscalation, Type.Null()], { description: 'None: no escalation' }),
    ),
    enabled: Type.Optional(
      Type.Boolean({ description: 'A disabled rule is kept but not evaluated (default true)' }),
    ),
  },
  { additionalProperties: false },
);
export type AlertRuleInput = Static<typeof AlertRuleInput>;

export const AlertRule = Type.Object({
  id: Type.String(),
  environment_id: Type.String(),
  source: Type.Union([Type.Literal('api'), Type.Literal('config')], {
    description: '`config`: declared in the config file, read-only through the API',
  }),
  name: Type.String(),
  metric: Type.String(),
  kind: Type.Union([Type.Literal('realtime'), Type.Literal('window')]),
  measurement: Type.Union([Type.String(), Type.Null()]),
  window_seconds: Type.Union([Type.Integer(), Type.Null()]),
  evaluate_every_seconds: Type.Union([Type.Integer(), Type.Null()]),
  breakdown: Type.Union([Type.String(), Type.Null()]),
  filters: Type.Array(Type.String()),
  condition: Type.Union([Type.Required(ThresholdCondition), Type.Required(AnomalyCondition)]),
  severity: AlertSeverity,
  description: Type.String(),
  runbook_url: Type.Union([Type.String(), Type.Null()]),
  channel_ids: Type.Array(Type.String()),
  escalation: Type.Union([Type.Required(AlertEscalation), Type.Null()]),
  enabled: Type.Boolean(),
  open_incidents: Type.Integer({ description: 'Incidents of this rule open (or acknowledged) now' }),
  anomaly_series: Type.Optional(
    Type.Array(
      Type.Object({
        series: Type.Union([Type.String(), Type.Null()], {
          description: 'The breakdown value; null: the whole environment',
        }),
        state: Type.Union([Type.Literal('no_history'), Type.Literal('normal'), Type.Literal('anomalous')]),
        minute: Type.String({ description: 'The minute evaluated last (ISO 8601)' }),
        value: Type.Union([Type.Number(), Type.Null()]),
        audience: Type.Number(),
        baseline: Type.Union([Type.Number(), Type.Null()]),
        spread: Type.Union([Type.Number(), Type.Null()]),
        bound: Type.Union([Type.Number(), Type.Null()]),
        history_days: Type.Integer({ description: 'Previous days with values around this minute of day' }),
      }),
      {
        description:
          'Anomaly rules: each series’ verdict at the last minute evaluated (`no_history`: too few days to learn from, it does not fire)',
      },
    ),
  ),
  created_at: Type.String({ description: 'ISO 8601' }),
  updated_at: Type.String({ description: 'ISO 8601' }),
});
export type AlertRule = Static<typeof AlertRule>;
export const AlertRuleResponse = DataOf(AlertRule);
export type AlertRuleResponse = Static<typeof AlertRuleResponse>;
export const AlertRuleListResponse = ListOf(AlertRule);
export type AlertRuleListResponse = Static<typeof AlertRuleListResponse>;

export const SilenceInput = Type.Object(
  {
    rule_id: Type.Optional(
      Type.Union([Type.String({ maxLength: 64 }), Type.Null()], { description: 'None: every rule' }),
    ),
    breakdown: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    breakdown_value: Type.Optional(
      Type.Union([Type.String({ maxLength: 300 }), Type.Null()], {
        description: 'With `breakdown`: one series',
      }),
    ),
    starts_at: Type.Optional(Type.String({ description: 'ISO 8601; default now' })),
    ends_at: Type.String({ description: 'ISO 8601' }),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type SilenceInput = Static<typeof SilenceInput>;

export const Silence = Type.Object({
  id: Type.String(),
  environment_id: Type.String(),
  rule_id: Type.Union([Type.String(), Type.Null()]),
  breakdown: Type.Union([Type.String(), Type.Null()]),
  breakdown_value: Type.Union([Type.String(), Type.Null()]),
  starts_at: Type.String(),
  ends_at: Type.String(),
  comment: Type.String(),
  active: Type.Boolean({ description: 'Whether it mutes now' }),
  created_at: Type.String(),
});
export type Silence = Static<typeof Silence>;
export const SilenceResponse = DataOf(Silence);
export type SilenceResponse = Static<typeof SilenceResponse>;
export const SilenceListResponse = ListOf(Silence);
export type SilenceListResponse = Static<typeof SilenceListResponse>;

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export const IncidentStatus = Type.Union(INCIDENT_STATUSES.map((s) => Type.Literal(s)));

export const IncidentTransitionInfo = Type.Object({
  transition: Type.Union(
    ['trigger', 'acknowledge', 'resolve', 'repeat'].map((t) => Type.Literal(t)),
    {
      description: '`repeat`: the escalation of an incident nobody acknowledged',
    },
  ),
  at: Type.String({ description: 'ISO 8601' }),
  value: Type.Union([Type.Number(), Type.Null()]),
  dedup_key: Type.String(),
  delivery: Type.Union(
    ['pending', 'queued', 'muted', 'no_channels'].map((d) => Type.Literal(d)),
    {
      description:
        '`queued`: handed to the notification channels; `muted`: a silence held it; `pending`: not yet handed over (sent again after a restart)',
    },
  ),
});

export const RootCauseHint = Type.Object({
  summary: Type.String({
    description: 'e.g. "87 % of the added rebuffering is on CDN edge-a.example (50 % of the audience)"',
  }),
  baseline: Type.Union([Type.Literal('history'), Type.Literal('none')], {
    description:
      '`history`: compared with the rates of the minutes before the breach; `none`: no history (or a filtered rule), the numerator now',
  }),
  contributors: Type.Array(
    Type.Object({
      dimension: Type.String(),
      value: Type.String(),
      share: Type.Number({ description: 'Fraction (0–1) of the added numerator on this value' }),
      audience_share: Type.Number({ description: 'Fraction (0–1) of the audience on this value' }),
    }),
  ),
});
export type RootCauseHint = Static<typeof RootCauseHint>;

export const Incident = Type.Object({
  id: Type.String(),
  environment_id: Type.String(),
  status: IncidentStatus,
  rule_id: Type.String(),
  rule_name: Type.String(),
  metric: Type.String(),
  breakdown: Type.Union([Type.String(), Type.Null()]),
  breakdown_value: Type.Union([Type.String(), Type.Null()]),
  filters: Type.Array(Type.String()),
  severity: AlertSeverity,
  operator: Type.Union([Type.Literal('>'), Type.Literal('<')]),
  threshold: Type.Number(),
  resolve_value: Type.Number(),
  open_value: Type.Number({ description: 'The value that opened it' }),
  worst_value: Type.Number({ description: 'The worst value while open' }),
  last_value: Type.Union([Type.Number(), Type.Null()]),
  audience: Type.Integer({
    description: 'The largest audience of the series while open: viewers (real-time) or views (windowed)',
  }),
  example_view_ids: Type.Array(Type.String()),
  root_cause: Type.Union([RootCauseHint, Type.Null()], {
    description:
      'Whole-environment real-time rules only: null when no value stands out (or for a series rule)',
  }),
  muted: Type.Boolean({ description: 'A silence held its trigger: none of its transitions is sent' }),
  started_at: Type.String({ description: 'ISO 8601' }),
  acknowledged_at: Type.Union([Type.String(), Type.Null()]),
  resolved_at: Type.Union([Type.String(), Type.Null()]),
  transitions: Type.Optional(
    Type.Array(IncidentTransitionInfo, {
      description: 'Every transition, in order (one incident’s answer only)',
    }),
  ),
});
export type Incident = Static<typeof Incident>;
export const IncidentResponse = DataOf(Incident);
export type IncidentResponse = Static<typeof IncidentResponse>;
export const IncidentListResponse = Type.Object({
  data: Type.Array(Incident),
  total_row_count: Type.Integer(),
  timeframe: Type.Union([Type.Array(Type.Integer()), Type.Null()]),
});
export type IncidentListResponse = Static<typeof IncidentListResponse>;

export const BacktestIncident = Type.Object({
  series: Type.Union([Type.String(), Type.Null()], {
    description: 'The breakdown value; null for the whole environment',
  }),
  opened_at: Type.String({ description: 'ISO 8601: the minute the incident would have opened' }),
  resolved_at: Type.Union([Type.String(), Type.Null()], { description: 'Null: still open at `to`' }),
  worst: Type.Number({ description: 'The worst minute value while open' }),
});

export const Backtest = Type.Object({
  from: Type.String({ description: 'ISO 8601' }),
  to: Type.String({ description: 'ISO 8601' }),
  minutes_covered: Type.Integer({
    description: 'Minutes of the range the history holds (one evaluation each)',
  }),
  series_count: Type.Integer({
    description:
      'Series replayed: 1 for the whole environment, else the breakdown’s most-watched values (at most 100)',
  }),
  incidents: Type.Array(BacktestIncident, { description: 'Oldest first' }),
  count: Type.Integer(),
  per_day: Type.Number({ description: 'Incidents per day of history covered' }),
});
export type Backtest = Static<typeof Backtest>;
export const BacktestResponse = DataOf(Backtest);
export type BacktestResponse = Static<typeof BacktestResponse>;
