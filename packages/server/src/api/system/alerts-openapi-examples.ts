/** OpenAPI examples of the alerting routes (merged into openapi-examples.ts). */
const ruleIn = {
  name: 'Rebuffering per CDN host',
  metric: 'current_rebuffering_percentage',
  breakdown: 'cdn',
  // No filters: the series history a backtest replays is unfiltered, and GET …/backtest replays this rule.
  filters: [],
  condition: {
    type: 'threshold',
    operator: '>',
    value: 5,
    resolve_value: 3,
    for_seconds: 60,
    resolve_for_seconds: 120,
    min_audience: 20,
  },
  severity: 'error',
  description: 'Viewers on one CDN host stall',
  runbook_url: 'https://runbooks.example/cdn-stalls',
  // The notification channel example's id (notification-channel-examples.ts).
  channel_ids: ['6b0e9c1a-2f4d-4b7e-8a3c-5d9f1e2a7b40'],
};
const rule = {
  id: '5b1d7c9e-2f4a-4e8b-9c1d-3a5f7e9b2c4d',
  environment_id: 'k3q7x2m9p4ab',
  source: 'api',
  kind: 'realtime',
  measurement: null,
  window_seconds: null,
  evaluate_every_seconds: null,
  enabled: true,
  open_incidents: 1,
  created_at: '2025-11-21T00:00:00.000Z',
  updated_at: '2025-11-21T00:00:00.000Z',
  ...ruleIn,
};
const silenceIn = {
  rule_id: rule.id,
  breakdown: 'cdn',
  breakdown_value: 'edge-3.cdn.example',
  starts_at: '2025-11-21T02:00:00Z',
  ends_at: '2025-11-21T04:00:00Z',
  comment: 'CDN maintenance',
};
const silence = {
  id: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
  environment_id: rule.environment_id,
  ...silenceIn,
  starts_at: '2025-11-21T02:00:00.000Z',
  ends_at: '2025-11-21T04:00:00.000Z',
  active: false,
  created_at: '2025-11-21T01:00:00.000Z',
};
const incidentId = '0c4f2a8e-7d1b-4f6a-9e3c-5b7d9f1a3c5e';
const incident = {
  id: incidentId,
  environment_id: rule.environment_id,
  status: 'open',
  rule_id: rule.id,
  rule_name: rule.name,
  metric: rule.metric,
  breakdown: 'cdn',
  breakdown_value: 'edge-3.cdn.example',
  filters: rule.filters,
  severity: 'error',
  operator: '>',
  threshold: 5,
  resolve_value: 3,
  open_value: 7.4,
  worst_value: 12.9,
  last_value: 9.1,
  audience: 214,
  example_view_ids: ['0b7f3c2e-5a1d-4e8f-9c6b-2d4a8e1f7c3b'],
  root_cause: null,
  muted: false,
  started_at: '2025-11-21T00:10:00.000Z',
  acknowledged_at: null,
  resolved_at: null,
};
const transitions = [
  {
    transition: 'trigger',
    at: '2025-11-21T00:10:00.000Z',
    value: 7.4,
    dedup_key: `${incidentId}:trigger`,
    delivery: 'queued',
  },
];

/** A draft to backtest: the rule example, before its channels are chosen. */
const backtestIn = { ...ruleIn, channel_ids: [] };
const backtest = {
  from: '2025-10-24T00:00:00.000Z',
  to: '2025-11-21T00:00:00.000Z',
  minutes_covered: 40_320,
  series_count: 12,
  incidents: [
    {
      series: 'edge-3.cdn.example',
      opened_at: '2025-11-02T20:14:00.000Z',
      resolved_at: '2025-11-02T20:31:00.000Z',
      worst: 11.2,
    },
  ],
  count: 1,
  per_day: 0.04,
};

export const ALERTS_OPENAPI_EXAMPLES = {
  'POST /system/v1/alert-rules/backtest': { body: backtestIn, response: { 200: { data: backtest } } },
  'GET /system/v1/alert-rules/:id/backtest': { response: { 200: { data: backtest } } },
  'POST /system/v1/alert-rules': { body: ruleIn, response: { 201: { data: rule } } },
  'GET /system/v1/alert-rules': { response: { 200: { data: [rule], total_row_count: 1 } } },
  'GET /system/v1/alert-rules/:id': { response: { 200: { data: rule } } },
  'PUT /system/v1/alert-rules/:id': { body: ruleIn, response: { 200: { data: rule } } },
  'POST /system/v1/silences': { body: silenceIn, response: { 201: { data: silence } } },
  'GET /system/v1/silences': { response: { 200: { data: [silence], total_row_count: 1 } } },
  'GET /system/v1/silences/:id': { response: { 200: { data: silence } } },
  'PUT /system/v1/silences/:id': { body: silenceIn, response: { 200: { data: silence } } },
  'GET /data/v1/incidents': {
    response: { 200: { data: [incident], total_row_count: 1, timeframe: [1763596800, 1763683200] } },
  },
  'GET /data/v1/incidents/:id': { response: { 200: { data: { ...incident, transitions } } } },
  'POST /data/v1/incidents/:id/acknowledge': {
    response: {
      200: {
        data: {
          ...incident,
          status: 'acknowledged',
          acknowledged_at: '2025-11-21T00:14:00.000Z',
          transitions: [
            ...transitions,
            {
              transition: 'acknowledge',
              at: '2025-11-21T00:14:00.000Z',
              value: 9.1,
              dedup_key: `${incidentId}:acknowledge`,
              delivery: 'queued',
            },
          ],
        },
      },
    },
  },
};
