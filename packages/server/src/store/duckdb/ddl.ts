/**
 * Tables of the DuckDB store as migration 1 makes them (duckdb/migrations.ts):
 * exactly what the code before numbered migrations ran at every open, so on a
 * database it made they change nothing. Frozen: a change to the tables is a
 * new migration. Beacons themselves stay in the log (see docs/architecture.md,
 * "Where raw beacons live"); the store keeps one ledger row per beacon and
 * view, and the views with their timelines.
 */
import { INITIAL_VIEW_COLUMNS } from '../migrations/view-columns.js';
import type { Column } from '../view-row.js';
import { LIVE_DDL } from './live-ddl.js';

/** Batches of views land in `views_staging` first and move to `views` with one upsert: both have every column. */
const VIEW_TABLES = ['views', 'views_staging'];

/** `ALTER TABLE … ADD COLUMN IF NOT EXISTS` of each column to both views tables, appended in order. */
export function addViewColumnsDdl(columns: readonly Column[]): string[] {
  return VIEW_TABLES.flatMap((table) =>
    columns.map((c) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${c.name} ${c.type}`),
  );
}

function initialViewsDdl(): string[] {
  const columns = INITIAL_VIEW_COLUMNS.map((c) => `${c.name} ${c.type}`).join(',\n    ');
  return [
    `CREATE TABLE IF NOT EXISTS views (\n    ${columns},\n    PRIMARY KEY (env_id, view_id)\n  )`,
    `CREATE TABLE IF NOT EXISTS views_staging (\n    ${columns}\n  )`,
    // Columns added to the first layout (`timeline` onwards) before numbered migrations, appended in
    // list order so a table made by an older version gets them at the same positions.
    ...addViewColumnsDdl(
      INITIAL_VIEW_COLUMNS.slice(INITIAL_VIEW_COLUMNS.findIndex((c) => c.name === 'timeline')),
    ),
  ];
}

/** Migration 1. The ledger (`schema_migrations`) is the migration runner's, not part of it. */
export const INITIAL_SCHEMA: readonly string[] = [
  // Databases of the first layout kept bodies in raw_beacons and unnested them in these views.
  `DROP VIEW IF EXISTS samples`,
  `DROP VIEW IF EXISTS events`,
  `CREATE TABLE IF NOT EXISTS beacons (
    env_id VARCHAR NOT NULL,
    view_id VARCHAR NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    seq_count INTEGER NOT NULL,
    sample_count INTEGER NOT NULL,
    event_count INTEGER NOT NULL,
    received_at TIMESTAMP NOT NULL,
    clock_offset_ms DOUBLE NOT NULL,
    log_id VARCHAR NOT NULL,
    log_position BIGINT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS consumer_checkpoints (
    consumer VARCHAR PRIMARY KEY,
    log_id VARCHAR NOT NULL,
    position BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS rejected_payloads (
    id VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    env_id VARCHAR,
    ip VARCHAR NOT NULL,
    user_agent VARCHAR NOT NULL,
    route VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    messages JSON NOT NULL,
    fields JSON NOT NULL,
    body VARCHAR NOT NULL,
    body_bytes BIGINT NOT NULL,
    truncated BOOLEAN NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS environments (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    key VARCHAR NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS access_tokens (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    secret_hash VARCHAR NOT NULL,
    permissions VARCHAR[] NOT NULL,
    environment_ids VARCHAR[] NOT NULL,
    all_environments BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
  )`,
  ...initialViewsDdl(),
  ...LIVE_DDL,
];
