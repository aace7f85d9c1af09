/**
 * The views rollup of the ClickHouse store, on the real engine (chDB): the
 * query API's sources (api/data/views-rollup.ts) answer the same from the
 * rollup as from the views; the rollup is used only when every hour of a
 * whole-hour timeframe is clean, and is really read then (a planted
 * duplicate shows in the answer until its hour is changed again); a view
 * whose end moves to another hour leaves its old hour correct; and a rollup
 * of another definition is rebuilt.
 *
 * Views (H = a whole hour in the past):
 * | view | ends      | country | cdn   | startup | playing |
 * |------|-----------|---------|-------|---------|---------|
 * | a    | H + 10 m  | DE      | cdn-a | 500     | 10 000  |
 * | b    | H + 20 m  | FR      | cdn-b | 1500    | 20 000  |
 * | c    | H+1h+10 m | DE      | cdn-a | 1000    | 30 000  |
 * | d    | H+2h+50 m | DE      | cdn-b | 2000    | 5 000   |
 * The timeframe [H, H + 2 h) holds a, b and c; d ends after it. Startups in
 * it: 500, 1000, 1500 → median 1000.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ActiveView } from '../src/pipeline/view-model/active-views.js';
import { viewRow } from '../src/pipeline/view-model/view-row.js';
import { METRICS } from '../src/query/metric-catalog.js';
import { Params, type Scope } from '../src/query/query-scope.js';
import { aggregationSource, viewsRollupDefinition, viewsSource } from '../src/query/views-rollup.js';
import { ChdbConnection } from '../src/store/clickhouse/chdb-connection.js';
import { CLICKHOUSE_DIALECT } from '../src/store/clickhouse/clickhouse-dialect.js';
import { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.js';
import { VIEW_COLUMNS, type ViewRow } from '../src/store/view-row.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { chdbInstalled } from './helpers/stores.js';
import { client, playing720p } from './helpers/view-fixtures.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const H = Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR;
const dir = tempDataDir('openqoe-rollup-');
afterAll(() => removeDir(dir));

const facts = playing720p;
const col = (name: string) => VIEW_COLUMNS.findIndex((c) => c.name === name);

/** A stored view ending at `endMs` with the given startup and playing time, country and CDN. */
function view(
  id: string,
  endMs: number,
  startup: number,
  playing: number,
  country: string,
  cdn: string,
): ViewRow {
  const start = endMs - startup - playing;
  const v = new ActiveView('env', id, id, 1, 0, client, start, endMs, { minStallMs: 250 });
  v.machine.segment('startup', start, startup, facts);
  v.machine.segment('playing', start + startup, playing, facts);
  const row = viewRow(v, v.machine.metrics(true), Date.now());
  row[col('country')] = country;
  row[col('cdn_host')] = cdn;
  return row;
}

function scope(fromMs: number, toMs: number, filter?: [string, string]): Scope {
  const params = new Params();
  const envWhere = `env_id IN (${params.add('env')})`;
  const d = CLICKHOUSE_DIALECT;
  const filterWhere = filter ? [`${filter[0]} IN (${params.add(filter[1])})`] : [];
  const where = [
    envWhere,
    `view_end >= ${d.msToTimestamp(params.add(fromMs))}`,
    `view_end < ${d.msToTimestamp(params.add(toMs))}`,
    ...filterWhere,
  ].join(' AND ');
  return {
    fromMs,
    toMs,
    envIds: ['env'],
    where,
    envWhere,
    filterWhere,
    filterColumns: filter ? [filter[0]] : [],
    params,
  };
}

const startupMedian = CLICKHOUSE_DIALECT.aggregates(METRICS.video_startup_time.sql.median!);
const watchSum = 'sum(watch_time_ms)';

/** Views, Σ watch time and median startup over the timeframe, read as the overall route reads them. */
async function overall(store: ClickHouseStore, s: Scope, from: 'planned' | 'views' = 'planned') {
  const src =
    from === 'planned'
      ? await aggregationSource(store, s, { columns: [], sqls: [startupMedian, watchSum, 'count(*)'] })
      : viewsSource(store.dialect, s);
  const [row] = await store.select(
    `SELECT ${src.agg('count(*)')} AS views, ${src.agg(watchSum)} AS watch, ${src.agg(startupMedian)} AS median FROM ${src.from}`,
    s.params.values,
  );
  return {
    views: Number(row?.['views']),
    watch: Number(row?.['watch']),
    median: Number(row?.['median']),
    rollup: src.rollup,
  };
}

/** Views per hour bucket, as the timeseries route reads them, and whether the rollup answered. */
async function perHour(store: ClickHouseStore, s: Scope) {
  const src = await aggregationSource(store, s, { columns: [], stepMs: HOUR, sqls: ['count(*)'] });
  const step = `CAST(${s.params.add(HOUR)} AS BIGINT)`;
  const rows = await store.select(
    `SELECT ${src.bucket(step)} AS bucket, ${src.agg('count(*)')} AS views FROM ${src.from} GROUP BY bucket ORDER BY bucket`,
    s.params.values,
  );
  return {
    rollup: src.rollup,
    rows: rows.map((r) => [(Number(r['bucket']) - H) / HOUR, Number(r['views'])]),
  };
}

const open = (path: string, rollup = viewsRollupDefinition(CLICKHOUSE_DIALECT)) =>
  ChdbConnection.open(path).then((conn) => ClickHouseStore.open(conn, { rollup }));

describe.skipIf(!chdbInstalled)('views rollup on ClickHouse (chDB)', () => {
  // Whole hours [H, H + 2 h): a, b and c. With partial hours at both ends: the same views.
  const from = H;
  const to = H + 2 * HOUR;
  const expected = { views: 3, watch: 10_500 + 21_500 + 31_000, median: 1000 };

  it('answers whole clean hours from the rollup what the views answer, and really reads it', async () => {
    const store = await open(join(dir, 'a'));
    try {
      await store.upsertViews([
        view('a', H + 10 * MIN, 500, 10_000, 'DE', 'cdn-a'),
        view('b', H + 20 * MIN, 1500, 20_000, 'FR', 'cdn-b'),
        view('c', H + HOUR + 10 * MIN, 1000, 30_000, 'DE', 'cdn-a'),
        view('d', H + 2 * HOUR + 50 * MIN, 2000, 5000, 'DE', 'cdn-b'),
      ]);
      expect(await store.rollup!.dirtyHours()).toBe(3);
      // Before a refresh every hour is dirty: the views part of the query answers all of it.
      expect(await overall(store, scope(from, to))).toEqual({ ...expected, rollup: true });
      // Per hour one row without dimensions and one per combination: H 1 + 2, H+1h 1 + 1, H+2h 1 + 1.
      expect(await store.refreshRollup()).toEqual({ hours: 3, rows: 7 });
      expect(await store.rollup!.dirtyHours()).toBe(0);
      expect(await overall(store, scope(from, to))).toEqual({ ...expected, rollup: true });
      expect(await overall(store, scope(from, to), 'views')).toEqual({ ...expected, rollup: false });
      // Partial hours at both ends come from the views, the whole hours from the rollup: the same answer.
      expect(await overall(store, scope(H - 30 * MIN, to + 30 * MIN))).toEqual({
        ...expected,
        rollup: true,
      });
      // With d, which ends in the partial hour at the end: startups 500, 1000, 1500, 2000.
      expect(await overall(store, scope(H - 30 * MIN, H + 2 * HOUR + 55 * MIN))).toEqual({
        views: 4,
        watch: expected.watch + 7000,
        median: 1250,
        rollup: true,
      });
      // Filtered: DE views a and c: startups 500 and 1000.
      expect(await overall(store, scope(from, to, ['country', 'DE']))).toEqual({
        views: 2,
        watch: 41_500,
        median: 750,
        rollup: true,
      });
      expect(await perHour(store, scope(from, to))).toEqual({
        rollup: true,
        rows: [
          [0, 2],
          [1, 1],
        ],
      });

      // Plant a copy of hour H's rollup rows: the answer must show it, so the rollup is what was read.
      const name = store.rollup!.definition.name;
      await store.execute(
        `INSERT INTO ${name} SELECT * FROM ${name} WHERE hour = toDateTime($1 / 1000, 'UTC')`,
        [H],
      );
      expect(await overall(store, scope(from, to))).toMatchObject({ views: 5, rollup: true });
      expect(await overall(store, scope(from, to), 'views')).toMatchObject({ views: 3 });
      // Upserting view a again marks hour H dirty: the views answer until it is refreshed, then it is rebuilt.
      await store.upsertViews([view('a', H + 10 * MIN, 500, 10_000, 'DE', 'cdn-a')]);
      expect(await overall(store, scope(from, to))).toEqual({ ...expected, rollup: true });
      await store.refreshRollup();
      expect(await overall(store, scope(from, to))).toEqual({ ...expected, rollup: true });
      // Older generations of a refreshed hour are deleted.
      const gens = await store.select(
        `SELECT count(DISTINCT gen) AS n FROM ${name} WHERE hour = toDateTime($1 / 1000, 'UTC')`,
        [H],
      );
      expect(gens).toEqual([{ n: 1 }]);
    } finally {
      await store.close();
    }
  });

  it('keeps the old hour right when a view ends later than its stored version', async () => {
    const store = await open(join(dir, 'b'));
    try {
      await store.upsertViews([view('a', H + 10 * MIN, 500, 10_000, 'DE', 'cdn-a')]);
      await store.refreshRollup();
      expect(await perHour(store, scope(from, to))).toEqual({ rollup: true, rows: [[0, 1]] });
      // The view goes on into the next hour: its earlier version's hour must be recomputed too.
      await store.upsertViews([view('a', H + HOUR + 5 * MIN, 500, HOUR - 5 * MIN + 10_000, 'DE', 'cdn-a')]);
      await store.refreshRollup();
      expect(await store.rollup!.dirtyHours()).toBe(0);
      expect(await perHour(store, scope(from, to))).toEqual({ rollup: true, rows: [[1, 1]] });
    } finally {
      await store.close();
    }
  });

  it('rebuilds a rollup whose definition changed, dropping the old one', async () => {
    const path = join(dir, 'c');
    const def = viewsRollupDefinition(CLICKHOUSE_DIALECT);
    const older = { ...def, name: 'views_rollup_000000000000', dims: def.dims.slice(0, 3) };
    let store = await open(path, older);
    await store.upsertViews([view('a', H + 10 * MIN, 500, 10_000, 'DE', 'cdn-a')]);
    await store.refreshRollup();
    await store.close();

    store = await open(path, def);
    try {
      const tables = await store.select(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'views_rollup_%'",
        [],
      );
      expect(tables).toEqual([{ name: def.name }]);
      // Hour H has views but no record in the new rollup: dirty until refreshed.
      expect(await store.rollup!.dirtyHours()).toBe(1);
      expect(await overall(store, scope(from, to))).toMatchObject({ views: 1, rollup: true });
      await store.refreshRollup();
      expect(await overall(store, scope(from, to))).toEqual({
        views: 1,
        watch: 10_500,
        median: 500,
        rollup: true,
      });
    } finally {
      await store.close();
    }
  });
});
