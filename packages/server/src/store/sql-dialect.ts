/**
 * The few SQL spellings the query API needs that DuckDB and ClickHouse write
 * differently. Everything else the API builds (CASE, FILTER, nullif,
 * coalesce, window counts, GROUP BY ALL, NULLS LAST) reads the same on both.
 */
export interface SqlDialect {
  name: 'duckdb' | 'clickhouse';
  /** The views table as a query reads it: one row per view (ClickHouse merges upserted versions). */
  views: string;
  /** Another upserted table as a read sees it: the newest version of each row. */
  latest(table: string): string;
  /** An epoch-milliseconds parameter as a timestamp comparable with view_end. */
  msToTimestamp(param: string): string;
  /** A timestamp column as integer epoch milliseconds. */
  timestampToMs(column: string): string;
  intDiv(a: string, b: string): string;
  /**
   * The metric catalog's aggregates (query/metric-catalog.ts, written in DuckDB's spelling:
   * `median(col)`, `quantile_cont(col, q)`, `count(DISTINCT x)`) in this dialect, with the same results.
   */
  aggregates(duckdbSql: string): string;
}

/** The levels the query API offers percentiles at (median, 75th, 90th, 95th, 99th). */
export const QUANTILE_LEVELS = [0.5, 0.75, 0.9, 0.95, 0.99] as const;

export const DUCKDB_DIALECT: SqlDialect = {
  name: 'duckdb',
  views: 'views',
  latest: (t) => t,
  msToTimestamp: (p) => `epoch_ms(CAST(${p} AS BIGINT))`,
  timestampToMs: (c) => `epoch_ms(${c})`,
  intDiv: (a, b) => `(${a} // ${b})`,
  aggregates: (sql) => sql,
};
