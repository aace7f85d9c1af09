/**
 * The real-time monitoring API (/data/v1/monitoring/…): what is happening to
 * viewers now, from the pipeline's state of active views (never a scan of
 * history). Shapes follow docs/monitoring-api.md.
 */
import type { ErrorField } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { targetEnvironment } from '../../http/target-environment.js';
import { negativeImpact } from '../../pipeline/realtime/realtime-aggregate.js';
import {
  REALTIME_DIMENSIONS,
  REALTIME_METRIC_IDS,
  REALTIME_METRICS,
  type RealtimeMetricId,
  STARTUP_BUCKETS_MS,
} from '../../pipeline/realtime/realtime-catalog.js';
import { parseRealtimeFilters, type RealtimeFilter } from '../../query/realtime/monitoring-filters.js';
import {
  type MonitoringHistory,
  type RowValues,
  rowValues,
} from '../../query/realtime/monitoring-history.js';

const ErrorRef = { $ref: 'ErrorEnvelope#' };
/** What every scoped route may answer besides 200: bad parameters, no token, an environment not covered,
 * and (in a cluster) filtered numbers a worker could not complete in time. */
const ErrorResponses = { 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 503: ErrorRef };
const security = [{ basicAuth: [] }];
const tags = ['monitoring'];
const Nullable = Type.Union([Type.Number(), Type.Null()]);

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
  dimension: Type.String({ description: 'A real-time dimension (GET /data/v1/monitoring/dimensions)' }),
};
const Timeframe = Type.Array(Type.Integer(), {
  minItems: 2,
  maxItems: 2,
  description: '[from, to], epoch s',
});

interface CommonQs {
  'filters[]'?: string[];
  environment_id?: string;
  measurement?: 'median' | 'p95';
}
interface BreakdownQs extends CommonQs {
  dimension: string;
  order_by?: 'negative_impact' | 'value' | 'views';
  order_direction?: 'asc' | 'desc';
  limit?: number;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const round = (v: number | null, digits = 3) =>
  v === null || !Number.isFinite(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits;

function metricOf(
  row: RowValues | null,
  metric: RealtimeMetricId,
  measurement?: 'median' | 'p95',
): number | null {
  if (!row) return null;
  if (metric === 'video_startup_time' && measurement === 'p95') return row.startupP95;
  return row.metrics[metric];
}

function display(metric: RealtimeMetricId, v: number | null): string {
  if (v === null) return '–';
  switch (REALTIME_METRICS[metric].unit) {
    case 'percentage':
      return `${v.toFixed(1)}%`;
    case 'milliseconds':
      return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
    case 'bps':
      return v >= 1e6 ? `${(v / 1e6).toFixed(2)} Mbps` : `${Math.round(v / 1000)} kbps`;
    default:
      return String(v);
  }
}

export function monitoringRoutes(
  app: FastifyInstance,
  registry: Registry,
  history: MonitoringHistory,
  tickMs: number,
): void {
  const auth = requirePermission(registry, 'data:read');

  /** Environment and filters of a request, validated together so every problem is named at once. */
  const scopeOf = (
    token: Parameters<typeof targetEnvironment>[1],
    q: CommonQs,
    dimension?: string,
  ): { envId: string; filter: RealtimeFilter } => {
    const problems: ErrorField[] = [];
    const filter = parseRealtimeFilters(q['filters[]'], problems);
    if (dimension !== undefined && !REALTIME_DIMENSIONS[dimension])
      problems.push({
        path: 'dimension',
        problem: `must be one of ${Object.keys(REALTIME_DIMENSIONS).join(', ')}`,
      });
    if (problems.length) throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, problems);
    return { envId: targetEnvironment(registry, token, q.environment_id), filter };
  };
  const timeframeOf = (envId: string): [number, number] => {
    const h = history.history(envId);
    const to = h.length ? h[h.length - 1]!.atMs : Date.now();
    const from = h.length ? h[0]!.atMs - tickMs : to;
    return [Math.floor(from / 1000), Math.floor(to / 1000)];
  };

  app.get(
    '/data/v1/monitoring/metrics',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'The real-time metrics',
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                id: Type.String(),
                display_name: Type.String(),
                unit: Type.String(),
                higher_is_worse: Type.Boolean(),
              }),
            ),
            total_row_count: Type.Integer(),
          }),
        },
      },
    },
    async () => {
      const data = REALTIME_METRIC_IDS.map((id) => ({
        id,
        display_name: REALTIME_METRICS[id].displayName,
        unit: REALTIME_METRICS[id].unit,
        higher_is_worse: REALTIME_METRICS[id].higherIsWorse,
      }));
      return { data, total_row_count: data.length };
    },
  );

  app.get(
    '/data/v1/monitoring/dimensions',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'The dimensions real-time metrics break down by',
        response: {
          200: Type.Object({
            data: Type.Array(Type.Object({ id: Type.String(), display_name: Type.String() })),
            total_row_count: Type.Integer(),
          }),
        },
      },
    },
    async () => {
      const data = Object.entries(REALTIME_DIMENSIONS).map(([id, d]) => ({
        id,
        display_name: d.displayName,
      }));
      return { data, total_row_count: data.length };
    },
  );

  app.get<{ Params: { metric_id: RealtimeMetricId }; Querystring: CommonQs }>(
    '/data/v1/monitoring/metrics/:metric_id/timeseries',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'A real-time metric at every tick of the last 30 minutes (oldest first)',
        params: MetricParams,
        querystring: Type.Object(CommonQuery, { additionalProperties: false }),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({ date: Type.String(), value: Nullable, concurrent_viewers: Nullable }),
            ),
            total_row_count: Type.Integer(),
            timeframe: Timeframe,
          }),
          ...ErrorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const metric = request.params.metric_id;
      const { envId, filter } = scopeOf(request.token!, q);
      const points = filter.empty
        ? history.history(envId).map((h) => ({ atMs: h.atMs, values: h.overall as RowValues | null }))
        : await history.filtered(envId, filter);
      const data = points.map((p) => ({
        date: iso(p.atMs),
        value: round(metricOf(p.values, metric, q.measurement)),
        concurrent_viewers: p.values ? p.values.concurrentViewers : null,
      }));
      return { data, total_row_count: data.length, timeframe: timeframeOf(envId) };
    },
  );

  app.get<{ Params: { metric_id: RealtimeMetricId }; Querystring: BreakdownQs }>(
    '/data/v1/monitoring/metrics/:metric_id/breakdown',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'A real-time metric by the values of a dimension, at the latest tick',
        params: MetricParams,
        querystring: Type.Object(
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
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                value: Type.String({ description: 'The dimension value ("" when not known)' }),
                metric_value: Nullable,
                display_value: Type.String(),
                concurrent_viewers: Type.Integer(),
                starting_up_viewers: Type.Integer(),
                negative_impact: Type.Number(),
              }),
            ),
            total_row_count: Type.Integer(),
            timestamp: Type.Union([Type.Integer(), Type.Null()]),
          }),
          ...ErrorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const metric = request.params.metric_id;
      const { envId, filter } = scopeOf(request.token!, q, q.dimension);
      const tick = await history.breakdown(envId, q.dimension, filter);
      if (!tick) return { data: [], total_row_count: 0, timestamp: null };
      const { overall, rows } = tick;
      const overallValue = metricOf(rowValues(overall), metric, q.measurement);
      const data = [...rows].map(([value, agg]) => {
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
      const key = (r: (typeof data)[number]) =>
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
    },
  );

  app.get<{ Params: { metric_id: RealtimeMetricId }; Querystring: BreakdownQs }>(
    '/data/v1/monitoring/metrics/:metric_id/breakdown-timeseries',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary:
          'At every tick of the last 30 minutes, the metric for the most-watched values of a dimension (filters apply to the latest tick only)',
        params: MetricParams,
        querystring: Type.Object(
          {
            ...CommonQuery,
            ...DimensionQuery,
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                date: Type.String(),
                values: Type.Array(
                  Type.Object({
                    value: Type.String(),
                    metric_value: Nullable,
                    concurrent_viewers: Type.Integer(),
                    starting_up_viewers: Type.Integer(),
                  }),
                ),
              }),
            ),
            total_row_count: Type.Integer(),
            timeframe: Timeframe,
          }),
          ...ErrorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const metric = request.params.metric_id;
      const { envId, filter } = scopeOf(request.token!, q, q.dimension);
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
      let data: { date: string; values: ReturnType<typeof top> }[];
      if (filter.empty) {
        data = history.history(envId).map((h) => ({
          date: iso(h.atMs),
          values: top(h.dims.get(q.dimension) ?? new Map()),
        }));
      } else {
        // Reduced history cannot be filtered again: only the latest tick is answered.
        const tick = await history.breakdown(envId, q.dimension, filter);
        data = tick
          ? [
              {
                date: iso(tick.atMs),
                values: top([...tick.rows].map(([v, agg]) => [v, rowValues(agg)] as [string, RowValues])),
              },
            ]
          : [];
      }
      return { data, total_row_count: data.length, timeframe: timeframeOf(envId) };
    },
  );

  app.get<{ Params: { metric_id: string }; Querystring: CommonQs }>(
    '/data/v1/monitoring/metrics/:metric_id/histogram-timeseries',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary:
          'Startup times of the viewers watching, as a histogram at every tick (video_startup_time only)',
        params: Type.Object({
          metric_id: Type.Literal('video_startup_time', { description: 'Only video_startup_time has one' }),
        }),
        querystring: Type.Object(
          { 'filters[]': CommonQuery['filters[]'], environment_id: CommonQuery.environment_id },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
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
          }),
          ...ErrorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { envId, filter } = scopeOf(request.token!, q);
      const points = filter.empty
        ? history.history(envId).map((h) => ({
            atMs: h.atMs,
            values: h.overall as RowValues | null,
            histogram: h.histogram as number[] | null,
            startupMean: h.startupMean,
          }))
        : await history.filtered(envId, filter);
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
      const buckets = STARTUP_BUCKETS_MS.map((start, i) => ({
        start,
        end: STARTUP_BUCKETS_MS[i + 1] ?? null,
      }));
      return {
        meta: { buckets, bucket_unit: 'milliseconds' as const },
        data,
        total_row_count: data.length,
        timeframe: timeframeOf(envId),
      };
    },
  );
}
