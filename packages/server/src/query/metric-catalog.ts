/**
 * How each per-view metric id aggregates over views, as SQL over the `views`
 * table (DuckDB's spelling; the store's dialect rewrites it): the aggregates
 * the view metric catalog declares (pipeline/view-model/view-metrics.ts,
 * `query`), spelled out. Rates are ratios of sums (total rebuffering ÷ total
 * watch time), not means of per-view ratios, so long views weigh as much as
 * they were watched. Times and per-view ratios offer percentiles (median,
 * 75th, 90th, 95th, 99th) of the views' values; `higherIsWorse` signs the
 * breakdowns' negative impact.
 */
import { VIEW_METRIC_IDS, type ViewMetricId } from '@openqoe/schema';
import type {
  MetricCatalog,
  QueryAggregate,
  QueryUnit,
  ViewSetMetricId,
} from '../pipeline/view-model/view-metrics.js';
import { VIEW_METRICS } from '../pipeline/view-model/view-metrics.js';

/** The percentile measurements and their levels (the store's dialect keeps them in one quantile state). */
export const PERCENTILES = { median: 0.5, '75th': 0.75, '90th': 0.9, '95th': 0.95, '99th': 0.99 } as const;
type Percentile = keyof typeof PERCENTILES;
export type Measurement = 'avg' | Percentile | 'sum' | 'count' | 'min' | 'max';
/** Every measurement, in the order the API lists them. */
export const MEASUREMENTS = [
  'avg',
  'median',
  '75th',
  '90th',
  '95th',
  '99th',
  'sum',
  'count',
  'min',
  'max',
] as const;

export interface MetricDefinition {
  unit: 'views' | QueryUnit;
  higherIsWorse: boolean;
  defaultMeasurement: Measurement;
  /** SQL aggregate per measurement. */
  sql: Partial<Record<Measurement, string>>;
  /** Views that contribute a value (the denominator a reader should see). */
  viewsSql: string;
  /** What it means (the OpenAPI document). */
  description: string;
}

/** The unit of a metric's answer: a share's `count` measurement counts views, not percent. */
export const unitOf = (def: MetricDefinition, m: Measurement): MetricDefinition['unit'] =>
  m === 'count' && def.unit === 'percent' ? 'views' : def.unit;

/** The SQL of each measurement of the metric in column `c`, by the kind of its aggregate. */
function measurements(c: string, unit: string, q: QueryAggregate): MetricDefinition['sql'] {
  const of = (fn: string) => `${fn}(${c})`;
  const median = of('median');
  /** Median, 75th, 90th, 95th and 99th percentile: exact and interpolated. */
  const percentiles = Object.fromEntries(
    Object.entries(PERCENTILES).map(([m, q]) => [m, q === 0.5 ? median : `quantile_cont(${c}, ${q})`]),
  ) as Record<Percentile, string>;
  /** Σ(value × by) ÷ Σ by over the views with a value: a mean over seconds played, or seeks. */
  const weighted = (by: string) =>
    `sum(${c} * ${by}) / nullif(sum(${by}) FILTER (WHERE ${c} IS NOT NULL), 0)`;
  switch (q.as) {
    case 'time':
      return {
        avg: q.by ? weighted(q.by) : of('avg'),
        ...percentiles,
        min: of('min'),
        max: of('max'),
        sum: of('sum'),
      };
    case 'count':
      return { avg: of('avg'), sum: of('sum'), max: of('max') };
    case 'share':
      return { avg: `100.0 * avg(CASE WHEN ${c} THEN 1 ELSE 0 END)`, count: `count(*) FILTER (WHERE ${c})` };
    case 'score':
      return { avg: of('avg'), median, min: of('min'), max: of('max') };
    case 'mean':
      return { avg: of('avg'), ...percentiles, min: of('min'), max: of('max') };
    case 'weighted':
      return { avg: weighted(q.by), median, max: of('max') };
    case 'ratio':
      return unit === 'percent'
        ? { avg: `100.0 * sum(${q.of}) / nullif(sum(${q.per}), 0)`, ...percentiles }
        : { avg: `sum(${q.of}) / nullif(sum(${q.per}) / 60000.0, 0)`, ...percentiles };
  }
}

/**
 * A view's viewer: its viewer id; when the site disabled it (""), its session id, then its player
 * instance (one page's player); else the view counts as a viewer of its own.
 */
export const VIEWER_SQL =
  "coalesce(nullif(viewer_id, ''), nullif(session_id, ''), nullif(player_instance_id, ''), view_id)";
const viewers = `count(DISTINCT ${VIEWER_SQL})`;
const perViewer = (sql: string) => `${sql} / nullif(${viewers}, 0)`;
const counted = (
  unit: MetricDefinition['unit'],
  sql: string,
  description: string,
  m: Measurement = 'avg',
): MetricDefinition => ({
  unit,
  higherIsWorse: false,
  defaultMeasurement: m,
  sql: { [m]: sql },
  viewsSql: 'count(*)',
  description,
});

/** The metrics counted over the views themselves, which have no column. */
const VIEW_SET_METRICS: Record<ViewSetMetricId, MetricDefinition> = {
  views: counted('views', 'count(*)', 'Views (a play was requested) that ended in the timeframe', 'count'),
  unique_viewers: counted(
    'count',
    viewers,
    'Distinct viewers: viewer id, else session id, else player instance, else the view itself',
    'count',
  ),
  views_per_viewer: counted('count', perViewer('1.0 * count(*)'), 'Views ÷ unique viewers'),
  watch_time_per_viewer: counted('ms', perViewer('1.0 * sum(watch_time_ms)'), 'Watch time ÷ unique viewers'),
};

/** The query metrics of `catalog` by id, and those counted over the views (which have no column). */
export function metricDefinitions(catalog: MetricCatalog): Record<string, MetricDefinition> {
  const out: Record<string, MetricDefinition> = { ...VIEW_SET_METRICS };
  for (const [c, { unit, description, query: q }] of Object.entries(catalog)) {
    if (!q) continue;
    out[q.id] = {
      unit: q.as === 'share' ? 'percent' : (unit as QueryUnit),
      higherIsWorse: q.better !== 'higher' && q.as !== 'score',
      defaultMeasurement: q.default ?? (q.as === 'time' ? 'median' : 'avg'),
      sql: measurements(c, unit, q),
      viewsSql: q.as === 'count' || q.as === 'share' ? 'count(*)' : `count(${c})`,
      description,
    };
  }
  return out;
}

const defined = metricDefinitions(VIEW_METRICS);
/** Every id of VIEW_METRIC_IDS, in its order (the catalog's CatalogChecks make sure each has an entry). */
export const METRICS = Object.fromEntries(VIEW_METRIC_IDS.map((id) => [id, defined[id]!])) as Record<
  ViewMetricId,
  MetricDefinition
>;
