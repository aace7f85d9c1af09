/**
 * The DuckDB store's side of the migration runner: the ledger table
 * `schema_migrations(id, name, applied_at)`, and each migration applied in a
 * transaction together with its ledger row, so a crash leaves it either
 * applied and recorded or neither.
 *
 * The code before numbered migrations kept `schema_migrations(version,
 * applied_at)` with one row, version 1, written at every open whatever the
 * tables held. That row does not say which of that code's layouts the
 * tables have, so the old ledger is replaced by an empty one and migration 1
 * (idempotent on any of those layouts) runs and is recorded. The code before
 * cannot write the new ledger's rows, so it refuses to open a migrated store.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AppliedMigration, Migration, MigrationSql, MigrationTarget } from '../migrations/runner.js';
import { runSteps } from '../migrations/runner.js';
import type { ReadValue } from '../store.js';
import { plain } from './plain.js';

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
  )`;

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, ReadValue>[]> {
  const r = await conn.runAndReadAll(sql);
  const names = r.columnNames();
  return r.getRows().map((row) => Object.fromEntries(names.map((n, i) => [n, plain(row[i])])));
}

export class DuckDBMigrationTarget implements MigrationTarget {
  private readonly sql: MigrationSql;

  constructor(
    private readonly conn: DuckDBConnection,
    readonly where: string,
  ) {
    this.sql = {
      run: async (sql) => {
        await conn.run(sql);
      },
      query: (sql) => rows(conn, sql),
    };
  }

  async prepareLedger(): Promise<void> {
    const columns = await rows(
      this.conn,
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`,
    );
    const legacy = columns.some((c) => c['column_name'] === 'version');
    await this.atomically(async () => {
      if (legacy) await this.conn.run('DROP TABLE schema_migrations');
      await this.conn.run(LEDGER_DDL);
    });
  }

  async applied(): Promise<AppliedMigration[]> {
    const r = await rows(
      this.conn,
      'SELECT id, name, epoch_ms(applied_at) AS applied_at FROM schema_migrations ORDER BY id',
    );
    return r.map((row) => ({
      id: Number(row['id']),
      name: String(row['name']),
      appliedAtMs: Number(row['applied_at']),
    }));
  }

  apply(migration: Migration): Promise<void> {
    return this.atomically(async () => {
      await runSteps(migration, this.sql);
      await this.conn.run('INSERT INTO schema_migrations VALUES ($1, $2, now()::TIMESTAMP)', [
        migration.id,
        migration.name,
      ]);
    });
  }

  private async atomically(fn: () => Promise<void>): Promise<void> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      await fn();
      await this.conn.run('COMMIT');
    } catch (err) {
      try {
        await this.conn.run('ROLLBACK');
      } catch {}
      throw err;
    }
  }
}
