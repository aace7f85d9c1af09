/**
 * The DuckDB store's migrations, in order (store/migrations/runner.ts runs
 * them when the store opens). Append only: a released migration is never
 * edited, renumbered or removed; a change to the tables is a new entry with
 * the next id. Views columns get theirs from their list (store/view-row.ts).
 * Each runs in a transaction with its ledger row.
 */
import type { Migration } from '../migrations/runner.js';
import { INITIAL_VIEW_COLUMNS, withViewColumnMigrations } from '../migrations/view-columns.js';
import { NOTIFICATION_CHANNELS_DUCKDB_DDL } from '../notification-channel-store.js';
import { type Column, VIEW_COLUMNS } from '../view-row.js';
import { addViewColumnsDdl, INITIAL_SCHEMA } from './ddl.js';

/**
 * Alerting (alerts/alert-repository.ts): rules and silences made through the API, incidents, and each
 * incident's transitions with how far their notification got. Rows are replaced whole by id
 * (`INSERT OR REPLACE`); `version` orders them as ClickHouse's ReplacingMergeTree does.
 */
const ALERTS_DDL = [
  'CREATE TABLE IF NOT EXISTS alert_rules (id VARCHAR PRIMARY KEY, env_id VARCHAR NOT NULL, body VARCHAR NOT NULL, version BIGINT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS alert_silences (id VARCHAR PRIMARY KEY, env_id VARCHAR NOT NULL, body VARCHAR NOT NULL, version BIGINT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS alert_incidents (
    id VARCHAR PRIMARY KEY, env_id VARCHAR NOT NULL, rule_id VARCHAR NOT NULL, status VARCHAR NOT NULL,
    severity VARCHAR NOT NULL, started_at BIGINT NOT NULL, resolved_at BIGINT, body VARCHAR NOT NULL,
    version BIGINT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS alert_transitions (
    id VARCHAR PRIMARY KEY, incident_id VARCHAR NOT NULL, env_id VARCHAR NOT NULL, rule_id VARCHAR NOT NULL,
    transition VARCHAR NOT NULL, at_ms BIGINT NOT NULL, delivery VARCHAR NOT NULL, notice VARCHAR NOT NULL,
    version BIGINT NOT NULL
  )`,
];

/**
 * Per-series history (alerts/series-history.ts): per environment, minute and series (the whole
 * environment has dimension and value ''), the sums of the real-time metrics over the minute's ticks.
 */
const SERIES_MINUTES_DDL = [
  `CREATE TABLE IF NOT EXISTS series_minutes (
    env_id VARCHAR NOT NULL, minute_ms BIGINT NOT NULL, dimension VARCHAR NOT NULL, value VARCHAR NOT NULL,
    concurrent DOUBLE NOT NULL, starting_up DOUBLE NOT NULL, watch_ms DOUBLE NOT NULL, rebuffer_ms DOUBLE NOT NULL, bitrate_sum DOUBLE NOT NULL, bitrate_n DOUBLE NOT NULL, started DOUBLE NOT NULL, startup_failed DOUBLE NOT NULL, ebvs DOUBLE NOT NULL, playback_failed DOUBLE NOT NULL, startup_sum DOUBLE NOT NULL, startup_n DOUBLE NOT NULL, ticks DOUBLE NOT NULL
  )`,
];

/** A migration that appends `columns` to the views tables (`views` and `views_staging`), in order. */
export function addViewColumnsMigration(id: number, name: string, columns: readonly Column[]): Migration {
  return { id, name, up: addViewColumnsDdl(columns), viewColumns: columns };
}

/** The migrations for the views layout `columns`: the list below and the views-column ones they name. */
export const duckdbMigrations = (columns: readonly Column[] = VIEW_COLUMNS): readonly Migration[] =>
  withViewColumnMigrations(
    [
      // The tables of the code before numbered migrations: on a database it made, a no-op that is recorded.
      { id: 1, name: 'initial schema', up: INITIAL_SCHEMA, viewColumns: INITIAL_VIEW_COLUMNS },
      { id: 2, name: 'notification channels', up: NOTIFICATION_CHANNELS_DUCKDB_DDL },
      // 3: views columns (store/view-row.ts)
      { id: 4, name: 'alert rules, silences, incidents and their transitions', up: ALERTS_DDL },
      // 5: views columns (store/view-row.ts)
      { id: 6, name: 'per-series minute history', up: SERIES_MINUTES_DDL },
    ],
    columns,
    addViewColumnsMigration,
  );

export const DUCKDB_MIGRATIONS = duckdbMigrations();
