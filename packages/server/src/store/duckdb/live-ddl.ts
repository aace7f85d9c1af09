/**
 * Tables of the live ingest: signing keys of the stats API (public keys
 * only), live streams with their stream keys, and the health history of
 * each stream's ingest.
 */
export const LIVE_DDL: string[] = [
  `CREATE TABLE IF NOT EXISTS signing_keys (
    id VARCHAR PRIMARY KEY,
    env_id VARCHAR NOT NULL,
    public_key VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS live_streams (
    id VARCHAR PRIMARY KEY,
    env_id VARCHAR NOT NULL,
    stream_key VARCHAR NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS live_stream_health (
    env_id VARCHAR NOT NULL,
    live_stream_id VARCHAR NOT NULL,
    measured_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    connected BOOLEAN NOT NULL,
    stream_drift_ms DOUBLE,
    stream_drift_session_avg_ms DOUBLE,
    stream_drift_deviation_from_rolling_avg_ms DOUBLE
  )`,
];
