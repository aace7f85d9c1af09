/**
 * The metrics routes' answers over stored views: one number for a metric
 * (overall), the metric per time bucket (timeseries), and per value of a
 * dimension with each row's negative impact (breakdown).
 */
import type {
  MetricBreakdownResponse,
  MetricOverallResponse,
  MetricTimeseriesResponse,
  ViewMetricId,
} from '@openqoe/schema';
import type { AuthenticatedToken } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { type Measurement, type MetricDefinition, unitOf } from '../../query/metric-catalog.js';
import { dimensionColumn, type Scope } from '../../query/query-scope.js';
import type { Store } from '../../store/store.js';
import { autoGranularity, type MetricQueries, num, timeframeOf } from './metric-queries.js';
import {
  type BreakdownQuery,
  GRANULARITIES,
  type OverallQuery,
  type TimeseriesQuery,
} from './metrics-schemas.js';

const MAX_BUCKETS = 2000;

export async function overallAnswer(
  mq: MetricQueries,
  token: AuthenticatedToken,
  metricId: ViewMetricId,
  query: OverallQuery,
): Promise<MetricOverallResponse> {
  const { def, m, sql } = mq.measure(metricId, query.measurement);
  const scope = mq.scope(query, token);
  const src = await mq.source(scope, {
    columns: [],
    sqls: [sql, def.viewsSql, 'count(*)', 'sum(watch_time_ms)', 'sum(playing_time_ms)'],
  });
  const [row] = await mq.store.select(
    `SELECT CAST(${src.agg(sql)} AS DOUBLE) AS value, ${src.agg('count(*)')} AS total_views,
            ${src.agg(def.viewsSql)} AS views_with_value,
            coalesce(${src.agg('sum(watch_time_ms)')}, 0) AS watch,
            coalesce(${src.agg('sum(playing_time_ms)')}, 0) AS playing
     FROM ${src.from}`,
    scope.params.values,
  );
  return {
    data: {
      value: num(row?.['value']),
      measurement: m,
      unit: unitOf(def, m),
      total_views: num(row?.['total_views']) ?? 0,
      views_with_value: num(row?.['views_with_value']) ?? 0,
      total_watch_time_ms: num(row?.['watch']) ?? 0,
      total_playing_time_ms: num(row?.['playing']) ?? 0,
    },
    timeframe: timeframeOf(scope),
  };
}

export async function timeseriesAnswer(
  mq: MetricQueries,
  token: AuthenticatedToken,
  metricId: ViewMetricId,
  query: TimeseriesQuery,
): Promise<MetricTimeseriesResponse> {
  const { def, m, sql } = mq.measure(metricId, query.measurement);
  const scope = mq.scope(query, token);
  const granularity = query.granularity ?? autoGranularity(scope.toMs - scope.fromMs);
  const step = GRANULARITIES[granularity];
  const first = Math.floor(scope.fromMs / step) * step;
  if ((scope.toMs - first) / step > MAX_BUCKETS) {
    throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, [
      {
        path: 'granularity',
        problem: `${granularity} gives more than ${MAX_BUCKETS} buckets over this timeframe; choose a coarser one`,
      },
    ]);
  }
  const stepParam = `CAST(${scope.params.add(step)} AS BIGINT)`;
  const src = await mq.source(scope, { columns: [], stepMs: step, sqls: [sql, 'count(*)'] });
  const rows = await mq.store.select(
    `SELECT ${src.bucket(stepParam)} AS bucket, CAST(${src.agg(sql)} AS DOUBLE) AS value, ${src.agg('count(*)')} AS views
     FROM ${src.from} GROUP BY bucket ORDER BY bucket`,
    scope.params.values,
  );
  const byBucket = new Map(rows.map((r) => [Number(r['bucket']), r]));
  const data: MetricTimeseriesResponse['data'] = [];
  for (let t = first; t < scope.toMs; t += step) {
    const r = byBucket.get(t);
    data.push({ time: t / 1000, value: num(r?.['value']), views: num(r?.['views']) ?? 0 });
  }
  return {
    data,
    total_row_count: data.length,
    timeframe: timeframeOf(scope),
    granularity,
    measurement: m,
    unit: unitOf(def, m),
  };
}

const ORDER_SQL = {
  field: 'g.field',
  views: 'g.views',
  value: 'row_value',
  negative_impact: 'negative_impact',
};

/**
 * Grouped by error code, a share of views (failure %, EBVS %) over each
 * code's own views reads 100 % for every code that causes it: those views
 * failed by definition. Such rows answer the share of all views in the scope
 * instead, which is what the code costs (the rows add up to the overall value),
 * and that is also their negative impact.
 */
const sharesOfScope = (col: string, def: MetricDefinition, m: Measurement) =>
  col === 'error_code' && m === 'avg' && def.unit === 'percent' && def.viewsSql === 'count(*)';

export async function breakdownAnswer(
  mq: MetricQueries,
  token: AuthenticatedToken,
  metricId: ViewMetricId,
  q: BreakdownQuery,
): Promise<MetricBreakdownResponse> {
  const { def, m, sql } = mq.measure(metricId, q.measurement);
  const problems: { path: string; problem: string }[] = [];
  const col = dimensionColumn(q.group_by, 'group_by', problems);
  if (!col) throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, problems);
  const scope = mq.scope(q, token);
  const sign = def.higherIsWorse ? 1 : -1;
  const orderBy = q.order_by ?? 'negative_impact';
  const direction = q.order_direction ?? (orderBy === 'field' ? 'asc' : 'desc');
  const src = await mq.source(scope, { columns: [col], sqls: [sql, 'count(*)', 'sum(watch_time_ms)'] });
  const limit = scope.params.add(q.limit);
  const offset = scope.params.add((q.page - 1) * q.limit);
  const ofScope = sharesOfScope(col, def, m);
  const value = ofScope ? 'g.value * g.views / nullif(o.views, 0)' : 'g.value';
  const impact = ofScope ? value : `${sign} * (g.value - o.value) * g.views / nullif(o.views, 0)`;
  const rows = await mq.store.select(
    `WITH scoped AS (SELECT * FROM ${src.from}),
          overall AS (SELECT CAST(${src.agg(sql)} AS DOUBLE) AS value, ${src.agg('count(*)')} AS views FROM scoped),
          grouped AS (
            SELECT ${col} AS field, CAST(${src.agg(sql)} AS DOUBLE) AS value, ${src.agg('count(*)')} AS views,
                   coalesce(${src.agg('sum(watch_time_ms)')}, 0) AS watch
            FROM scoped GROUP BY ALL
          )
     SELECT g.field, ${value} AS row_value, g.views, g.watch, ${impact} AS negative_impact,
            100.0 * g.views / nullif(o.views, 0) AS share,
            count(*) OVER () AS total
     FROM grouped g, overall o
     ORDER BY ${ORDER_SQL[orderBy]} ${direction} NULLS LAST, g.field
     LIMIT ${limit} OFFSET ${offset}`,
    scope.params.values,
  );
  return {
    data: rows.map((r) => ({
      field: String(r['field'] ?? ''),
      value: num(r['row_value']),
      views: num(r['views']) ?? 0,
      total_watch_time_ms: num(r['watch']) ?? 0,
      negative_impact: num(r['negative_impact']),
      share_of_views: num(r['share']) ?? 0,
    })),
    total_row_count: num(rows[0]?.['total']) ?? (await countGroups(mq.store, col, scope)),
    timeframe: timeframeOf(scope),
    measurement: m,
    unit: unitOf(def, m),
  };
}

/** The number of groups when the requested page is past the last one. */
async function countGroups(store: Store, col: string, scope: Scope): Promise<number> {
  const values = scope.params.values.slice(0, -2);
  const [r] = await store.select(
    `SELECT count(DISTINCT ${col}) AS n FROM ${store.dialect.views} WHERE ${scope.where}`,
    values,
  );
  return Number(r?.['n'] ?? 0);
}
