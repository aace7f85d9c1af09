/**
 * A view metric added in one place: a catalog entry with its column. Given
 * to a real DuckDB store (which adds the column with a views-column migration
 * derived from it), to the view model, the query layer and the connector
 * envelope, the new metric is computed from the view's state and found in
 * the stored view, in the overall value of the query layer, and in the
 * envelope. The expected values are worked out by hand from the scripted
 * views.
 */
import { join } from 'node:path';
import { makeEvent } from '@openqoe/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from '../src/auth/registry.js';
import { buildEnvelope, newTrail } from '../src/outputs/connectors/envelope.js';
import { ActiveView } from '../src/pipeline/view-model/active-views.js';
import {
  type MetricCatalog,
  type MetricEntry,
  VIEW_METRICS,
  type ViewState,
} from '../src/pipeline/view-model/view-metrics.js';
import { viewRowOf } from '../src/pipeline/view-model/view-row.js';
import { metricDefinitions } from '../src/query/metric-catalog.js';
import { buildScope } from '../src/query/query-scope.js';
import { aggregationSource } from '../src/query/views-rollup.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { DUCKDB_MIGRATIONS } from '../src/store/duckdb/migrations.js';
import { type Column, VIEW_COLUMNS } from '../src/store/view-row.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { client, zeroFacts } from './helpers/view-fixtures.js';

const dir = tempDataDir('openqoe-catalog-');
afterAll(() => removeDir(dir));

/** The one place: the new metric's entry, with its column's type and the migration that adds it. */
const ADDED = {
  name: 'startup_seconds',
  type: 'DOUBLE',
  migration: DUCKDB_MIGRATIONS.length + 1,
  entry: {
    unit: 'count',
    of: (s: ViewState) => (s.videoStartupTimeMs === null ? null : Math.ceil(s.videoStartupTimeMs / 1000)),
    description: 'Video startup time in whole seconds, rounded up',
    query: { id: 'startup_seconds', as: 'count' },
    envelope: { field: 'startup_seconds' },
  } satisfies MetricEntry,
} as const;

// Everything else is derived from it.
const columns = [
  ...VIEW_COLUMNS,
  { name: ADDED.name, type: ADDED.type, migration: ADDED.migration } as unknown as Column,
];
const catalog: MetricCatalog = { ...VIEW_METRICS, [ADDED.name]: ADDED.entry };

const T0 = 1_763_700_000_000;
const openAt = (path: string, viewColumns?: readonly Column[]) =>
  DuckDBStore.open({
    path,
    checkpointThreshold: '16MB',
    memoryLimit: '',
    threads: 1,
    ...(viewColumns && { viewColumns }),
  });

/** A view that asks to play at T0, starts after `startupMs` and plays 10 s. */
function view(envId: string, viewId: string, startupMs: number): ActiveView {
  const v = new ActiveView(envId, viewId, viewId, 1, 0, client, T0, T0 + 60_000, { minStallMs: 250 });
  v.machine.segment('startup', T0, startupMs, zeroFacts);
  v.machine.segment('playing', T0 + startupMs, 10_000, zeroFacts);
  return v;
}

describe('a metric added to the catalog', () => {
  it('is stored in the column its migration adds, aggregated by the query layer and sent in the envelope', async () => {
    const path = join(dir, 'views.duckdb');
    // A database of the current layout, as a running server leaves it.
    const before = await openAt(path);
    expect(before.migrations.applied).toEqual(DUCKDB_MIGRATIONS.map((m) => m.id));
    await before.close();

    // Opened with the longer layout: the views-column migration derived from the entry runs once.
    const store = await openAt(path, columns);
    try {
      expect(store.migrations).toEqual({ applied: [ADDED.migration], current: ADDED.migration });
      expect(await store.select('SELECT id, name FROM schema_migrations ORDER BY id', [])).toEqual([
        ...DUCKDB_MIGRATIONS.map((m) => ({ id: m.id, name: m.name })),
        { id: ADDED.migration, name: 'views columns startup_seconds' },
      ]);
      expect(
        await store.select(
          `SELECT table_name, ordinal_position, data_type FROM information_schema.columns
           WHERE column_name = 'startup_seconds' ORDER BY table_name`,
          [],
        ),
      ).toEqual([
        { table_name: 'views', ordinal_position: columns.length, data_type: 'DOUBLE' },
        { table_name: 'views_staging', ordinal_position: columns.length, data_type: 'DOUBLE' },
      ]);

      // Two views, started after 1.2 s and 2.5 s: 2 and 3 whole seconds.
      const registry = await Registry.load(store);
      const env = await registry.createEnvironment('catalog');
      const views = [view(env.id, 'a', 1200), view(env.id, 'b', 2500)];
      const rowOf = viewRowOf(columns, catalog);
      await store.upsertViews(views.map((v) => rowOf(v, v.machine.metrics(true, catalog), T0 + 70_000)));
      expect(
        await store.select(
          `SELECT view_id, startup_seconds, video_startup_time_ms FROM views ORDER BY 1`,
          [],
        ),
      ).toEqual([
        { view_id: 'a', startup_seconds: 2, video_startup_time_ms: 1200 },
        { view_id: 'b', startup_seconds: 3, video_startup_time_ms: 2500 },
      ]);

      // The query layer: the metric's aggregates, as the overall route runs them.
      const def = metricDefinitions(catalog)['startup_seconds']!;
      expect(def).toMatchObject({ unit: 'count', defaultMeasurement: 'avg', viewsSql: 'count(*)' });
      const token = {
        id: 't',
        name: 't',
        permissions: ['data:read'] as const,
        allEnvironments: true,
        environmentIds: [],
      };
      const tf = [String(T0 / 1000 - 3600), String(T0 / 1000 + 3600)];
      const scope = buildScope({ 'timeframe[]': tf }, token, registry, undefined, store.dialect);
      const sqls = Object.values(def.sql).map((sql) => store.dialect.aggregates(sql));
      const src = await aggregationSource(store, scope, { columns: [], sqls });
      const [overall] = await store.select(
        `SELECT ${sqls.map((sql, i) => `CAST(${src.agg(sql)} AS DOUBLE) AS m${i}`).join(', ')} FROM ${src.from}`,
        scope.params.values,
      );
      expect(Object.fromEntries(Object.keys(def.sql).map((m, i) => [m, overall?.[`m${i}`]]))).toEqual({
        avg: 2.5,
        sum: 5,
        max: 3,
      });

      // The connector envelope of an event of view b.
      const b = views[1]!;
      const event = makeEvent({ viewId: 'b', sequenceNumber: 3, type: 'pause', state: 'paused' });
      const envelope = buildEnvelope({
        view: b,
        metrics: b.machine.metrics(false, catalog),
        trail: newTrail(),
        event,
        receivedAtMs: T0 + 20_000,
        userAgent: '',
        catalog,
      });
      expect(envelope.event.metrics['startup_seconds']).toBe(3);
      expect(envelope.event.metrics['video_startup_time_ms']).toBe(2500);
      // With the view's other metrics, before the event's own fields.
      const keys = Object.keys(envelope.event.metrics);
      expect(keys.indexOf('startup_seconds')).toBeLessThan(keys.indexOf('playhead_position_sec'));
    } finally {
      await store.close();
    }
  });

  it('is complete, or does not compile', () => {
    const complete: MetricEntry = { unit: 'ms', of: (s) => s.m.adMs, description: 'Time in ads' };
    // @ts-expect-error: an entry says how the metric is computed.
    const noComputation: MetricEntry = { unit: 'ms', description: 'Time in ads' };
    // @ts-expect-error: and what it means.
    const noDescription: MetricEntry = { unit: 'ms', of: (s) => s.m.adMs };
    // @ts-expect-error: a query aggregate names its kind.
    const noKind: MetricEntry = { ...complete, query: { id: 'ad_time' } };
    // @ts-expect-error: the envelope's field has a name.
    const noField: MetricEntry = { ...complete, envelope: { round: 1 } };
    expect([complete, noComputation, noDescription, noKind, noField]).toHaveLength(5);
  });
});
