/**
 * Tables and views of the DuckDB store. The typed `samples` and `events`
 * views are generated from the beacon schema, so a field added there is a
 * column here with no second list to keep in step.
 */
import { PlayerEventSchema, SampleSchema } from '@openqoe/schema';
import type { TObject, TSchema } from '@sinclair/typebox';
import { viewsTableDdl } from '../view-row.js';
import { LIVE_DDL } from './live-ddl.js';

export const snakeCase = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([a-zA-Z])(\d+)/g, '$1_$2')
    .toLowerCase();

function duckType(schema: TSchema): string {
  switch (schema['type']) {
    case 'integer':
      return 'BIGINT';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'VARCHAR';
  }
}

/** A view that unnests one array of every raw beacon row into typed, snake_case columns. */
function unnestView(name: string, arrayKey: string, schema: TObject): string {
  // A raw row holds one view's items, so its own indexed-by-zone-map view_id column stands for the
  // items' viewId: filters on view_id then reach the raw table scan instead of every unnested body.
  const fields = Object.entries(schema.properties).filter(([k]) => k !== 'viewId');
  const struct = `{${fields.map(([k, s]) => `"${k}": "${duckType(s as TSchema)}"`).join(', ')}}`;
  const columns = fields.map(([k]) => `x."${k}" AS ${snakeCase(k)}`).join(',\n    ');
  return `CREATE OR REPLACE VIEW ${name} AS
SELECT
    b.env_id,
    b.view_id,
    b.received_at,
    b.clock_offset_ms,
    to_timestamp((x."viewerTime" + b.clock_offset_ms) / 1000.0) AS event_time,
    b.ip,
    b.user_agent,
    ${columns}
FROM raw_beacons b,
     LATERAL (SELECT unnest(from_json(json_extract(b.body, '$.${arrayKey}'), '[${struct.replace(/'/g, "''")}]')) AS x)`;
}

export const DDL: string[] = [
  `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS raw_beacons (
    env_id VARCHAR NOT NULL,
    view_id VARCHAR NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    seq_count INTEGER NOT NULL,
    sample_count INTEGER NOT NULL,
    event_count INTEGER NOT NULL,
    received_at TIMESTAMP NOT NULL,
    clock_offset_ms DOUBLE NOT NULL,
    ip VARCHAR NOT NULL,
    user_agent VARCHAR NOT NULL,
    body VARCHAR NOT NULL
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
  unnestView('samples', 'samples', SampleSchema),
  unnestView('events', 'events', PlayerEventSchema),
];

export const SCHEMA_VERSION_DB = 1;
