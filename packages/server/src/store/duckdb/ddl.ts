/**
 * Tables of the DuckDB store. Beacons themselves stay in the log (see
 * docs/architecture.md, "Where raw beacons live"); the store keeps one
 * ledger row per beacon and view, and the views with their timelines.
 */
import { viewsTableDdl } from '../view-row.js';
import { LIVE_DDL } from './live-ddl.js';

export const snakeCase = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([a-zA-Z])(\d+)/g, '$1_$2')
    .toLowerCase();

export const DDL: string[] = [
  `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`,
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
  ...viewsTableDdl(),
  ...LIVE_DDL,
];

export const SCHEMA_VERSION_DB = 1;
