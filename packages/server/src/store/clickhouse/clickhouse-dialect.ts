/**
 * ClickHouse spellings of the query API's SQL. `views FINAL` merges the
 * upserted versions of each view at read time (the table is a
 * ReplacingMergeTree); quantiles are the exact, interpolating kind
 * (quantileExactInclusive, as DuckDB's median and quantile_cont) so both
 * stores give the same numbers — ClickHouse's own `median` samples.
 */
import type { SqlDialect } from '../sql-dialect.js';

export const CLICKHOUSE_DIALECT: SqlDialect = {
  name: 'clickhouse',
  views: 'views FINAL',
  latest: (t) => `${t} FINAL`,
  msToTimestamp: (p) => `fromUnixTimestamp64Milli(CAST(${p} AS Int64), 'UTC')`,
  timestampToMs: (c) => `toUnixTimestamp64Milli(${c})`,
  intDiv: (a, b) => `intDiv(${a}, ${b})`,
  aggregates: (sql) =>
    sql
      .replace(/\bmedian\((\w+)\)/g, 'quantileExactInclusive(0.5)($1)')
      .replace(/\bquantile_cont\((\w+), ([\d.]+)\)/g, 'quantileExactInclusive($2)($1)'),
};
