/**
 * The ClickHouse store's numbered migrations, on chDB (and over HTTP when
 * CLICKHOUSE_URL names a server): a database made with the statements the
 * code before numbered migrations ran (captured in
 * test/fixtures/pre-migrations/clickhouse-ddl.json) and holding rows in every
 * table is opened by the store with nothing lost and every migration
 * recorded once; a views table of an older layout gets its missing columns;
 * a database migrated further than this code is refused; an interrupted
 * migration runs again cleanly; a generated views-column migration applies
 * once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ActiveView } from '../src/pipeline/view-model/active-views.js';
import { viewRow } from '../src/pipeline/view-model/view-row.js';
import { ChdbConnection } from '../src/store/clickhouse/chdb-connection.js';
import { initialSchemaDdl } from '../src/store/clickhouse/clickhouse-ddl.js';
import { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.js';
import { type ChConnection, chTime } from '../src/store/clickhouse/connection.js';
import { HttpConnection } from '../src/store/clickhouse/http-connection.js';
import { ClickHouseMigrationTarget } from '../src/store/clickhouse/migration-ledger.js';
import { addViewColumnsMigration, CLICKHOUSE_MIGRATIONS } from '../src/store/clickhouse/migrations.js';
import { LiveStore } from '../src/store/live-store.js';
import { runMigrations, StoreAheadError } from '../src/store/migrations/runner.js';
import { checkViewColumns, INITIAL_VIEW_COLUMNS } from '../src/store/migrations/view-columns.js';
import { type Column, VIEW_COLUMNS, type ViewRow } from '../src/store/view-row.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { type StoreUnderTest, storesUnderTest, titleOf } from './helpers/stores.js';
import { client, playing720p } from './helpers/view-fixtures.js';

const OLD_DDL = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures/pre-migrations/clickhouse-ddl.json'), 'utf8'),
) as string[];
const IDS = CLICKHOUSE_MIGRATIONS.map((m) => m.id);
const T0 = 1_763_700_000_000;

const dir = tempDataDir('openqoe-chmigrations-');
afterAll(() => removeDir(dir));

it('migration 1 of the ClickHouse store makes the tables the code before numbered migrations made', () => {
  expect(initialSchemaDdl()).toEqual(OLD_DDL);
  checkViewColumns(CLICKHOUSE_MIGRATIONS);
});

function view(viewId: string, watchMs: number): ViewRow {
  const v = new ActiveView('env-a', viewId, viewId, 1, 0, client, T0, T0 + 60_000, { minStallMs: 250 });
  v.machine.segment('playing', T0, watchMs, playing720p);
  return viewRow(v, v.machine.metrics(true), T0 + 90_000);
}

/** Rows of a view as the old store inserted them: its columns by name, times as ClickHouse text. */
async function insertViews(
  conn: ChConnection,
  rows: ViewRow[],
  columns: readonly Column[] = INITIAL_VIEW_COLUMNS,
) {
  const at = columns.map((c) => VIEW_COLUMNS.findIndex((x) => x.name === c.name));
  await conn.insert(
    'views',
    columns.map((c) => c.name),
    rows.map((r) =>
      at.map((i, k) => (columns[k]!.type === 'TIMESTAMP' && r[i] !== null ? chTime(Number(r[i])) : r[i])),
    ),
  );
}

/** One or more rows in every table of the old schema. */
async function fillOldTables(conn: ChConnection): Promise<void> {
  await conn.insert(
    'environments',
    ['id', 'name', 'key', 'created_at'],
    [
      ['env-a', 'default', 'key-a', chTime(T0)],
      ['env-b', 'staging', 'key-b', chTime(T0 + 1)],
    ],
  );
  await conn.insert(
    'access_tokens',
    ['id', 'name', 'secret_hash', 'permissions', 'environment_ids', 'all_environments', 'created_at'],
    [['tok-1', 'admin', 'hash-1', ['data:read', 'system'], [], true, chTime(T0)]],
  );
  await conn.insert(
    'signing_keys',
    ['id', 'env_id', 'public_key', 'created_at'],
    [['key-1', 'env-a', 'PEM', chTime(T0)]],
  );
  await conn.insert(
    'live_streams',
    ['id', 'env_id', 'stream_key', 'created_at'],
    [['ls-1', 'env-a', 'sk-1', chTime(T0)]],
  );
  await conn.insert(
    'live_stream_health',
    [
      'env_id',
      'live_stream_id',
      'measured_at',
      'status',
      'connected',
      'stream_drift_ms',
      'stream_drift_session_avg_ms',
      'stream_drift_deviation_from_rolling_avg_ms',
    ],
    [
      ['env-a', 'ls-1', chTime(T0), 'active', true, 12.5, 10, 2.5],
      ['env-a', 'ls-1', chTime(T0 + 1000), 'idle', false, null, null, null],
    ],
  );
  await conn.insert(
    'beacons',
    [
      'env_id',
      'view_id',
      'first_seq',
      'last_seq',
      'seq_count',
      'sample_count',
      'event_count',
      'received_at',
      'clock_offset_ms',
      'log_id',
      'log_position',
    ],
    [
      ['env-a', 'v1', 0, 2, 3, 2, 1, chTime(T0), 7, 'log-1', 0],
      ['env-a', 'v2', 0, 1, 2, 2, 0, chTime(T0 + 5), 3, 'log-1', 512],
    ],
  );
  await conn.insert(
    'consumer_checkpoints',
    ['consumer', 'log_id', 'position', 'version'],
    [['pipeline', 'log-1', 1024, 1]],
  );
  await conn.insert(
    'rejected_payloads',
    [
      'id',
      'received_at',
      'env_id',
      'ip',
      'user_agent',
      'route',
      'code',
      'messages',
      'fields',
      'body',
      'body_bytes',
      'truncated',
    ],
    [
      [
        'rej-1',
        chTime(T0),
        'env-a',
        '192.0.2.1',
        'ua',
        '/v1/beacon',
        'QOE_ERR_VALIDATION',
        '[]',
        '[]',
        '{}',
        2,
        false,
      ],
    ],
  );
  await insertViews(conn, [view('v1', 10_000), view('v2', 20_000)]);
}

/** Tables migrations after the first add (not in a database of the code before migrations). */
const LATER_TABLES = [
  'notification_channels',
  'alert_incidents',
  'alert_rules',
  'alert_silences',
  'alert_transitions',
  'series_minutes',
];
/** A snapshot without the tables later migrations add: the old code's tables as it left them. */
const oldTablesOf = (snap: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(snap).filter(([t]) => !LATER_TABLES.includes(t)));

const tableNames = async (conn: ChConnection) =>
  (
    await conn.query(
      "SELECT name FROM system.tables WHERE database = currentDatabase() AND name != 'schema_migrations' ORDER BY name",
      {},
    )
  ).rows.map((r) => String(r[0]));

/** Every table's engine, columns and rows: what "nothing lost, nothing changed" compares. */
async function snapshot(conn: ChConnection) {
  const out: Record<string, unknown> = {};
  for (const t of await tableNames(conn)) {
    out[t] = {
      engine: (
        await conn.query(
          'SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}',
          { t },
        )
      ).rows,
      columns: (
        await conn.query(
          'SELECT name, type, position FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position',
          { t },
        )
      ).rows,
      rows: (await conn.query(`SELECT * FROM ${t} ORDER BY ALL`, {})).rows,
    };
  }
  return out;
}

/**
 * A snapshot without the views columns later migrations appended (after checking they are NULL in
 * every row): what the old code's tables must still be.
 */
function withoutLater(snap: Record<string, unknown>): Record<string, unknown> {
  const views = snap['views'] as { columns: unknown[][]; rows: unknown[][] } | undefined;
  if (!views) return snap;
  const n = INITIAL_VIEW_COLUMNS.length;
  for (const r of views.rows) expect(r.slice(n).every((v) => v === null)).toBe(true);
  return {
    ...snap,
    views: { ...views, columns: views.columns.slice(0, n), rows: views.rows.map((r) => r.slice(0, n)) },
  };
}

const ledger = async (conn: ChConnection) =>
  (await conn.query('SELECT id, name, applied_at FROM schema_migrations ORDER BY ALL', {})).rows;

for (const kind of storesUnderTest().filter((s) => s.kind !== 'duckdb'))
  describe.skipIf(kind.skip !== undefined)(titleOf('ClickHouse migrations', kind), () => {
    /** A connection to database `name`: a chDB data dir, or a database of the server. */
    const connect = (s: StoreUnderTest, name: string): Promise<ChConnection> => {
      if (s.kind === 'chdb') return ChdbConnection.open(join(dir, name));
      const u = new URL(s.url!);
      u.pathname = `${u.pathname}_${name.replace(/\W/g, '_')}`;
      return HttpConnection.open({ url: u, asyncInsert: false, requestTimeoutMs: 30_000 });
    };
    /** Runs `fn` on a connection of its own, closed after (chDB: one session per data dir at a time). */
    const using = async <T>(name: string, fn: (conn: ChConnection) => Promise<T>): Promise<T> => {
      const conn = await connect(kind, name);
      try {
        return await fn(conn);
      } finally {
        await conn.close();
      }
    };

    /** Opens the store on database `name`, runs `fn` and closes it, whatever `fn` does. */
    const withStore = async (name: string, fn: (store: ClickHouseStore) => Promise<void>) => {
      const store = await ClickHouseStore.open(await connect(kind, name));
      try {
        await fn(store);
      } finally {
        // chDB: a session left open would hold the engine for the tests after this one.
        await store.close();
      }
    };

    it('opens a database made by the code before numbered migrations with nothing lost, and records every migration once', async () => {
      const before = await using('old', async (conn) => {
        for (const sql of OLD_DDL) await conn.command(sql);
        await fillOldTables(conn);
        return snapshot(conn);
      });
      await withStore('old', async (store) => {
        expect(store.migrations).toEqual({ applied: IDS, current: IDS.length });
        // Through the store's own reads, as the server reads them.
        expect(await store.listEnvironments()).toEqual([
          { id: 'env-a', name: 'default', key: 'key-a', createdAtMs: T0 },
          { id: 'env-b', name: 'staging', key: 'key-b', createdAtMs: T0 + 1 },
        ]);
        expect((await store.listAccessTokens()).map((t) => [t.id, t.permissions, t.allEnvironments])).toEqual(
          [['tok-1', ['data:read', 'system'], true]],
        );
        const live = new LiveStore(store);
        expect(await live.signingKeys()).toEqual([
          { id: 'key-1', envId: 'env-a', publicKeyPem: 'PEM', createdAtMs: T0 },
        ]);
        expect(await live.liveStreams()).toEqual([
          { id: 'ls-1', envId: 'env-a', streamKey: 'sk-1', createdAtMs: T0 },
        ]);
        expect((await live.health('env-a', 'ls-1', T0, 10)).map((h) => [h.status, h.driftMs])).toEqual([
          ['active', 12.5],
          ['idle', null],
        ]);
        expect(await store.readCheckpoint('pipeline')).toEqual({
          consumer: 'pipeline',
          logId: 'log-1',
          position: 1024,
        });
        expect(await store.lastLoggedPosition('log-1')).toBe(512);
        expect(
          await store.select(
            `SELECT view_id, watch_time_ms, country FROM ${store.dialect.views} ORDER BY view_id`,
            [],
          ),
        ).toEqual([
          { view_id: 'v1', watch_time_ms: 10_000, country: 'DE' },
          { view_id: 'v2', watch_time_ms: 20_000, country: 'DE' },
        ]);
      });

      const recorded = await using('old', async (conn) => {
        // Every table, its engine, columns and rows as the old code left them (the later views columns
        // NULL); the later tables added.
        const after = await snapshot(conn);
        expect(withoutLater(oldTablesOf(after))).toEqual(before);
        expect(Object.keys(after)).toEqual(expect.arrayContaining(LATER_TABLES));
        const rows = await ledger(conn);
        expect(rows.map((r) => [r[0], r[1]])).toEqual(CLICKHOUSE_MIGRATIONS.map((m) => [m.id, m.name]));
        return rows;
      });

      // A second open runs nothing and records nothing.
      await withStore('old', async (store) => {
        expect(store.migrations).toEqual({ applied: [], current: IDS.length });
      });
      await using('old', async (conn) => {
        expect(await ledger(conn)).toEqual(recorded);
        expect(withoutLater(oldTablesOf(await snapshot(conn)))).toEqual(before);
      });
    });

    it('adds the views columns a table of an older layout lacks, with the types of a fresh table', async () => {
      const older = INITIAL_VIEW_COLUMNS.filter((c) => !c.name.startsWith('webrtc_'));
      await using('older', async (conn) => {
        for (const sql of OLD_DDL) await conn.command(sql);
        for (const c of VIEW_COLUMNS.filter((x) => x.name.startsWith('webrtc_')))
          await conn.command(`ALTER TABLE views DROP COLUMN ${c.name}`);
        await insertViews(conn, [view('v1', 10_000)], older);
      });
      await withStore('older', async (store) => {
        await store.upsertViews([view('v2', 20_000)]);
        expect(
          await store.select(
            `SELECT view_id, watch_time_ms, webrtc_fps FROM ${store.dialect.views} ORDER BY view_id`,
            [],
          ),
        ).toEqual([
          { view_id: 'v1', watch_time_ms: 10_000, webrtc_fps: null },
          { view_id: 'v2', watch_time_ms: 20_000, webrtc_fps: null },
        ]);
      });
      const columns = (name: string) =>
        using(
          name,
          async (conn) =>
            (
              await conn.query(
                "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'views' ORDER BY position",
                {},
              )
            ).rows,
        );
      await withStore('fresh', async () => {});
      expect(await columns('older')).toEqual(await columns('fresh'));
    });

    it('refuses a database that a newer version migrated further, and leaves it as it was', async () => {
      await withStore('ahead', async () => {});
      const known = IDS.length;
      const before = await using('ahead', async (conn) => {
        await conn.insert(
          'schema_migrations',
          ['id', 'name', 'applied_at'],
          [[known + 1, 'users', chTime(Date.now())]],
        );
        return ledger(conn);
      });
      const refused = await ClickHouseStore.open(await connect(kind, 'ahead')).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(StoreAheadError);
      expect((refused as Error).message).toContain(
        `records migration ${known + 1} (users) and this version knows migrations up to ${known}`,
      );
      // The connection was closed (chDB: the data dir is free again) and nothing was recorded.
      expect(await using('ahead', ledger)).toEqual(before);
    });

    it('runs a migration interrupted half-way again whole, and a generated views-column migration once', async () => {
      await using('interrupted', async (conn) => {
        // As a process stopped after some of migration 1's steps: half the tables, no ledger row.
        const ddl = initialSchemaDdl();
        for (const sql of ddl.slice(0, ddl.length / 2)) await conn.command(sql);
        const target = new ClickHouseMigrationTarget(conn);
        expect(await runMigrations(target, CLICKHOUSE_MIGRATIONS)).toEqual({
          applied: IDS,
          current: IDS.length,
        });
        expect(await tableNames(conn)).toEqual(
          [
            'access_tokens',
            'beacons',
            'consumer_checkpoints',
            'environments',
            'live_stream_health',
            'live_streams',
            'rejected_payloads',
            'signing_keys',
            'views',
            ...LATER_TABLES,
          ].sort(),
        );

        // A column a future catalog entry would add: not in VIEW_COLUMNS, so cast.
        const extra = { name: 'startup_p95_bucket', type: 'DOUBLE' } as unknown as Column;
        const next = addViewColumnsMigration(IDS.length + 1, 'startup bucket', [extra]);
        // Its steps run once already (a crash before its ledger row): running it whole again is clean.
        for (const sql of next.up as string[]) await conn.command(sql);
        const list = [...CLICKHOUSE_MIGRATIONS, next];
        expect(await runMigrations(target, list)).toEqual({ applied: [next.id], current: list.length });
        expect(await runMigrations(target, list)).toEqual({ applied: [], current: list.length });
        expect(
          (
            await conn.query(
              "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'views' AND name = 'startup_p95_bucket'",
              {},
            )
          ).rows,
        ).toEqual([['Nullable(Float64)']]);
        expect((await ledger(conn)).map((r) => r[0])).toEqual(list.map((m) => m.id));
      });
    });
  });
