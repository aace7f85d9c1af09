/**
 * The views table's columns as migrations make them. VIEW_COLUMNS is the
 * layout the code writes (DuckDB appends rows by position); migration 1 makes
 * the first layout and every views-column migration appends some columns, so
 * a column added to VIEW_COLUMNS without its migration, or in another order,
 * is refused when a store opens instead of failing at the first write.
 */
import { type Column, VIEW_COLUMNS } from '../view-row.js';
import type { Migration } from './runner.js';

/** The columns the views table had when numbered migrations began: migration 1 of each store makes them. */
export const INITIAL_VIEW_COLUMNS: readonly Column[] = VIEW_COLUMNS.slice(
  0,
  VIEW_COLUMNS.findIndex((c) => c.name === 'webrtc_rtt_ms') + 1,
);

/** The views columns `migrations` make, in table order. */
export function migratedViewColumns(migrations: readonly Migration[]): Column[] {
  return migrations.flatMap((m) => m.viewColumns ?? []);
}

/** Throws unless `migrations` make exactly `columns` (VIEW_COLUMNS), in the same order. */
export function checkViewColumns(
  migrations: readonly Migration[],
  columns: readonly Column[] = VIEW_COLUMNS,
): void {
  const made = migratedViewColumns(migrations);
  const text = (c: Column | undefined) => (c ? `${c.name} ${c.type}` : 'nothing');
  for (let i = 0; i < Math.max(made.length, columns.length); i++) {
    if (made[i]?.name === columns[i]?.name && made[i]?.type === columns[i]?.type) continue;
    throw new Error(
      `views column ${i + 1} is ${text(columns[i])} in VIEW_COLUMNS but the store's migrations make ${text(made[i])}: ` +
        'a views column is added by appending it to VIEW_COLUMNS and adding a migration ' +
        '(addViewColumnsMigration) with it to each store’s list',
    );
  }
}
