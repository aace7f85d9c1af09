/**
 * The rollup the query API answers metrics from on ClickHouse, and the
 * choice, per request, of where its rows come from.
 *
 * The rollup holds, per environment, hour of the view's end and grouping set
 * of the common dimensions below, one partial state of every aggregate the
 * metric catalog uses (aggregate-calls.ts). A request whose filters and
 * grouping use only those dimensions, whose buckets are whole hours and
 * whose timeframe holds at least one whole hour reads:
 * - the rollup's rows for the clean whole hours of its timeframe;
 * - the views themselves for the rest: the partial hours at both ends and
 *   every hour changed since its last refresh (store/clickhouse/views-rollup.ts).
 * Both halves yield states and the query merges them, so the answer is the
 * one the views alone give. Other requests read the views.
 */
import { createHash } from 'node:crypto';
import type { RollupDefinition, RollupState, RollupTables } from '../store/rollup.js';
import type { SqlDialect } from '../store/sql-dialect.js';
import type { Store } from '../store/store.js';
import { findAggregateCalls, rewriteToMerges, stateSql } from './aggregate-calls.js';
import { METRICS } from './metric-catalog.js';
import type { Scope } from './query-scope.js';

const HOUR_MS = 3_600_000;

/**
 * Dimensions kept per rollup row: the ones dashboards break down and filter
 * by, of few values each. Identity and free-text dimensions (video title,
 * viewer, URL, custom data) would make a row per view and are read from the
 * views instead.
 */
export const ROLLUP_DIMENSIONS = [
  'country',
  'cdn_host',
  'cdn_provider',
  'os',
  'browser',
  'device_category',
  'player_name',
  'player_software',
  'stream_type',
  'stream_format',
  'error_code',
] as const;

/** Aggregates every metrics query reads besides the metric's own. */
export const COMMON_AGGREGATES = ['count(*)', 'sum(watch_time_ms)', 'sum(playing_time_ms)'];

/** The rollup for the metric catalog as `dialect` spells it. */
export function viewsRollupDefinition(dialect: SqlDialect): RollupDefinition {
  const sqls = [
    ...COMMON_AGGREGATES,
    ...Object.values(METRICS).flatMap((m) => [...Object.values(m.sql), m.viewsSql]),
  ].map((sql) => dialect.aggregates(sql));
  const byKey = new Map<string, string>();
  for (const sql of sqls) for (const c of findAggregateCalls(sql)) byKey.set(c.key, stateSql(c));
  const keys = [...byKey.keys()].sort();
  const states: RollupState[] = keys.map((key, i) => ({ column: `s${i}`, key, state: byKey.get(key)! }));
  // A row per environment and hour for requests without dimensions; a row per combination of all
  // dimensions for the rest. (A set per single dimension would store the exact quantiles' values
  // once more per dimension.)
  const groupingSets = [[], [...ROLLUP_DIMENSIONS]];
  const hash = createHash('sha256')
    .update(JSON.stringify([ROLLUP_DIMENSIONS, groupingSets, states]))
    .digest('hex')
    .slice(0, 12);
  return { name: `views_rollup_${hash}`, dims: ROLLUP_DIMENSIONS, groupingSets, states };
}

export interface AggregationSource {
  /** What follows FROM: the rows to aggregate, with their WHERE when they need one. */
  from: string;
  /** A catalog aggregate expression over those rows. */
  agg(sql: string): string;
  /** A row's time bucket in epoch ms, for a step in ms given as SQL. */
  bucket(step: string): string;
  /** Whether whole clean hours are read from the rollup. */
  rollup: boolean;
}

/** The views themselves. */
export function viewsSource(dialect: SqlDialect, scope: Scope): AggregationSource {
  return {
    from: `${dialect.views} WHERE ${scope.where}`,
    agg: (sql) => sql,
    bucket: (step) => `${dialect.intDiv(dialect.timestampToMs('view_end'), step)} * ${step}`,
    rollup: false,
  };
}

/**
 * Where a metrics query reads from: the rollup plus the views when the
 * request allows it (see the top of this file), else the views.
 * `columns` are the dimension columns the query groups by besides time;
 * `stepMs` its bucket width, if it has buckets; `sqls` every aggregate
 * expression it will ask `agg` for.
 */
export async function aggregationSource(
  store: Store,
  scope: Scope,
  request: { columns: string[]; stepMs?: number; sqls: string[] },
): Promise<AggregationSource> {
  const raw = viewsSource(store.dialect, scope);
  const tables = store.rollup;
  if (!tables || scope.envIds.length === 0) return raw;
  const def = tables.definition;
  // env_id is in every row; the rest decide the grouping set: the smallest that holds them all.
  const used = new Set([...request.columns, ...scope.filterColumns].filter((c) => c !== 'env_id'));
  const gset = def.groupingSets.findIndex((set) => [...used].every((c) => set.includes(c)));
  if (gset < 0) return raw;
  if (request.stepMs !== undefined && request.stepMs % HOUR_MS !== 0) return raw;
  const fromHour = Math.ceil(scope.fromMs / HOUR_MS) * HOUR_MS;
  const toHour = Math.floor(scope.toMs / HOUR_MS) * HOUR_MS;
  if (toHour <= fromHour) return raw;
  const byKey = new Map(def.states.map((s) => [s.key, s]));
  // Only the states this query merges: each is a column to read, and a state to build from the views.
  const needed = new Map<string, RollupState>();
  const merged = new Map<string, string>();
  for (const sql of request.sqls) {
    const m = rewriteToMerges(sql, (key) => {
      const state = byKey.get(key);
      if (state) needed.set(key, state);
      return state?.column;
    });
    if (m === undefined) return raw;
    merged.set(sql, m);
  }
  // The whole hours the rollup cannot answer: the dirty ones (an hour without a record has no views).
  const dirty = await store.select(
    `SELECT DISTINCT toUnixTimestamp(hour) * 1000 AS h FROM ${tables.hours} FINAL
     WHERE rollup = $1 AND dirty AND hour >= ${store.dialect.msToTimestamp('$2')} AND hour < ${store.dialect.msToTimestamp('$3')}
       AND env_id IN (${scope.envIds.map((_, i) => `$${i + 4}`).join(', ')})`,
    [def.name, fromHour, toHour, ...scope.envIds],
  );
  // What is read from the views: the partial hours at both ends and the dirty hours, as time ranges.
  const ranges: [number, number][] = [];
  if (scope.fromMs < fromHour) ranges.push([scope.fromMs, fromHour]);
  for (const h of dirty.map((r) => Number(r['h'])).sort((x, y) => x - y)) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === h) last[1] = h + HOUR_MS;
    else ranges.push([h, h + HOUR_MS]);
  }
  if (toHour < scope.toMs) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === toHour) last[1] = scope.toMs;
    else ranges.push([toHour, scope.toMs]);
  }
  const union = rollupUnion(store.dialect, tables, scope, {
    gset,
    fromHour,
    toHour,
    ranges,
    columns: [...new Set(request.columns)].filter((c) => c !== 'hour'),
    states: [...needed.values()],
  });
  return {
    from: `(${union}) AS r`,
    agg: (sql) => {
      const m = merged.get(sql);
      if (m === undefined) throw new Error(`aggregate not declared to the rollup source: ${sql}`);
      return m;
    },
    bucket: (step) => `${store.dialect.intDiv('toUnixTimestamp(hour) * 1000', step)} * ${step}`,
    rollup: true,
  };
}

/**
 * The rows a rollup-backed query aggregates: the rollup's rows of the request's grouping set,
 * environments, filters and clean whole hours (each hour's current generation only: rows of an
 * unfinished or older refresh are never read), and the same states built from the views of the
 * time ranges the rollup does not answer.
 */
function rollupUnion(
  dialect: SqlDialect,
  tables: RollupTables,
  scope: Scope,
  q: {
    gset: number;
    fromHour: number;
    toHour: number;
    ranges: [number, number][];
    columns: string[];
    states: RollupState[];
  },
): string {
  const d = tables.definition;
  const p = scope.params;
  const name = p.add(d.name);
  const from = dialect.msToTimestamp(p.add(q.fromHour));
  const to = dialect.msToTimestamp(p.add(q.toHour));
  const cols = q.columns.map((c) => `, ${c}`).join('');
  const clean = `FROM ${tables.hours} FINAL WHERE rollup = ${name} AND NOT dirty AND ${scope.envWhere}`;
  const where = [
    `(env_id, hour, gen) IN (SELECT env_id, hour, gen ${clean})`,
    `gset = ${q.gset}`,
    scope.envWhere,
    `hour >= ${from}`,
    `hour < ${to}`,
    ...scope.filterWhere,
  ].join(' AND ');
  const fromRollup = `SELECT hour${cols}${q.states.map((s) => `, ${s.column}`).join('')} FROM ${d.name} WHERE ${where}`;
  if (q.ranges.length === 0) return fromRollup;
  const viewHour = 'toStartOfHour(view_end)';
  const inRanges = q.ranges
    .map(
      ([a, b]) =>
        `(view_end >= ${dialect.msToTimestamp(p.add(a))} AND view_end < ${dialect.msToTimestamp(p.add(b))})`,
    )
    .join(' OR ');
  // The ranges let the view_end index skip the rest of `views` (sorted by the hour of first data);
  // the last condition drops whatever a clean hour of the rollup already counts.
  return `${fromRollup}
    UNION ALL
    SELECT ${viewHour} AS hour${cols}${q.states.map((s) => `, ${s.state} AS ${s.column}`).join('')}
    FROM ${dialect.views}
    WHERE ${scope.where} AND (${inRanges})
      AND NOT (${viewHour} >= ${from} AND ${viewHour} < ${to} AND (toString(env_id), ${viewHour}) IN (SELECT env_id, hour ${clean}))
    GROUP BY hour${cols}`;
}
