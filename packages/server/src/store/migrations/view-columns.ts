/**
 * The views table's columns as migrations make them. VIEW_COLUMNS is the
 * layout the code writes (DuckDB appends rows by position); migration 1 makes
 * the first layout, and each later migration a column names is made from the
 * list (`withViewColumnMigrations`): the columns that name it, appended in list
 * order, in every store. A layout the migrations would not make (a column
 * appended with an id already past, or in another order) is refused when a
 * store opens instead of failing at the first write.
 */
import { type Column, VIEW_COLUMNS } from '../view-row.js';
import type { Migration } from './runner.js';

/** The columns the views table had when numbered migrations began: migration 1 of each store makes them. */
export const INITIAL_VIEW_COLUMNS: readonly Column[] = VIEW_COLUMNS.filter((c) => (c.migration ?? 1) === 1);

/** A store's way of appending views columns (addViewColumnsMigration of duckdb/ or clickhouse/). */
export type AddViewColumns = (id: number, name: string, columns: readonly Column[]) => Migration;

/**
 * A store's migrations for the views layout `columns`: its own (`base`: migration 1 and any other
 * table change) and one views-column migration per id the later columns name, named after them, in
 * id order. Throws (checkViewColumns) unless they make exactly `columns`.
 */
export function withViewColumnMigrations(
  base: readonly Migration[],
  columns: readonly Column[],
  add: AddViewColumns,
): Migration[] {
  const byId = new Map<number, Column[]>();
  for (const c of columns)
    if ((c.migration ?? 1) > 1) byId.set(c.migration!, [...(byId.get(c.migration!) ?? []), c]);
  const added = [...byId].map(([id, cs]) => add(id, `views columns ${cs.map((c) => c.name).join(', ')}`, cs));
  const migrations = [...base, ...added].sort((a, b) => a.id - b.id);
  checkViewColumns(migrations, columns);
  return migrations;
}

/** Throws unless `migrations` make exactly `columns` (VIEW_COLUMNS), in the same order. */
export function checkViewColumns(
  migrations: readonly Migration[],
  columns: readonly Column[] = VIEW_COLUMNS,
): void {
  const made = migrations.flatMap((m) => m.viewColumns ?? []);
  const text = (c: Column | undefined) => (c ? `${c.name} ${c.type}` : 'nothing');
  for (let i = 0; i < Math.max(made.length, columns.length); i++) {
    if (made[i]?.name === columns[i]?.name && made[i]?.type === columns[i]?.type) continue;
    throw new Error(
      `views column ${i + 1} is ${text(columns[i])} in VIEW_COLUMNS but the store's migrations make ${text(made[i])}: ` +
        'a views column is appended to VIEW_COLUMNS with the next migration id, which no other ' +
        'migration of the stores may take',
    );
  }
}
