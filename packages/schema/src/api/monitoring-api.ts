/**
 * Answers of the real-time monitoring API (/data/v1/monitoring/…,
 * docs/monitoring-api.md): the server serialises with these schemas and the
 * dashboard reads their types. Property order is the order on the wire.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ListOf } from './envelope.js';

const Nullable = Type.Union([Type.Number(), Type.Null()]);
const Timeframe = Type.Array(Type.Integer(), {
  minItems: 2,
  maxItems: 2,
  description: '[from, to], epoch s',
});

export const MonitoringMetricInfo = Type.Object({
  id: Type.String(),
  display_name: Type.String(),
  unit: Type.String(),
  higher_is_worse: Type.Boolean(),
});
export type MonitoringMetricInfo = Static<typeof MonitoringMetricInfo>;

/** `GET /data/v1/monitoring/metrics` */
export const MonitoringMetricsResponse = ListOf(MonitoringMetricInfo);
export type MonitoringMetricsResponse = Static<typeof MonitoringMetricsResponse>;

/** `GET /data/v1/monitoring/dimensions` */
export const MonitoringDimensionsResponse = ListOf(
  Type.Object({ id: Type.String(), display_name: Type.String() }),
);
export type MonitoringDimensionsResponse = Static<typeof MonitoringDimensionsResponse>;

export const MonitoringPoint = Type.Object({
  date: Type.String(),
  value: Nullable,
  concurrent_viewers: Nullable,
});
export type MonitoringPoint = Static<typeof MonitoringPoint>;

/** `GET /data/v1/monitoring/metrics/{metric_id}/timeseries` */
export const MonitoringTimeseriesResponse = Type.Object({
  data: Type.Array(MonitoringPoint),
  total_row_count: Type.Integer(),
  timeframe: Timeframe,
});
export type MonitoringTimeseriesResponse = Static<typeof MonitoringTimeseriesResponse>;

export const MonitoringBreakdownRow = Type.Object({
  value: Type.String({ description: 'The dimension value ("" when not known)' }),
  metric_value: Nullable,
  display_value: Type.String(),
  concurrent_viewers: Type.Integer(),
  starting_up_viewers: Type.Integer(),
  negative_impact: Type.Number(),
});
export type MonitoringBreakdownRow = Static<typeof MonitoringBreakdownRow>;

/** `GET /data/v1/monitoring/metrics/{metric_id}/breakdown` */
export const MonitoringBreakdownResponse = Type.Object({
  data: Type.Array(MonitoringBreakdownRow),
  total_row_count: Type.Integer(),
  timestamp: Type.Union([Type.Integer(), Type.Null()]),
});
export type MonitoringBreakdownResponse = Static<typeof MonitoringBreakdownResponse>;

export const MonitoringBreakdownValue = Type.Object({
  value: Type.String(),
  metric_value: Nullable,
  concurrent_viewers: Type.Integer(),
  starting_up_viewers: Type.Integer(),
});
export type MonitoringBreakdownValue = Static<typeof MonitoringBreakdownValue>;

/** `GET /data/v1/monitoring/metrics/{metric_id}/breakdown-timeseries` */
export const MonitoringBreakdownTimeseriesResponse = Type.Object({
  data: Type.Array(Type.Object({ date: Type.String(), values: Type.Array(MonitoringBreakdownValue) })),
  total_row_count: Type.Integer(),
  timeframe: Timeframe,
});
export type MonitoringBreakdownTimeseriesResponse = Static<typeof MonitoringBreakdownTimeseriesResponse>;

/** `GET /data/v1/monitoring/metrics/video_startup_time/histogram-timeseries` */
export const MonitoringHistogramTimeseriesResponse = Type.Object({
  meta: Type.Object({
    buckets: Type.Array(
      Type.Object({ start: Type.Integer(), end: Type.Union([Type.Integer(), Type.Null()]) }),
    ),
    bucket_unit: Type.Literal('milliseconds'),
  }),
  data: Type.Array(
    Type.Object({
      date: Type.String(),
      bucket_values: Type.Array(Type.Object({ count: Type.Integer(), percentage: Type.Number() })),
      median: Nullable,
      p95: Nullable,
      average: Nullable,
      sum: Type.Integer({ description: 'Views in the histogram' }),
    }),
  ),
  total_row_count: Type.Integer(),
  timeframe: Timeframe,
});
export type MonitoringHistogramTimeseriesResponse = Static<typeof MonitoringHistogramTimeseriesResponse>;
