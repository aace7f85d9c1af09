/**
 * The ClickHouse store's migrations, in order (store/migrations/runner.ts
 * runs them when the store opens). Append only: a released migration is
 * never edited, renumbered or removed; a change to the tables is a new entry
 * with the next id. Views columns get theirs from their list (store/view-row.ts).
 *
 * ClickHouse has no transactions for DDL, and a migration is recorded only
 * after its last step: a process stopped half-way runs the whole migration
 * again at its next open, and several processes opening one database at once
 * may each run it. So every step must be idempotent: `CREATE … IF NOT
 * EXISTS`, `ADD COLUMN IF NOT EXISTS`, `DROP … IF EXISTS`, and a step that
 * moves data reads first what is already there (or writes rows that collapse
 * on their key).
 */
import type { Migration, MigrationSql } from '../migrations/runner.js';
import { INITIAL_VIEW_COLUMNS, withViewColumnMigrations } from '../migrations/view-columns.js';
import { NOTIFICATION_CHANNELS_CLICKHOUSE_DDL } from '../notification-channel-store.js';
import { type Column, VIEW_COLUMNS } from '../view-row.js';
import { chViewColumn, initialSchemaDdl } from './clickhouse-ddl.js';

/** A migration that adds `columns` to the views table (after its others, in order). */
export function addViewColumnsMigration(id: number, name: string, columns: readonly Column[]): Migration {
  return {
    id,
    name,
    up: columns.map((c) => `ALTER TABLE views ADD COLUMN IF NOT EXISTS ${chViewColumn(c)}`),
    viewColumns: columns,
  };
}

/**
 * Migration 1: the tables when missing, then the views columns a table made by an older version
 * lacks (what that code did at every open), appended in list order.
 */
async function initialSchema(sql: MigrationSql): Promise<void> {
  for (const statement of initialSchemaDdl()) await sql.run(statement);
  const have = new Set(
    (
      await sql.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'views'",
      )
    ).map((r) => String(r['name'])),
  );
  for (const c of INITIAL_VIEW_COLUMNS)
    if (!have.has(c.name)) await sql.run(`ALTER TABLE views ADD COLUMN IF NOT EXISTS ${chViewColumn(c)}`);
}

/**
 * Alerting (alerts/alert-repository.ts), as the management tables: ReplacingMergeTree rows keyed by
 * id, the highest `version` read with FINAL, so replacing a row is inserting it again.
 */
const replacing = (table: string, columns: string) =>
  `CREATE TABLE IF NOT EXISTS ${table} (${columns}, version Int64) ENGINE = ReplacingMergeTree(version) ORDER BY id`;
const ALERTS_DDL = [
  replacing('alert_rules', 'id String, env_id String, body String'),
  replacing('alert_silences', 'id String, env_id String, body String'),
  replacing(
    'alert_incidents',
    'id String, env_id String, rule_id String, status LowCardinality(String), severity LowCardinality(String), ' +
      'started_at Int64, resolved_at Nullable(Int64), body String',
  ),
  replacing(
    'alert_transitions',
    'id String, incident_id String, env_id String, rule_id String, transition LowCardinality(String), ' +
      'at_ms Int64, delivery LowCardinality(String), notice String',
  ),
];

/**
 * Per-series history (alerts/series-history.ts): per environment, minute and series, the sums of the
 * real-time metrics over the minute's ticks; one partition per UTC day, so retention drops whole days.
 */
const SERIES_MINUTES_DDL = [
  `CREATE TABLE IF NOT EXISTS series_minutes (
    env_id LowCardinality(String), minute_ms Int64, dimension LowCardinality(String), value String,
    concurrent Float64, starting_up Float64, watch_ms Float64, rebuffer_ms Float64, bitrate_sum Float64, bitrate_n Float64, started Float64, startup_failed Float64, ebvs Float64, playback_failed Float64, startup_sum Float64, startup_n Float64, ticks Float64
  ) ENGINE = MergeTree PARTITION BY intDiv(minute_ms, 86400000) ORDER BY (env_id, dimension, value, minute_ms)`,
];

/** The migrations for the views layout `columns`: the list below and the views-column ones they name. */
export const clickhouseMigrations = (columns: readonly Column[] = VIEW_COLUMNS): readonly Migration[] =>
  withViewColumnMigrations(
    [
      { id: 1, name: 'initial schema', up: initialSchema, viewColumns: INITIAL_VIEW_COLUMNS },
      { id: 2, name: 'notification channels', up: NOTIFICATION_CHANNELS_CLICKHOUSE_DDL },
      // 3: views columns (store/view-row.ts)
      { id: 4, name: 'alert rules, silences, incidents and their transitions', up: ALERTS_DDL },
      // 5: views columns (store/view-row.ts)
      { id: 6, name: 'per-series minute history', up: SERIES_MINUTES_DDL },
    ],
    columns,
    addViewColumnsMigration,
  );

export const CLICKHOUSE_MIGRATIONS = clickhouseMigrations();
