/**
 * The monitoring API's timeseries: a metric at every tick of the history,
 * and the startup-time histogram at every tick. Filtered requests are
 * answered from the filtered history (monitoring-history.ts).
 */
import type { MonitoringHistogramTimeseriesResponse, MonitoringTimeseriesResponse } from '@openqoe/schema';
import type { AuthenticatedToken } from '../../auth/registry.js';
import { type RealtimeMetricId, STARTUP_BUCKETS_MS } from '../../pipeline/realtime/realtime-catalog.js';
import type { RowValues } from '../../query/realtime/monitoring-history.js';
import type { ScopedQuery, TimeseriesQuery } from './monitoring-schemas.js';
import type { MonitoringScope } from './monitoring-scope.js';
import { iso, metricOf, round } from './monitoring-values.js';

export async function timeseriesAnswer(
  scope: MonitoringScope,
  token: AuthenticatedToken,
  metric: RealtimeMetricId,
  q: TimeseriesQuery,
): Promise<MonitoringTimeseriesResponse> {
  const { envId, filter } = scope.of(token, q);
  const points = filter.empty
    ? scope.history.history(envId).map((h) => ({ atMs: h.atMs, values: h.overall as RowValues | null }))
    : await scope.history.filtered(envId, filter);
  const data = points.map((p) => ({
    date: iso(p.atMs),
    value: round(metricOf(p.values, metric, q.measurement)),
    concurrent_viewers: p.values ? p.values.concurrentViewers : null,
  }));
  return { data, total_row_count: data.length, timeframe: scope.timeframe(envId) };
}

export async function histogramAnswer(
  scope: MonitoringScope,
  token: AuthenticatedToken,
  q: ScopedQuery,
): Promise<MonitoringHistogramTimeseriesResponse> {
  const { envId, filter } = scope.of(token, q);
  const points = filter.empty
    ? scope.history.history(envId).map((h) => ({
        atMs: h.atMs,
        values: h.overall as RowValues | null,
        histogram: h.histogram as number[] | null,
        startupMean: h.startupMean,
      }))
    : await scope.history.filtered(envId, filter);
  const data = points.map((p) => {
    const counts = p.histogram ?? new Array<number>(STARTUP_BUCKETS_MS.length).fill(0);
    const total = counts.reduce((a, b) => a + b, 0);
    return {
      date: iso(p.atMs),
      bucket_values: counts.map((count) => ({
        count,
        percentage: total ? round((100 * count) / total, 2)! : 0,
      })),
      median: p.values?.metrics.video_startup_time ?? null,
      p95: p.values?.startupP95 ?? null,
      average: p.startupMean,
      sum: total,
    };
  });
  const buckets = STARTUP_BUCKETS_MS.map((start, i) => ({ start, end: STARTUP_BUCKETS_MS[i + 1] ?? null }));
  return {
    meta: { buckets, bucket_unit: 'milliseconds' },
    data,
    total_row_count: data.length,
    timeframe: scope.timeframe(envId),
  };
}
