/**
 * Where the store lives when one machine is not enough: a ClickHouse server
 * or cluster instead of the embedded DuckDB file (docs/clickhouse.md).
 */
import { bool, int, section, str } from './config-keys.js';

export const ClickHouseConfigSchema = section({
  url: str(
    '',
    'Store in ClickHouse instead of the embedded DuckDB: clickhouse://user:password@host:8123/database (clickhouses:// for TLS), or chdb:///path (chdb: alone for <dataDir>/clickhouse) for the embedded ClickHouse engine installed in tools/chdb. "" keeps DuckDB. Also `serve --store`',
    { pattern: '^$|^(clickhouses?|chdb):' },
  ),
  minInsertIntervalMs: int(
    { minimum: 0, default: 1000 },
    'With ClickHouse, the pipeline commits (one ledger insert, one views insert) at most this often, so each insert carries many rows: ClickHouse wants about one insert per second per table',
  ),
  asyncInsert: bool(
    false,
    'Send inserts with async_insert=1 and wait_for_async_insert=1: the server merges inserts of many pipeline workers and answers once they are written',
  ),
  rollups: bool(
    true,
    'Keep a rollup of the views per hour and common dimensions, and answer metrics queries from it where they allow (docs/clickhouse.md, "Rollups"). Off: every query reads the views',
  ),
  rollupRefreshIntervalMs: int(
    { minimum: 100, default: 30_000 },
    'How often hours changed since their last refresh are recomputed into the rollup. Until then queries read those hours from the views, so answers never lag; only their cost does',
  ),
  rollupSettleMs: int(
    { minimum: 0, default: 300_000 },
    'An hour is recomputed only once no view of it has changed for this long: hours still being written to (the current one, views completing) are read from the views instead of being recomputed again and again',
  ),
  rollupHoursPerRefresh: int(
    { minimum: 1, default: 24 },
    'Hours recomputed per refresh at most (oldest change first)',
  ),
  requestTimeoutMs: int({ minimum: 1000, default: 60_000 }, 'HTTP request timeout towards ClickHouse'),
});
