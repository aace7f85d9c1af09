/**
 * The monitoring API's breakdowns: a metric by the values of a dimension at
 * the latest tick (ordered, with each row's negative impact), and the
 * most-watched values at every tick.
 */
import type {
  MonitoringBreakdownResponse,
  MonitoringBreakdownRow,
  MonitoringBreakdownTimeseriesResponse,
} from '@openqoe/schema';
import type { AuthenticatedToken } from '../../auth/registry.js';
import { negativeImpact } from '../../pipeline/realtime/realtime-aggregate.js';
import type { RealtimeMetricId } from '../../pipeline/realtime/realtime-catalog.js';
import { type RowValues, rowValues } from '../../query/realtime/monitoring-history.js';
import type { BreakdownQuery, BreakdownTimeseriesQuery } from './monitoring-schemas.js';
import type { MonitoringScope } from './monitoring-scope.js';
import { display, iso, metricOf, round } from './monitoring-values.js';

export async function breakdownAnswer(
  scope: MonitoringScope,
  token: AuthenticatedToken,
  metric: RealtimeMetricId,
  q: BreakdownQuery,
): Promise<MonitoringBreakdownResponse> {
  const { envId, filter } = scope.of(token, q, q.dimension);
  const tick = await scope.history.breakdown(envId, q.dimension, filter);
  if (!tick) return { data: [], total_row_count: 0, timestamp: null };
  const { overall, rows } = tick;
  const overallValue = metricOf(rowValues(overall), metric, q.measurement);
  const data = [...rows].map(([value, agg]): MonitoringBreakdownRow => {
    const v = metricOf(rowValues(agg), metric, q.measurement);
    return {
      value,
      metric_value: round(v),
      display_value: display(metric, v),
      concurrent_viewers: agg.concurrent,
      starting_up_viewers: agg.startingUp,
      negative_impact:
        round(negativeImpact(metric, v, overallValue, agg.concurrent, overall.concurrent)) ?? 0,
    };
  });
  const orderBy = q.order_by ?? 'negative_impact';
  const dir = (q.order_direction ?? 'desc') === 'desc' ? -1 : 1;
  const key = (r: MonitoringBreakdownRow) =>
    orderBy === 'negative_impact'
      ? r.negative_impact
      : orderBy === 'views'
        ? r.concurrent_viewers
        : (r.metric_value ?? Number.NEGATIVE_INFINITY);
  // Ties go to the row with more viewers, then by value, so the order is stable between polls.
  data.sort(
    (a, b) =>
      dir * (key(a) - key(b)) ||
      b.concurrent_viewers - a.concurrent_viewers ||
      a.value.localeCompare(b.value),
  );
  const limited = data.slice(0, q.limit ?? 100);
  return { data: limited, total_row_count: data.length, timestamp: Math.floor(tick.atMs / 1000) };
}

export async function breakdownTimeseriesAnswer(
  scope: MonitoringScope,
  token: AuthenticatedToken,
  metric: RealtimeMetricId,
  q: BreakdownTimeseriesQuery,
): Promise<MonitoringBreakdownTimeseriesResponse> {
  const { envId, filter } = scope.of(token, q, q.dimension);
  const limit = q.limit ?? 10;
  const top = (rows: Iterable<[string, RowValues]>) =>
    [...rows]
      .sort((a, b) => b[1].concurrentViewers - a[1].concurrentViewers || a[0].localeCompare(b[0]))
      .slice(0, limit)
      .map(([value, r]) => ({
        value,
        metric_value: round(metricOf(r, metric, q.measurement)),
        concurrent_viewers: r.concurrentViewers,
        starting_up_viewers: r.startingUpViewers,
      }));
  let data: MonitoringBreakdownTimeseriesResponse['data'];
  if (filter.empty) {
    data = scope.history.history(envId).map((h) => ({
      date: iso(h.atMs),
      values: top(h.dims.get(q.dimension) ?? new Map()),
    }));
  } else {
    // Reduced history cannot be filtered again: only the latest tick is answered.
    const tick = await scope.history.breakdown(envId, q.dimension, filter);
    data = tick
      ? [
          {
            date: iso(tick.atMs),
            values: top([...tick.rows].map(([v, agg]) => [v, rowValues(agg)] as [string, RowValues])),
          },
        ]
      : [];
  }
  return { data, total_row_count: data.length, timeframe: scope.timeframe(envId) };
}
