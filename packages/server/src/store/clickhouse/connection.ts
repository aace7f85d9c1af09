/**
 * What the ClickHouse store needs from an engine: statements, parameterised
 * reads and positional inserts. Two implementations: a ClickHouse server over
 * HTTP (`@clickhouse/client`) and chDB, the engine embedded in-process.
 */

/** A read answer as ClickHouse's JSONCompact format gives it: column names, types, rows. */
export interface ChResult {
  names: string[];
  types: string[];
  rows: unknown[][];
}

export interface ChConnection {
  /** Where the store is, for messages (no credentials). */
  readonly where: string;
  /** A statement without a result (DDL, INSERT … VALUES, DELETE); `params` as for `query`. */
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  /** `params` are ClickHouse query parameters: the SQL names them as `{name:Type}`. */
  query(sql: string, params: Record<string, unknown>): Promise<ChResult>;
  /**
   * Inserts positional rows (JSON-able values, timestamps as 'YYYY-MM-DD hh:mm:ss.sss' UTC);
   * resolves once the engine has written them.
   */
  insert(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void>;
  close(): Promise<void>;
}

/** Settings every session uses: CAST keeps NULLs (as DuckDB's does), 64-bit integers as JSON numbers. */
export const SESSION_SETTINGS = {
  cast_keep_nullable: 1,
  output_format_json_quote_64bit_integers: 0,
  // Lightweight DELETE of the management tables (environments, tokens, keys) waits until applied.
  lightweight_deletes_sync: '2',
} as const;

/** JSONCompactEachRow lines of positional rows. */
export function compactRows(rows: readonly (readonly unknown[])[]): string {
  let out = '';
  for (const row of rows) out += `${JSON.stringify(row)}\n`;
  return out;
}

/** Epoch ms → the text form ClickHouse parses into DateTime64(3, 'UTC'). */
export const chTime = (ms: number): string =>
  new Date(Math.round(ms)).toISOString().slice(0, 23).replace('T', ' ');

/**
 * Versions for ReplacingMergeTree rows: microseconds of the wall clock, strictly increasing within
 * this process (never the same twice), and increasing across restarts with the clock.
 */
export class VersionClock {
  private last = 0;
  next(): number {
    this.last = Math.max(this.last + 1, Date.now() * 1000);
    return this.last;
  }
}
