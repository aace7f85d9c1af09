/**
 * The rollup the query API answers metrics from on ClickHouse, and the
 * choice, per request, of where its rows come from.
 *
 * The rollup holds, per environment, hour of the view's end and the common
 * dimensions below, one partial state of every aggregate the metric catalog
 * uses (aggregate-calls.ts). A request whose filters and grouping use only
 * those dimensions, and whose buckets are whole hours, reads:
 * - the rollup's rows for the whole, clean hours of its timeframe;
 * - the views themselves for the rest: the partial hours at both ends and
 *   every hour changed since its last refresh (store/clickhouse/views-rollup.ts).
 * Both halves yield states, and the query merges them, so the answer equals
 * the one computed from the views alone. Other requests read the views.
 */
import { createHash } from 'node:crypto';
import type { RollupDefinition, RollupState, RollupTables } from '../../store/rollup.js';
import type { SqlDialect } from '../../store/sql-dialect.js';
import type { Store } from '../../store/store.js';
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
  const hash = createHash('sha256')
    .update(JSON.stringify([ROLLUP_DIMENSIONS, states]))
    .digest('hex')
    .slice(0, 12);
  return { name: `views_rollup_${hash}`, dims: ROLLUP_DIMENSIONS, states };
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
 * `stepMs` its bucket width, if it has buckets; `sqls` its aggregates.
 */
export function aggregationSource(
  store: Store,
  scope: Scope,
  request: { columns: string[]; stepMs?: number; sqls: string[] },
): AggregationSource {
  const raw = viewsSource(store.dialect, scope);
  const tables = store.rollup;
  if (!tables) return raw;
  const dims = new Set<string>(tables.definition.dims);
  dims.add('env_id');
  if (![...request.columns, ...scope.filterColumns].every((c) => dims.has(c))) return raw;
  if (request.stepMs !== undefined && request.stepMs % HOUR_MS !== 0) return raw;
  const fromHour = Math.ceil(scope.fromMs / HOUR_MS) * HOUR_MS;
  const toHour = Math.floor(scope.toMs / HOUR_MS) * HOUR_MS;
  if (toHour <= fromHour) return raw;
  const columnOf = new Map(tables.definition.states.map((s) => [s.key, s.column]));
  const merged = new Map<string, string>();
  for (const sql of request.sqls) {
    const m = rewriteToMerges(sql, (key) => columnOf.get(key));
    if (m === undefined) return raw;
    merged.set(sql, m);
  }
  return {
    from: `(${rollupUnion(store.dialect, tables, scope, fromHour, toHour)}) AS r`,
    agg: (sql) => {
      const m = merged.get(sql) ?? rewriteToMerges(sql, (key) => columnOf.get(key));
      if (m === undefined) throw new Error(`aggregate not in the rollup: ${sql}`);
      return m;
    },
    bucket: (step) => `${store.dialect.intDiv('toUnixTimestamp(hour) * 1000', step)} * ${step}`,
    rollup: true,
  };
}

function rollupUnion(
  dialect: SqlDialect,
  tables: RollupTables,
  scope: Scope,
  fromHour: number,
  toHour: number,
): string {
  const d = tables.definition;
  const p = scope.params;
  const name = p.add(d.name);
  const from = dialect.msToTimestamp(p.add(fromHour));
  const to = dialect.msToTimestamp(p.add(toHour));
  const dims = d.dims.join(', ');
  const stateColumns = d.states.map((s) => s.column).join(', ');
  const clean = `SELECT env_id, hour, gen FROM ${tables.hours} FINAL WHERE rollup = ${name} AND NOT dirty AND ${scope.envWhere}`;
  const cleanHours = `SELECT env_id, hour FROM ${tables.hours} FINAL WHERE rollup = ${name} AND NOT dirty AND ${scope.envWhere}`;
  const rollupWhere = [
    `(env_id, hour, gen) IN (${clean})`,
    scope.envWhere,
    `hour >= ${from}`,
    `hour < ${to}`,
    ...scope.filterWhere,
  ].join(' AND ');
  const viewHour = 'toStartOfHour(view_end)';
  return `SELECT env_id, hour, ${dims}, ${stateColumns} FROM ${d.name} WHERE ${rollupWhere}
    UNION ALL
    SELECT env_id, ${viewHour} AS hour, ${dims}, ${d.states.map((s) => `${s.state} AS ${s.column}`).join(', ')}
    FROM ${dialect.views}
    WHERE ${scope.where}
      AND NOT (${viewHour} >= ${from} AND ${viewHour} < ${to} AND (toString(env_id), ${viewHour}) IN (${cleanHours}))
    GROUP BY env_id, hour, ${dims}`;
}
