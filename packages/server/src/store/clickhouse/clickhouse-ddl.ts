/**
 * Tables of the ClickHouse store (docs/clickhouse.md) as migration 1 makes
 * them (clickhouse/migrations.ts): exactly what the code before numbered
 * migrations ran at every open. Frozen: a change to the tables is a new
 * migration. Every table is a MergeTree; rows that change (views,
 * checkpoints, management records) are ReplacingMergeTree rows keyed by their
 * identity, so an upsert is an insert and a read with FINAL sees the newest
 * version. Retried inserts of the ledger collapse the same way, so a replay
 * never counts twice.
 */
import { INITIAL_VIEW_COLUMNS } from '../migrations/view-columns.js';
import type { Column, ColumnType } from '../view-row.js';

const CH_TYPES: Record<ColumnType, string> = {
  VARCHAR: 'String',
  DOUBLE: 'Float64',
  BIGINT: 'Int64',
  BOOLEAN: 'Bool',
  TIMESTAMP: "DateTime64(3, 'UTC')",
};

/** Identity and version of a view are never null; every other column may be. */
const NOT_NULL = new Set(['env_id', 'view_id', 'updated_at', 'view_start', 'view_end', 'first_received_at']);

export function chViewColumnType(name: string, type: ColumnType): string {
  const base = CH_TYPES[type];
  // Dimensions repeat few values: LowCardinality keeps them small and fast to group by.
  const lowCard = type === 'VARCHAR' && LOW_CARDINALITY.has(name) ? `LowCardinality(${base})` : base;
  return NOT_NULL.has(name)
    ? lowCard
    : type === 'VARCHAR' && LOW_CARDINALITY.has(name)
      ? `LowCardinality(Nullable(${base}))`
      : `Nullable(${base})`;
}

const LOW_CARDINALITY = new Set([
  'status',
  'completion_reason',
  'stream_type',
  'stream_format',
  'cdn_host',
  'cdn_provider',
  'player_name',
  'player_software',
  'player_version',
  'sdk_name',
  'sdk_version',
  'video_codec',
  'browser',
  'browser_version',
  'os',
  'os_version',
  'device_category',
  'device_brand',
  'country',
  'region',
  'outcome',
  'error_code',
]);

/** A views column as `ALTER TABLE … ADD COLUMN` and `CREATE TABLE` write it. */
export const chViewColumn = (c: Column): string => `${c.name} ${chViewColumnType(c.name, c.type)}`;

/** Migration 1's tables, made when missing. */
export function initialSchemaDdl(): string[] {
  const viewColumns = INITIAL_VIEW_COLUMNS.map(chViewColumn).join(',\n    ');
  return [
    // One row per beacon and view. Keyed by its place in the log, so a retried insert collapses;
    // the key also answers "where does the stored ledger end" from the primary index.
    `CREATE TABLE IF NOT EXISTS beacons (
    env_id LowCardinality(String),
    view_id String,
    first_seq Int32,
    last_seq Int32,
    seq_count Int32,
    sample_count Int32,
    event_count Int32,
    received_at DateTime64(3, 'UTC'),
    clock_offset_ms Float64,
    log_id LowCardinality(String),
    log_position Int64
  ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(received_at)
    ORDER BY (log_id, log_position, env_id, view_id, first_seq)`,
    // The newest version (a microsecond clock, never repeated by one process) wins.
    `CREATE TABLE IF NOT EXISTS consumer_checkpoints (
    consumer String,
    log_id String,
    position Int64,
    version UInt64
  ) ENGINE = ReplacingMergeTree(version)
    ORDER BY consumer`,
    `CREATE TABLE IF NOT EXISTS rejected_payloads (
    id String,
    received_at DateTime64(3, 'UTC'),
    env_id Nullable(String),
    ip String,
    user_agent String,
    route LowCardinality(String),
    code LowCardinality(String),
    messages String,
    fields String,
    body String,
    body_bytes Int64,
    truncated Bool
  ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(received_at)
    ORDER BY (received_at, id)`,
    `CREATE TABLE IF NOT EXISTS environments (
    id String,
    name String,
    key String,
    created_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree
    ORDER BY id`,
    `CREATE TABLE IF NOT EXISTS access_tokens (
    id String,
    name String,
    secret_hash String,
    permissions Array(String),
    environment_ids Array(String),
    all_environments Bool,
    created_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree
    ORDER BY id`,
    `CREATE TABLE IF NOT EXISTS signing_keys (
    id String,
    env_id String,
    public_key String,
    created_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree
    ORDER BY id`,
    `CREATE TABLE IF NOT EXISTS live_streams (
    id String,
    env_id String,
    stream_key String,
    created_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree
    ORDER BY id`,
    `CREATE TABLE IF NOT EXISTS live_stream_health (
    env_id String,
    live_stream_id String,
    measured_at DateTime64(3, 'UTC'),
    status LowCardinality(String),
    connected Bool,
    stream_drift_ms Nullable(Float64),
    stream_drift_session_avg_ms Nullable(Float64),
    stream_drift_deviation_from_rolling_avg_ms Nullable(Float64)
  ) ENGINE = MergeTree
    ORDER BY (env_id, live_stream_id, measured_at)`,
    // Views are upserted as they progress: the row with the latest updated_at per sorting key is the
    // view, and queries read `views FINAL`. The key must never change for a view, so the time a
    // timeframe selects on (view_end) cannot be in it; the hour the view's first data arrived can,
    // because the store keeps it fixed across versions (ClickHouseStore.upsertViews). Leading with
    // it keeps each granule's views close in time: the minmax index on view_end then skips what is
    // outside a timeframe, and FINAL merges small key ranges (a query over one hour of two million
    // views: 8–39 ms against 212–264 ms with (env_id, view_id)). One-view lookups use the bloom
    // filter on view_id. Granules of 1024 rows, not 8192: rows are wide (a timeline each).
    `CREATE TABLE IF NOT EXISTS views (
    ${viewColumns},
    INDEX view_end_minmax view_end TYPE minmax GRANULARITY 1,
    INDEX view_id_bloom view_id TYPE bloom_filter GRANULARITY 1
  ) ENGINE = ReplacingMergeTree(updated_at)
    PARTITION BY toDate(first_received_at)
    ORDER BY (env_id, toStartOfHour(first_received_at), view_id)
    SETTINGS index_granularity = 1024`,
  ];
}
