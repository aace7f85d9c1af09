/**
 * Numbered, forward-only schema migrations, run by both stores when they
 * open. Each store keeps its ordered list (duckdb/migrations.ts,
 * clickhouse/migrations.ts) and a ledger of the ones applied
 * (`schema_migrations`); this module checks the list, refuses a store that a
 * newer version has migrated further than this code knows, and applies the
 * missing ones in order, each recorded once it is done.
 *
 * How a migration is made atomic is the store's: DuckDB runs each one and its
 * ledger row in one transaction; ClickHouse has no DDL transactions, so its
 * steps are idempotent and a migration interrupted half-way runs again whole.
 */
import type { ReadValue } from '../store.js';
import type { Column } from '../view-row.js';

/** What a migration's function gets: the store's engine, one statement at a time. */
export interface MigrationSql {
  run(sql: string): Promise<void>;
  /** Reads rows, for a step that depends on what the store already has. */
  query(sql: string): Promise<Record<string, ReadValue>[]>;
}

export interface Migration {
  /** 1, 2, 3 … in the order they run; a released id is never changed or reused. */
  readonly id: number;
  /** What it does, kept in the ledger for people reading it. */
  readonly name: string;
  /** Statements run in order, or a function of the engine for steps that read first. */
  readonly up: readonly string[] | ((sql: MigrationSql) => Promise<void>);
  /**
   * The columns it appends to the views table, in order (a views-column migration, or migration 1
   * with the first layout): the stores check that these, migration after migration, are VIEW_COLUMNS.
   */
  readonly viewColumns?: readonly Column[];
}

export interface AppliedMigration {
  id: number;
  name: string;
  appliedAtMs: number;
}

/** A store as the runner sees it: its ledger, and how it applies one migration. */
export interface MigrationTarget {
  /** Where the store is, for messages. */
  readonly where: string;
  /** Makes the ledger when missing (or brings a ledger of an older layout to the current one). */
  prepareLedger(): Promise<void>;
  applied(): Promise<AppliedMigration[]>;
  /** Runs the migration's steps and records it in the ledger: both or neither where the engine allows. */
  apply(migration: Migration): Promise<void>;
}

/** What opening a store did to its schema. */
export interface MigrationRun {
  /** Ids applied by this open, in order (none when the store was up to date). */
  applied: number[];
  /** The store's migration now: the highest this code knows. */
  current: number;
}

/** A store migrated by a newer version than this one: opening it could misread or damage its data. */
export class StoreAheadError extends Error {
  constructor(
    readonly where: string,
    /** The highest migration this code knows. */
    readonly known: number,
    /** The highest migration the store records. */
    readonly found: AppliedMigration,
  ) {
    super(
      `the store at ${where} was migrated by a newer openqoe: it records migration ${found.id} ` +
        `(${found.name}) and this version knows migrations up to ${known}; ` +
        'run the newer version on it (migrations are forward-only), or point this one at another store',
    );
    this.name = 'StoreAheadError';
  }
}

/** Throws unless the ids are 1, 2, 3 … in order with a name each: a list that breaks this is a code error. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.id !== i + 1)
      throw new Error(
        `migration "${m.name}" has id ${m.id} at position ${i + 1}: ids are 1, 2, 3 … in list order`,
      );
    if (m.name.trim() === '') throw new Error(`migration ${m.id} has no name`);
  });
}

/** Runs a migration's steps on `sql`. */
export async function runSteps(migration: Migration, sql: MigrationSql): Promise<void> {
  if (typeof migration.up === 'function') await migration.up(sql);
  else for (const statement of migration.up) await sql.run(statement);
}

/**
 * Brings the store to the last migration of `migrations`: refuses a store that records a later one,
 * applies the missing ones in id order and never one the ledger records.
 */
export async function runMigrations(
  target: MigrationTarget,
  migrations: readonly Migration[],
): Promise<MigrationRun> {
  checkMigrationList(migrations);
  const known = migrations.length;
  await target.prepareLedger();
  const done = await target.applied();
  const newest = done.reduce<AppliedMigration | undefined>((a, m) => (a && a.id >= m.id ? a : m), undefined);
  if (newest && newest.id > known) throw new StoreAheadError(target.where, known, newest);
  const have = new Set(done.map((m) => m.id));
  const applied: number[] = [];
  for (const m of migrations) {
    if (have.has(m.id)) continue;
    try {
      await target.apply(m);
    } catch (err) {
      throw new Error(`migration ${m.id} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
    }
    applied.push(m.id);
  }
  return { applied, current: known };
}
