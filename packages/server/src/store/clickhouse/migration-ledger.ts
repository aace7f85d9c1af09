/**
 * The ClickHouse store's side of the migration runner: the ledger table
 * `schema_migrations(id, name, applied_at)`, written after a migration's last
 * step. Without DDL transactions a migration is not atomic; its steps are
 * idempotent instead (clickhouse/migrations.ts), so one interrupted before
 * its row runs again whole. Processes that migrate one database at once may
 * each record a migration: the rows collapse on `id`, and reads group by it.
 */
import type { AppliedMigration, Migration, MigrationSql, MigrationTarget } from '../migrations/runner.js';
import { runSteps } from '../migrations/runner.js';
import type { ReadValue } from '../store.js';
import { type ChConnection, chTime } from './connection.js';

export class ClickHouseMigrationTarget implements MigrationTarget {
  readonly where: string;
  private readonly sql: MigrationSql;

  constructor(private readonly conn: ChConnection) {
    this.where = conn.where;
    this.sql = {
      run: (sql) => conn.command(sql),
      query: async (sql) => {
        const r = await conn.query(sql, {});
        return r.rows.map((row) =>
          Object.fromEntries(r.names.map((n, i) => [n, (row[i] ?? null) as ReadValue])),
        );
      },
    };
  }

  async prepareLedger(): Promise<void> {
    await this.conn.command(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
    id UInt32,
    name String,
    applied_at DateTime64(3, 'UTC')
  ) ENGINE = ReplacingMergeTree
    ORDER BY id`,
    );
  }

  async applied(): Promise<AppliedMigration[]> {
    const r = await this.conn.query(
      `SELECT id, any(name) AS name, toUnixTimestamp64Milli(min(applied_at)) AS applied_at
       FROM schema_migrations GROUP BY id ORDER BY id`,
      {},
    );
    return r.rows.map(([id, name, at]) => ({ id: Number(id), name: String(name), appliedAtMs: Number(at) }));
  }

  async apply(migration: Migration): Promise<void> {
    await runSteps(migration, this.sql);
    await this.conn.insert(
      'schema_migrations',
      ['id', 'name', 'applied_at'],
      [[migration.id, migration.name, chTime(Date.now())]],
    );
  }
}
