/**
 * Persistence of the alert notification channels (one environment each), as
 * parameterised SQL on the store's management connection, in the store's
 * dialect. Secrets are a column of their own so no read of the settings can
 * carry them by accident. DuckDB replaces the row; ClickHouse keeps versions
 * (ReplacingMergeTree on `updated_at`) and reads the newest.
 */
import type { SqlRunner } from './live-store.js';

export interface NotificationChannelRecord {
  id: string;
  envId: string;
  name: string;
  type: string;
  /** What the API may show. */
  settings: Record<string, unknown>;
  /** Write-only values (signing secret, routing key, Slack URL, SMTP password). */
  secrets: Record<string, string>;
  createdAtMs: number;
  updatedAtMs: number;
}

/** Migration of both stores' next id: the channels table (DuckDB spelling). */
export const NOTIFICATION_CHANNELS_DUCKDB_DDL = [
  `CREATE TABLE IF NOT EXISTS notification_channels (
    id VARCHAR PRIMARY KEY,
    env_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    settings VARCHAR NOT NULL,
    secrets VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
  )`,
];

export const NOTIFICATION_CHANNELS_CLICKHOUSE_DDL = [
  `CREATE TABLE IF NOT EXISTS notification_channels (
    id String,
    env_id String,
    name String,
    type LowCardinality(String),
    settings String,
    secrets String,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree(updated_at)
    ORDER BY id`,
];

export class NotificationChannelStore {
  constructor(private readonly sql: SqlRunner) {}

  async list(): Promise<NotificationChannelRecord[]> {
    const { dialect } = this.sql;
    const rows = await this.sql.execute(
      `SELECT id, env_id, name, type, settings, secrets, ${dialect.timestampToMs('created_at')} AS created,
              ${dialect.timestampToMs('updated_at')} AS updated
       FROM ${dialect.latest('notification_channels')} ORDER BY created, id`,
    );
    return rows.map((r) => ({
      id: String(r['id']),
      envId: String(r['env_id']),
      name: String(r['name']),
      type: String(r['type']),
      settings: JSON.parse(String(r['settings'])) as Record<string, unknown>,
      secrets: JSON.parse(String(r['secrets'])) as Record<string, string>,
      createdAtMs: Number(r['created']),
      updatedAtMs: Number(r['updated']),
    }));
  }

  /** Inserts or replaces the channel by id (`updatedAtMs` must grow with each version). */
  async put(c: NotificationChannelRecord): Promise<void> {
    const ts = this.sql.dialect.msToTimestamp;
    const verb = this.sql.dialect.name === 'duckdb' ? 'INSERT OR REPLACE INTO' : 'INSERT INTO';
    await this.sql.execute(
      `${verb} notification_channels VALUES ($1, $2, $3, $4, $5, $6, ${ts('$7')}, ${ts('$8')})`,
      [
        c.id,
        c.envId,
        c.name,
        c.type,
        JSON.stringify(c.settings),
        JSON.stringify(c.secrets),
        c.createdAtMs,
        c.updatedAtMs,
      ],
    );
  }

  async delete(id: string): Promise<void> {
    await this.sql.execute('DELETE FROM notification_channels WHERE id = $1', [id]);
  }
}
