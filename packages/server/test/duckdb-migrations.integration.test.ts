/**
 * The DuckDB store's numbered migrations on real databases: a data dir made
 * by the code before numbered migrations (test/fixtures/pre-migrations, made
 * by that code: see make-fixture.mjs there) upgraded by the server with
 * nothing lost; a store already up to date left alone; a store migrated by a
 * newer version refused; a migration that fails rolled back whole; a
 * generated views-column migration applied once.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { INITIAL_SCHEMA } from '../src/store/duckdb/ddl.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { DuckDBMigrationTarget } from '../src/store/duckdb/migration-ledger.js';
import { addViewColumnsMigration, DUCKDB_MIGRATIONS } from '../src/store/duckdb/migrations.js';
import { runMigrations, StoreAheadError } from '../src/store/migrations/runner.js';
import { checkViewColumns } from '../src/store/migrations/view-columns.js';
import { type Column, VIEW_COLUMNS } from '../src/store/view-row.js';
import { queryDataDir, removeDir, startServer, tempDataDir } from './helpers/server-process.js';

const FIXTURE = join(import.meta.dirname, 'fixtures/pre-migrations');
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  timeframe: [number, number];
  environments: unknown[];
  accessTokens: unknown[];
  liveStreams: unknown[];
  signingKeys: unknown[];
  views: { total_row_count: number; data: Record<string, unknown>[] };
};

const dir = tempDataDir('openqoe-migrations-');
/** Views columns added by migrations after the first: NULL in the rows the old code wrote. */
const LATER = VIEW_COLUMNS.filter((c) => (c.migration ?? 1) > 1).map((c) => c.name as string);
/** The rows of `table` without the later views columns, after checking those are NULL. */
function withoutLater(table: string, rows: unknown[] | undefined): unknown[] | undefined {
  if (!table.startsWith('views')) return rows;
  return rows?.map((r) => {
    const row = { ...(r as Record<string, unknown>) };
    for (const c of LATER) {
      expect(row[c], `${table}.${c}`).toBeNull();
      delete row[c];
    }
    return row;
  });
}
afterAll(() => removeDir(dir));

const openAt = (path: string) =>
  DuckDBStore.open({ path, checkpointThreshold: '16MB', memoryLimit: '', threads: 1 });

/** A data dir holding the fixture: the database and bootstrap.json the code before migrations left. */
function oldDataDir(name: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'openqoe.duckdb'), gunzipSync(readFileSync(join(FIXTURE, 'openqoe.duckdb.gz'))));
  copyFileSync(join(FIXTURE, 'bootstrap.json'), join(d, 'bootstrap.json'));
  return d;
}

/** Tables migrations after the first add (not in a data dir of the code before migrations). */
const LATER_TABLES = [
  'notification_channels',
  'alert_incidents',
  'alert_rules',
  'alert_silences',
  'alert_transitions',
  'series_minutes',
];

async function tableNames(dataDir: string): Promise<string[]> {
  const rows = await queryDataDir(
    dataDir,
    "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1",
  );
  return rows.map((r) => String(r['table_name']));
}

/** Every row of every table but the ledger, in a fixed order: what "nothing lost" compares. */
async function contents(dataDir: string, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = await queryDataDir(dataDir, `SELECT * FROM ${t} ORDER BY ALL`);
  return out;
}

/** Tables, columns, types and positions. */
const layout = (dataDir: string) =>
  queryDataDir(
    dataDir,
    `SELECT table_name, column_name, ordinal_position, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`,
  );

const ledger = async (dataDir: string) =>
  (await queryDataDir(dataDir, 'SELECT id, name, applied_at FROM schema_migrations ORDER BY id')).map(
    (r) => ({
      id: r['id'],
      name: r['name'],
      applied_at: r['applied_at'],
    }),
  );

describe('DuckDB migrations', () => {
  it('migration 1 is the statements the code before numbered migrations ran, less its ledger', () => {
    const old = JSON.parse(readFileSync(join(FIXTURE, 'duckdb-ddl.json'), 'utf8')) as string[];
    expect(old[0]).toMatch(/^CREATE TABLE IF NOT EXISTS schema_migrations \(version INTEGER/);
    expect(INITIAL_SCHEMA).toEqual(old.slice(1));
    expect(DUCKDB_MIGRATIONS[0]!.up).toBe(INITIAL_SCHEMA);
    checkViewColumns(DUCKDB_MIGRATIONS);
  });

  it('upgrades a data dir made by the code before numbered migrations, with nothing lost', async () => {
    const dataDir = oldDataDir('old');
    const tables = await tableNames(dataDir);
    // The old ledger: one row, version 1, whatever the layout.
    expect(await queryDataDir(dataDir, 'SELECT version FROM schema_migrations')).toEqual([{ version: 1 }]);
    const data = tables.filter((t) => t !== 'schema_migrations');
    const before = await contents(dataDir, data);
    expect(before['views']).toHaveLength(expected.views.total_row_count);
    expect(before['environments']).toHaveLength(2);
    expect(before['rejected_payloads']).toHaveLength(1);
    const oldLayout = await layout(dataDir);

    const server = await startServer({ dataDir });
    try {
      const get = async (path: string) => {
        const res = await fetch(`${server.url}${path}`, { headers: { authorization: server.adminAuth() } });
        expect(res.status, path).toBe(200);
        return (await res.json()) as { data: unknown };
      };
      // The admin token of bootstrap.json still signs in: its hash came through.
      expect((await get('/system/v1/environments')).data).toEqual(expected.environments);
      expect((await get('/system/v1/access-tokens')).data).toEqual(expected.accessTokens);
      expect((await get('/video/v1/live-streams')).data).toEqual(expected.liveStreams);
      expect((await get('/system/v1/signing-keys')).data).toEqual(expected.signingKeys);
      const [from, to] = expected.timeframe;
      expect(
        await get(
          `/data/v1/video-views?timeframe[]=${from}&timeframe[]=${to}&limit=1000&order_by=view_start&order_direction=asc`,
        ),
      ).toEqual(expected.views);
      const overall = (await get(
        `/data/v1/metrics/views/overall?timeframe[]=${from}&timeframe[]=${to}`,
      )) as unknown as { data: { value: number } };
      expect(overall.data.value).toBe(expected.views.total_row_count);
    } finally {
      expect(await server.kill()).toBe(0);
    }

    // Every table and row as the old code left it (the new server wrote no data: no beacon came).
    const after = await contents(dataDir, data);
    for (const t of data.filter((x) => x !== 'consumer_checkpoints'))
      expect(withoutLater(t, after[t]), t).toEqual(before[t]);
    // The server started a new log (the fixture has none), so only the checkpoint moved.
    expect(after['consumer_checkpoints']).toHaveLength(1);
    // The old tables as they were, and the tables later migrations add.
    expect(await tableNames(dataDir)).toEqual([...tables, ...LATER_TABLES].sort());
    for (const t of LATER_TABLES) expect(await queryDataDir(dataDir, `SELECT * FROM ${t}`), t).toEqual([]);
    const newLayout = await layout(dataDir);
    // The old tables as they were, with the later views columns appended; and the tables later migrations add.
    const isLater = (c: Record<string, unknown>) =>
      String(c['table_name']).startsWith('views') && LATER.includes(String(c['column_name']));
    const ownLayout = (c: Record<string, unknown>) =>
      c['table_name'] !== 'schema_migrations' && !LATER_TABLES.includes(String(c['table_name']));
    expect(newLayout.filter((c) => ownLayout(c) && !isLater(c))).toEqual(oldLayout.filter(ownLayout));
    const recorded = await ledger(dataDir);
    expect(recorded.map(({ id, name }) => ({ id, name }))).toEqual(
      DUCKDB_MIGRATIONS.map(({ id, name }) => ({ id, name })),
    );

    // A second open runs nothing and records nothing.
    const store = await openAt(join(dataDir, 'openqoe.duckdb'));
    expect(store.migrations).toEqual({ applied: [], current: DUCKDB_MIGRATIONS.length });
    await store.close();
    expect(await ledger(dataDir)).toEqual(recorded);
  }, 60_000);

  it('makes a fresh store with the same layout as an upgraded one, every migration recorded', async () => {
    const upgraded = oldDataDir('old-direct');
    const s1 = await openAt(join(upgraded, 'openqoe.duckdb'));
    expect(s1.migrations.applied).toEqual(DUCKDB_MIGRATIONS.map((m) => m.id));
    await s1.close();
    const fresh = join(dir, 'fresh');
    const s2 = await openAt(join(fresh, 'openqoe.duckdb'));
    expect(s2.migrations.applied).toEqual(DUCKDB_MIGRATIONS.map((m) => m.id));
    await s2.close();
    expect(await layout(fresh)).toEqual(await layout(upgraded));
    expect((await ledger(fresh)).map((r) => r.id)).toEqual(DUCKDB_MIGRATIONS.map((m) => m.id));
  });

  it('refuses a store that a newer version migrated further, and leaves it as it was', async () => {
    const path = join(dir, 'ahead', 'openqoe.duckdb');
    await (await openAt(path)).close();
    const known = DUCKDB_MIGRATIONS.length;
    const db = await DuckDBInstance.create(path);
    const conn = await db.connect();
    await conn.run(`INSERT INTO schema_migrations VALUES (${known + 1}, 'users', now()::TIMESTAMP)`);
    conn.closeSync();
    db.closeSync();
    const before = await ledger(join(dir, 'ahead'));

    const refused = await openAt(path).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(StoreAheadError);
    expect((refused as StoreAheadError).message).toContain(
      `records migration ${known + 1} (users) and this version knows migrations up to ${known}`,
    );
    expect((refused as StoreAheadError).message).toContain(path);
    // The file was released and nothing was run or recorded.
    expect(await ledger(join(dir, 'ahead'))).toEqual(before);
    // The server stops at start with the same message.
    await expect(startServer({ dataDir: join(dir, 'ahead') })).rejects.toThrow(
      /exited with 1 before listening:[\s\S]*records migration \d+ \(users\)/,
    );
    expect(await ledger(join(dir, 'ahead'))).toEqual(before);
  });

  it('rolls a failing migration back whole, and applies a generated views-column migration once', async () => {
    const path = join(dir, 'runner.duckdb');
    await (await openAt(path)).close();
    const db = await DuckDBInstance.create(path);
    const conn = await db.connect();
    try {
      const target = new DuckDBMigrationTarget(conn, path);
      const failing = [
        ...DUCKDB_MIGRATIONS,
        {
          id: DUCKDB_MIGRATIONS.length + 1,
          name: 'half',
          up: ['CREATE TABLE half (x INTEGER)', 'SELECT nope'],
        },
      ];
      await expect(runMigrations(target, failing)).rejects.toThrow(
        new RegExp(`migration ${failing.length} \\(half\\) failed`),
      );
      const tables = async () =>
        (
          await conn.runAndReadAll(
            "SELECT table_name FROM information_schema.tables WHERE table_name = 'half'",
          )
        ).currentRowCount;
      expect(await tables()).toBe(0);
      expect((await target.applied()).map((m) => m.id)).toEqual(DUCKDB_MIGRATIONS.map((m) => m.id));

      // A column a future catalog entry would add: not in VIEW_COLUMNS, so cast.
      const extra = { name: 'startup_p95_bucket', type: 'DOUBLE' } as unknown as Column;
      const withColumn = [
        ...DUCKDB_MIGRATIONS,
        addViewColumnsMigration(DUCKDB_MIGRATIONS.length + 1, 'startup bucket', [extra]),
      ];
      expect(await runMigrations(target, withColumn)).toEqual({
        applied: [withColumn.length],
        current: withColumn.length,
      });
      expect(await runMigrations(target, withColumn)).toEqual({ applied: [], current: withColumn.length });
      const cols = await conn.runAndReadAll(
        `SELECT table_name, data_type FROM information_schema.columns WHERE column_name = 'startup_p95_bucket' ORDER BY 1`,
      );
      expect(cols.getRowObjectsJson()).toEqual([
        { table_name: 'views', data_type: 'DOUBLE' },
        { table_name: 'views_staging', data_type: 'DOUBLE' },
      ]);
      // The code's VIEW_COLUMNS lacks it: a store with this list refuses to open rather than misplace columns.
      expect(() => checkViewColumns(withColumn)).toThrow(/views column \d+ is nothing in VIEW_COLUMNS/);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});
