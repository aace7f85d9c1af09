/**
 * The monitoring API's route schemas: parameters and queries (validated),
 * answers from packages/schema (serialised with them), and what the OpenAPI
 * document says of each route.
 */
import {
  MonitoringBreakdownResponse,
  MonitoringBreakdownTimeseriesResponse,
  MonitoringDimensionsResponse,
  MonitoringHistogramTimeseriesResponse,
  MonitoringMetricsResponse,
  MonitoringTimeseriesResponse,
} from '@openqoe/schema';
import { type Static, Type } from '@sinclair/typebox';
import { BASIC_AUTH, errorAnswers } from '../../http/route-schema.js';
import { REALTIME_METRIC_IDS } from '../../pipeline/realtime/realtime-catalog.js';

/** What every scoped route may answer besides 200: bad parameters, no token, an environment not covered,
 * and (in a cluster) filtered numbers a worker could not complete in time. */
const ErrorResponses = errorAnswers(400, 401, 403, 503);
const common = { tags: ['monitoring'], security: BASIC_AUTH };

const MetricParams = Type.Object({
  metric_id: Type.Union(
    REALTIME_METRIC_IDS.map((m) => Type.Literal(m)),
    { description: 'A real-time metric id (GET /data/v1/monitoring/metrics)' },
  ),
});
const CommonQuery = {
  'filters[]': Type.Optional(
    Type.Array(Type.String({ maxLength: 1024 }), {
      maxItems: 50,
      description: '"dimension:value" keeps, "!dimension:value" excludes (real-time dimensions only)',
    }),
  ),
  environment_id: Type.Optional(
    Type.String({ maxLength: 64, description: 'Required when the token covers several environments' }),
  ),
  measurement: Type.Optional(
    Type.Union([Type.Literal('median'), Type.Literal('p95')], {
      description: 'For video_startup_time: median (default) or p95',
    }),
  ),
};
const DimensionQuery = {
  dimension: Type.String({
    description: 'A real-time dimension (GET /data/v1/monitoring/dimensions)',
    examples: ['cdn'],
  }),
};

const TimeseriesQuery = Type.Object(CommonQuery, { additionalProperties: false });
const BreakdownQuery = Type.Object(
  {
    ...CommonQuery,
    ...DimensionQuery,
    order_by: Type.Optional(
      Type.Union([Type.Literal('negative_impact'), Type.Literal('value'), Type.Literal('views')], {
        description: 'Default negative_impact',
      }),
    ),
    order_direction: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
const BreakdownTimeseriesQuery = Type.Object(
  {
    ...CommonQuery,
    ...DimensionQuery,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
  },
  { additionalProperties: false },
);
const HistogramQuery = Type.Object(
  { 'filters[]': CommonQuery['filters[]'], environment_id: CommonQuery.environment_id },
  { additionalProperties: false },
);
/** The filters and environment every scoped route takes. */
export type ScopedQuery = Static<typeof HistogramQuery>;
export type TimeseriesQuery = Static<typeof TimeseriesQuery>;
export type BreakdownQuery = Static<typeof BreakdownQuery>;
export type BreakdownTimeseriesQuery = Static<typeof BreakdownTimeseriesQuery>;

export const METRICS_SCHEMA = {
  ...common,
  summary: 'The real-time metrics',
  response: { 200: MonitoringMetricsResponse },
};

export const DIMENSIONS_SCHEMA = {
  ...common,
  summary: 'The dimensions real-time metrics break down by',
  response: { 200: MonitoringDimensionsResponse },
};

export const TIMESERIES_SCHEMA = {
  ...common,
  summary: 'A real-time metric at every tick of the last 30 minutes (oldest first)',
  params: MetricParams,
  querystring: TimeseriesQuery,
  response: { 200: MonitoringTimeseriesResponse, ...ErrorResponses },
};

export const BREAKDOWN_SCHEMA = {
  ...common,
  summary: 'A real-time metric by the values of a dimension, at the latest tick',
  params: MetricParams,
  querystring: BreakdownQuery,
  response: { 200: MonitoringBreakdownResponse, ...ErrorResponses },
};

export const BREAKDOWN_TIMESERIES_SCHEMA = {
  ...common,
  summary:
    'At every tick of the last 30 minutes, the metric for the most-watched values of a dimension (filters apply to the latest tick only)',
  params: MetricParams,
  querystring: BreakdownTimeseriesQuery,
  response: { 200: MonitoringBreakdownTimeseriesResponse, ...ErrorResponses },
};

export const HISTOGRAM_SCHEMA = {
  ...common,
  summary: 'Startup times of the viewers watching, as a histogram at every tick (video_startup_time only)',
  params: Type.Object({
    metric_id: Type.Literal('video_startup_time', { description: 'Only video_startup_time has one' }),
  }),
  querystring: HistogramQuery,
  response: { 200: MonitoringHistogramTimeseriesResponse, ...ErrorResponses },
};
