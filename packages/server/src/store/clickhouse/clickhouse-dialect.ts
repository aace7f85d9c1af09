/**
 * ClickHouse spellings of the query API's SQL. `views FINAL` merges the
 * upserted versions of each view at read time (the table is a
 * ReplacingMergeTree); quantiles are the exact, interpolating kind
 * (quantilesExactInclusive, as DuckDB's median and quantile_cont) so both
 * stores give the same numbers — ClickHouse's own `median` samples. Every
 * level of a column is one call over all the offered levels, indexed, so the
 * rollup keeps one quantile state per column; distinct counts are exact
 * (uniqExact) so that hours merge.
 */
import { QUANTILE_LEVELS, type SqlDialect } from '../sql-dialect.js';

const LEVELS = QUANTILE_LEVELS.join(', ');
/** Column `c`'s quantile at level `q`: an element of the one multi-level call, or a call of its own. */
function quantile(c: string, q: number): string {
  const i = QUANTILE_LEVELS.indexOf(q as (typeof QUANTILE_LEVELS)[number]);
  return i < 0 ? `quantileExactInclusive(${q})(${c})` : `quantilesExactInclusive(${LEVELS})(${c})[${i + 1}]`;
}

export const CLICKHOUSE_DIALECT: SqlDialect = {
  name: 'clickhouse',
  views: 'views FINAL',
  latest: (t) => `${t} FINAL`,
  msToTimestamp: (p) => `fromUnixTimestamp64Milli(CAST(${p} AS Int64), 'UTC')`,
  timestampToMs: (c) => `toUnixTimestamp64Milli(${c})`,
  intDiv: (a, b) => `intDiv(${a}, ${b})`,
  aggregates: (sql) =>
    sql
      .replace(/\bmedian\((\w+)\)/g, (_, c: string) => quantile(c, 0.5))
      .replace(/\bquantile_cont\((\w+), ([\d.]+)\)/g, (_, c: string, q: string) => quantile(c, Number(q)))
      .replace(/\bcount\(DISTINCT /g, 'uniqExact('),
};
