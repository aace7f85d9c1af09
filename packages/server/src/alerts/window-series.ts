/**
 * A windowed rule's series: the view metric of the query API (the metric
 * catalog's SQL for the measurement, in the store's dialect) over the views
 * of the environment that ended in the trailing window, per value of the
 * breakdown dimension, with the rule's filters; the audience is the views
 * counted. One grouped query per evaluation, on either store.
 */
import type { ViewMetricId } from '@openqoe/schema';
import { DIMENSIONS } from '../query/dimensions.js';
import { METRICS, type Measurement } from '../query/metric-catalog.js';
import { Params } from '../query/query-scope.js';
import type { Store } from '../store/store.js';
import type { RuleSpec } from './alert-rules.js';
import { WHOLE } from './realtime-series.js';
import type { SeriesSample } from './threshold.js';

interface WindowQuery {
  where: string;
  params: Params;
  /** The series' column expression; undefined for the whole environment. */
  series: string | undefined;
}

function windowQuery(store: Store, spec: RuleSpec, envId: string, nowMs: number): WindowQuery {
  const params = new Params();
  const ts = store.dialect.msToTimestamp;
  const clauses = [
    `env_id = ${params.add(envId)}`,
    `view_end >= ${ts(params.add(nowMs - spec.window_seconds! * 1000))}`,
    `view_end < ${ts(params.add(nowMs))}`,
  ];
  const include = new Map<string, string[]>();
  const exclude = new Map<string, string[]>();
  for (const f of spec.filters) {
    const m = /^(!?)([a-z0-9_]+):(.*)$/s.exec(f)!;
    const target = m[1] ? exclude : include;
    const col = DIMENSIONS[m[2]!]!;
    target.set(col, [...(target.get(col) ?? []), m[3]!]);
  }
  for (const [col, values] of include)
    clauses.push(`${col} IN (${values.map((v) => params.add(v)).join(', ')})`);
  for (const [col, values] of exclude)
    clauses.push(`${col} NOT IN (${values.map((v) => params.add(v)).join(', ')})`);
  const series = spec.breakdown === null ? undefined : `coalesce(${DIMENSIONS[spec.breakdown]!}, '')`;
  return { where: clauses.join(' AND '), params, series };
}

/** Series key → its value and views over the window ending at `nowMs`. */
export async function windowSeries(
  store: Store,
  spec: RuleSpec,
  envId: string,
  nowMs: number,
): Promise<Map<string, SeriesSample>> {
  const def = METRICS[spec.metric as ViewMetricId];
  const sql = store.dialect.aggregates(def.sql[spec.measurement as Measurement]!);
  const q = windowQuery(store, spec, envId, nowMs);
  const rows = await store.select(
    `SELECT ${q.series ?? "''"} AS series, CAST(${sql} AS DOUBLE) AS value, count(*) AS views
     FROM ${store.dialect.views} WHERE ${q.where}${q.series ? ' GROUP BY series' : ''}`,
    q.params.values,
  );
  const out = new Map<string, SeriesSample>();
  for (const r of rows) {
    const value = r['value'] === null || r['value'] === undefined ? null : Number(r['value']);
    out.set(q.series ? String(r['series']) : WHOLE, {
      value: value !== null && Number.isFinite(value) ? value : null,
      audience: Number(r['views'] ?? 0),
    });
  }
  return out;
}

/** Ids of the latest views of a series in the window (an incident's examples). */
export async function windowExamples(
  store: Store,
  spec: RuleSpec,
  envId: string,
  series: string,
  nowMs: number,
  limit: number,
): Promise<string[]> {
  const q = windowQuery(store, spec, envId, nowMs);
  const seriesWhere = q.series ? ` AND ${q.series} = ${q.params.add(series)}` : '';
  const rows = await store.select(
    `SELECT view_id FROM ${store.dialect.views} WHERE ${q.where}${seriesWhere}
     ORDER BY view_end DESC, view_id LIMIT ${Math.trunc(limit)}`,
    q.params.values,
  );
  return rows.map((r) => String(r['view_id']));
}
