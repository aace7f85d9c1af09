/**
 * Historical metrics over stored views: `/data/v1/metrics/{metric_id}/overall`,
 * `/timeseries` and `/breakdown`, plus the lists of metrics and dimensions.
 * Every number is one aggregate over the `views` table (metric-catalog.ts).
 */
import { VIEW_METRIC_IDS, type ViewMetricId } from '@openqoe/schema';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../auth/registry.js';
import { ApiError } from '../../http/api-error.js';
import { requirePermission } from '../../http/auth-hook.js';
import { DIMENSION_NAMES } from '../../query/dimensions.js';
import { METRICS, type Measurement, type MetricDefinition } from '../../query/metric-catalog.js';
import { buildScope, dimensionColumn, type Scope, type ScopeQuery } from '../../query/query-scope.js';
import { aggregationSource } from '../../query/views-rollup.js';
import type { ReadValue, Store } from '../../store/store.js';

export const GRANULARITIES = {
  minute: 60_000,
  ten_minutes: 600_000,
  hour: 3_600_000,
  day: 86_400_000,
} as const;
type Granularity = keyof typeof GRANULARITIES;
const MAX_BUCKETS = 2000;

const ErrorRef = { $ref: 'ErrorEnvelope#' };
const security = [{ basicAuth: [] }];
const tags = ['data'];

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
    ['median', '95th', 'avg', 'sum', 'count', 'min', 'max'].map((m) => Type.Literal(m)),
    {
      description:
        'Default depends on the metric: median for times, avg for rates and scores, sum for watch time',
    },
  ),
);
const Timeframe = Type.Array(Type.Integer(), {
  minItems: 2,
  maxItems: 2,
  description: '[from, to] in epoch seconds',
});

type MetricQuery = ScopeQuery & { measurement?: Measurement };

const num = (v: ReadValue | undefined): number | null => (v === null || v === undefined ? null : Number(v));

export function measurementSql(
  def: MetricDefinition,
  metricId: string,
  requested: Measurement | undefined,
): { m: Measurement; sql: string } {
  const m = requested ?? def.defaultMeasurement;
  const sql = def.sql[m];
  if (!sql) {
    throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, [
      { path: 'measurement', problem: `${metricId} offers ${Object.keys(def.sql).join(', ')}` },
    ]);
  }
  return { m, sql };
}

export function autoGranularity(spanMs: number): Granularity {
  if (spanMs <= 3 * 3_600_000) return 'minute';
  if (spanMs <= 24 * 3_600_000) return 'ten_minutes';
  if (spanMs <= 14 * 86_400_000) return 'hour';
  return 'day';
}

export function metricsRoutes(
  app: FastifyInstance,
  registry: Registry,
  store: Store,
  /** Told, per metrics query, whether whole hours came from the rollup. */
  onSource: (rollup: boolean) => void = () => {},
): void {
  const auth = requirePermission(registry, 'data:read');
  const timeframeOf = (s: Scope) => [Math.floor(s.fromMs / 1000), Math.floor(s.toMs / 1000)];
  const dialect = store.dialect;
  // The catalog's SQL in the store's dialect, rewritten once.
  const catalog = Object.fromEntries(
    Object.entries(METRICS).map(([id, m]) => [
      id,
      {
        ...m,
        sql: Object.fromEntries(Object.entries(m.sql).map(([k, sql]) => [k, dialect.aggregates(sql)])),
        viewsSql: dialect.aggregates(m.viewsSql),
      },
    ]),
  ) as typeof METRICS;
  const def = (id: string) => catalog[id as ViewMetricId];
  const source = async (scope: Scope, request: Parameters<typeof aggregationSource>[2]) => {
    const src = await aggregationSource(store, scope, request);
    onSource(src.rollup);
    return src;
  };

  app.get(
    '/data/v1/metrics',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'The per-view metrics, with their unit and measurements',
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                id: Type.String(),
                unit: Type.String(),
                measurements: Type.Array(Type.String()),
                default_measurement: Type.String(),
                higher_is_worse: Type.Boolean(),
              }),
            ),
            total_row_count: Type.Integer(),
          }),
        },
      },
    },
    async () => {
      const data = VIEW_METRIC_IDS.map((id) => ({
        id,
        unit: METRICS[id].unit,
        measurements: Object.keys(METRICS[id].sql),
        default_measurement: METRICS[id].defaultMeasurement,
        higher_is_worse: METRICS[id].higherIsWorse,
      }));
      return { data, total_row_count: data.length };
    },
  );

  app.get(
    '/data/v1/dimensions',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'Dimensions to filter and group by',
        response: { 200: Type.Object({ data: Type.Array(Type.String()), total_row_count: Type.Integer() }) },
      },
    },
    async () => ({ data: DIMENSION_NAMES, total_row_count: DIMENSION_NAMES.length }),
  );

  app.get<{ Params: { metric_id: string }; Querystring: MetricQuery }>(
    '/data/v1/metrics/:metric_id/overall',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'One number for a metric over the timeframe and filters',
        params: MetricParams,
        querystring: Type.Object(
          { ...ScopeQuerySchema, measurement: MeasurementSchema },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Object({
              value: Type.Union([Type.Number(), Type.Null()]),
              measurement: Type.String(),
              unit: Type.String(),
              total_views: Type.Integer({ description: 'Views in the scope' }),
              views_with_value: Type.Integer({ description: 'Views that contribute a value' }),
              total_watch_time_ms: Type.Number(),
              total_playing_time_ms: Type.Number(),
            }),
            timeframe: Timeframe,
          }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request) => {
      const d = def(request.params.metric_id);
      const { m, sql } = measurementSql(d, request.params.metric_id, request.query.measurement);
      const scope = buildScope(request.query, request.token!, registry, undefined, dialect);
      const src = await source(scope, {
        columns: [],
        sqls: [sql, d.viewsSql, 'count(*)', 'sum(watch_time_ms)', 'sum(playing_time_ms)'],
      });
      const [row] = await store.select(
        `SELECT CAST(${src.agg(sql)} AS DOUBLE) AS value, ${src.agg('count(*)')} AS total_views,
                ${src.agg(d.viewsSql)} AS views_with_value,
                coalesce(${src.agg('sum(watch_time_ms)')}, 0) AS watch,
                coalesce(${src.agg('sum(playing_time_ms)')}, 0) AS playing
         FROM ${src.from}`,
        scope.params.values,
      );
      return {
        data: {
          value: num(row?.['value']),
          measurement: m,
          unit: d.unit,
          total_views: num(row?.['total_views']) ?? 0,
          views_with_value: num(row?.['views_with_value']) ?? 0,
          total_watch_time_ms: num(row?.['watch']) ?? 0,
          total_playing_time_ms: num(row?.['playing']) ?? 0,
        },
        timeframe: timeframeOf(scope),
      };
    },
  );

  app.get<{ Params: { metric_id: string }; Querystring: MetricQuery & { granularity?: Granularity } }>(
    '/data/v1/metrics/:metric_id/timeseries',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'A metric per time bucket (buckets aligned on epoch multiples; empty buckets included)',
        params: MetricParams,
        querystring: Type.Object(
          {
            ...ScopeQuerySchema,
            measurement: MeasurementSchema,
            granularity: Type.Optional(
              Type.Union(
                Object.keys(GRANULARITIES).map((g) => Type.Literal(g)),
                {
                  description:
                    'Default: minute up to 3 h, ten_minutes up to 24 h, hour up to 14 days, else day',
                },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                time: Type.Integer({ description: 'Bucket start, epoch seconds' }),
                value: Type.Union([Type.Number(), Type.Null()]),
                views: Type.Integer(),
              }),
            ),
            total_row_count: Type.Integer(),
            timeframe: Timeframe,
            granularity: Type.String(),
            measurement: Type.String(),
            unit: Type.String(),
          }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request) => {
      const d = def(request.params.metric_id);
      const { m, sql } = measurementSql(d, request.params.metric_id, request.query.measurement);
      const scope = buildScope(request.query, request.token!, registry, undefined, dialect);
      const granularity = request.query.granularity ?? autoGranularity(scope.toMs - scope.fromMs);
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
      const src = await source(scope, { columns: [], stepMs: step, sqls: [sql, 'count(*)'] });
      const rows = await store.select(
        `SELECT ${src.bucket(stepParam)} AS bucket, CAST(${src.agg(sql)} AS DOUBLE) AS value, ${src.agg('count(*)')} AS views
         FROM ${src.from} GROUP BY bucket ORDER BY bucket`,
        scope.params.values,
      );
      const byBucket = new Map(rows.map((r) => [Number(r['bucket']), r]));
      const data: { time: number; value: number | null; views: number }[] = [];
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
        unit: d.unit,
      };
    },
  );

  app.get<{
    Params: { metric_id: string };
    Querystring: MetricQuery & {
      group_by: string;
      limit: number;
      page: number;
      order_by?: 'value' | 'views' | 'negative_impact' | 'field';
      order_direction?: 'asc' | 'desc';
    };
  }>(
    '/data/v1/metrics/:metric_id/breakdown',
    {
      preHandler: auth,
      schema: {
        tags,
        security,
        summary: 'A metric per value of one dimension, with each row’s negative impact on the whole',
        description:
          'negative_impact = (row value − overall value) × row views ÷ total views, signed so that larger is worse ' +
          '(for metrics where lower is worse, such as bitrate or scores, the sign is flipped). Default order: negative_impact desc.',
        params: MetricParams,
        querystring: Type.Object(
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
              Type.Union(['value', 'views', 'negative_impact', 'field'].map((o) => Type.Literal(o))),
            ),
            order_direction: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                field: Type.String(),
                value: Type.Union([Type.Number(), Type.Null()]),
                views: Type.Integer(),
                total_watch_time_ms: Type.Number(),
                negative_impact: Type.Union([Type.Number(), Type.Null()]),
              }),
            ),
            total_row_count: Type.Integer(),
            timeframe: Timeframe,
            measurement: Type.String(),
            unit: Type.String(),
          }),
          400: ErrorRef,
          401: ErrorRef,
          403: ErrorRef,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const d = def(request.params.metric_id);
      const { m, sql } = measurementSql(d, request.params.metric_id, q.measurement);
      const problems: { path: string; problem: string }[] = [];
      const col = dimensionColumn(q.group_by, 'group_by', problems);
      if (!col) throw new ApiError('QOE_ERR_INVALID_PARAMETERS', undefined, problems);
      const scope = buildScope(q, request.token!, registry, undefined, dialect);
      const sign = d.higherIsWorse ? 1 : -1;
      const orderBy = q.order_by ?? 'negative_impact';
      const direction = q.order_direction ?? (orderBy === 'field' ? 'asc' : 'desc');
      const src = await source(scope, { columns: [col], sqls: [sql, 'count(*)', 'sum(watch_time_ms)'] });
      const limit = scope.params.add(q.limit);
      const offset = scope.params.add((q.page - 1) * q.limit);
      const rows = await store.select(
        `WITH scoped AS (SELECT * FROM ${src.from}),
              overall AS (SELECT CAST(${src.agg(sql)} AS DOUBLE) AS value, ${src.agg('count(*)')} AS views FROM scoped),
              grouped AS (
                SELECT ${col} AS field, CAST(${src.agg(sql)} AS DOUBLE) AS value, ${src.agg('count(*)')} AS views,
                       coalesce(${src.agg('sum(watch_time_ms)')}, 0) AS watch
                FROM scoped GROUP BY ALL
              )
         SELECT g.field, g.value, g.views, g.watch,
                ${sign} * (g.value - o.value) * g.views / nullif(o.views, 0) AS negative_impact,
                count(*) OVER () AS total
         FROM grouped g, overall o
         ORDER BY ${orderBy === 'field' ? 'g.field' : orderBy === 'views' ? 'g.views' : orderBy === 'value' ? 'g.value' : 'negative_impact'} ${direction} NULLS LAST, g.field
         LIMIT ${limit} OFFSET ${offset}`,
        scope.params.values,
      );
      return {
        data: rows.map((r) => ({
          field: String(r['field'] ?? ''),
          value: num(r['value']),
          views: num(r['views']) ?? 0,
          total_watch_time_ms: num(r['watch']) ?? 0,
          negative_impact: num(r['negative_impact']),
        })),
        total_row_count: num(rows[0]?.['total']) ?? (await countGroups(store, col, scope)),
        timeframe: timeframeOf(scope),
        measurement: m,
        unit: d.unit,
      };
    },
  );
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
