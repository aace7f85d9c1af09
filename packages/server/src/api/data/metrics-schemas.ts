/**
 * The data API's route schemas (metrics and views): parameters and queries
 * (validated), answers from packages/schema (serialised with them), and what
 * the OpenAPI document says of each route.
 */
import {
  DimensionListResponse,
  MetricBreakdownResponse,
  MetricListResponse,
  MetricOverallResponse,
  MetricTimeseriesResponse,
  VIEW_METRIC_IDS,
} from '@openqoe/schema';
import { type Static, Type } from '@sinclair/typebox';
import { BASIC_AUTH, errorAnswers } from '../../http/route-schema.js';
import { MEASUREMENTS, METRICS } from '../../query/metric-catalog.js';

export const GRANULARITIES = {
  minute: 60_000,
  ten_minutes: 600_000,
  hour: 3_600_000,
  day: 86_400_000,
} as const;
export type Granularity = keyof typeof GRANULARITIES;

export const DATA_ROUTE = { tags: ['data'], security: BASIC_AUTH };
export const QUERY_ERRORS = errorAnswers(400, 401, 403);

export const ScopeQuerySchema = {
  'timeframe[]': Type.Optional(
    Type.Array(Type.String(), {
      maxItems: 2,
      description:
        'Two epoch seconds (from, to) or one relative span such as "24:hours", "7:days"; default 24:hours',
      examples: [['24:hours'], ['1763596800', '1763683200']],
    }),
  ),
  'filters[]': Type.Optional(
    Type.Array(Type.String({ maxLength: 1024 }), {
      maxItems: 50,
      description:
        '"dimension:value" keeps, "!dimension:value" excludes; values of one dimension are ORed, dimensions ANDed',
      examples: [['country:DE', '!cdn_provider:cdn-b']],
    }),
  ),
  environment_id: Type.Optional(
    Type.String({ maxLength: 64, description: 'Default: every environment the token covers' }),
  ),
};

const MetricParams = Type.Object({
  metric_id: Type.Union(
    VIEW_METRIC_IDS.map((m) => Type.Literal(m, { description: METRICS[m].description })),
    { description: 'A per-view metric id' },
  ),
});
const MeasurementSchema = Type.Optional(
  Type.Union(
    MEASUREMENTS.map((m) => Type.Literal(m)),
    {
      description:
        'avg, median, 75th, 90th, 95th or 99th percentile (exact, interpolated), sum, count, min or max; each metric lists the ones it offers (GET /data/v1/metrics). Default depends on the metric: median for times, avg for rates and scores, sum for watch time',
    },
  ),
);

const OverallQuery = Type.Object(
  { ...ScopeQuerySchema, measurement: MeasurementSchema },
  { additionalProperties: false },
);
const TimeseriesQuery = Type.Object(
  {
    ...ScopeQuerySchema,
    measurement: MeasurementSchema,
    granularity: Type.Optional(
      Type.Union(
        (Object.keys(GRANULARITIES) as Granularity[]).map((g) => Type.Literal(g)),
        {
          description: 'Default: minute up to 3 h, ten_minutes up to 24 h, hour up to 14 days, else day',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
const BreakdownQuery = Type.Object(
  {
    ...ScopeQuerySchema,
    measurement: MeasurementSchema,
    group_by: Type.String({
      description: 'A dimension (GET /data/v1/dimensions)',
      examples: ['country'],
    }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 25 }),
    page: Type.Integer({ minimum: 1, default: 1 }),
    order_by: Type.Optional(
      Type.Union((['value', 'views', 'negative_impact', 'field'] as const).map((o) => Type.Literal(o))),
    ),
    order_direction: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  },
  { additionalProperties: false },
);
export type OverallQuery = Static<typeof OverallQuery>;
export type TimeseriesQuery = Static<typeof TimeseriesQuery>;
export type BreakdownQuery = Static<typeof BreakdownQuery>;

export const METRIC_LIST_SCHEMA = {
  ...DATA_ROUTE,
  summary: 'The per-view metrics, with their unit and measurements',
  response: { 200: MetricListResponse },
};

export const DIMENSION_LIST_SCHEMA = {
  ...DATA_ROUTE,
  summary: 'Dimensions to filter and group by',
  response: { 200: DimensionListResponse },
};

export const OVERALL_SCHEMA = {
  ...DATA_ROUTE,
  summary: 'One number for a metric over the timeframe and filters',
  params: MetricParams,
  querystring: OverallQuery,
  response: { 200: MetricOverallResponse, ...QUERY_ERRORS },
};

export const TIMESERIES_SCHEMA = {
  ...DATA_ROUTE,
  summary: 'A metric per time bucket (buckets aligned on epoch multiples; empty buckets included)',
  params: MetricParams,
  querystring: TimeseriesQuery,
  response: { 200: MetricTimeseriesResponse, ...QUERY_ERRORS },
};

export const BREAKDOWN_SCHEMA = {
  ...DATA_ROUTE,
  summary: 'A metric per value of one dimension, with each row’s negative impact on the whole',
  description:
    'negative_impact = (row value − overall value) × row views ÷ total views, signed so that larger is worse ' +
    '(for metrics where lower is worse, such as bitrate or scores, the sign is flipped). Default order: negative_impact desc. ' +
    'share_of_views = row views ÷ all views × 100. Grouped by error_code, a failure or exit percentage is the share of all ' +
    'views that had it with this code (not 100 % of the code’s own views), and that is also its negative impact.',
  params: MetricParams,
  querystring: BreakdownQuery,
  response: { 200: MetricBreakdownResponse, ...QUERY_ERRORS },
};
