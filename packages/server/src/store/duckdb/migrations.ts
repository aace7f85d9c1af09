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
    ],
    columns,
    addViewColumnsMigration,
  );

export const DUCKDB_MIGRATIONS = duckdbMigrations();
