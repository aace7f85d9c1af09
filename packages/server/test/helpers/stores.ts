/**
 * The stores a suite runs against: the embedded DuckDB default, ClickHouse
 * on the embedded chDB engine (tools/chdb, installed by `npm test`), and a
 * real ClickHouse server over HTTP when CLICKHOUSE_URL names one
 * (e.g. clickhouse://default:@127.0.0.1:8123); each HTTP suite gets a
 * database of its own.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, it } from 'vitest';
import { ChdbConnection, chdbPackageDir } from '../../src/store/clickhouse/chdb-connection.js';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { HttpConnection } from '../../src/store/clickhouse/http-connection.js';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import type { Store } from '../../src/store/store.js';
import { buildTestDatabases } from './mmdb.js';
import { patience } from './patience.js';
import { queryDataDir, type ServerProcess, startServer } from './server-process.js';

export interface StoreUnderTest {
  name: string;
  kind: 'duckdb' | 'chdb' | 'http';
  /** `openqoe serve` arguments that select it. */
  args: string[];
  /** The ClickHouse URL, for tests that open the store themselves. */
  url?: string;
  /** Why it does not run here, if it does not. */
  skip?: string;
}

export const chdbInstalled = existsSync(join(chdbPackageDir(), 'node_modules', 'chdb'));

/** A fresh database name on the CLICKHOUSE_URL server. */
function httpUrl(): string | undefined {
  const base = process.env['CLICKHOUSE_URL'];
  if (!base) return undefined;
  const u = new URL(base);
  u.pathname = `/openqoe_test_${randomBytes(4).toString('hex')}`;
  return u.toString();
}

export function storesUnderTest(): StoreUnderTest[] {
  const http = httpUrl();
  return [
    { name: 'DuckDB', kind: 'duckdb', args: [] },
    {
      name: 'ClickHouse (chDB)',
      kind: 'chdb',
      args: ['--store', 'chdb:'],
      ...(chdbInstalled
        ? {}
        : { skip: `chdb is not installed in ${chdbPackageDir()} (npm test installs it)` }),
    },
    {
      name: 'ClickHouse over HTTP',
      kind: 'http',
      args: http ? ['--store', http] : [],
      ...(http
        ? { url: http }
        : { skip: 'set CLICKHOUSE_URL=clickhouse://user:password@host:8123 to run it' }),
    },
  ];
}

/** The suite's title, saying why it is skipped when it is. */
export const titleOf = (prefix: string, s: StoreUnderTest) =>
  s.skip ? `${prefix} on ${s.name} (skipped: ${s.skip})` : `${prefix} on ${s.name}`;

/** Opens the store itself (not through a server), on `path` for the embedded ones. */
export async function openStoreUnderTest(s: StoreUnderTest, path: string): Promise<Store> {
  if (s.kind === 'duckdb')
    return DuckDBStore.open({
      path: `${path}.duckdb`,
      checkpointThreshold: '16MB',
      memoryLimit: '',
      threads: 1,
    });
  if (s.kind === 'chdb') return ClickHouseStore.open(await ChdbConnection.open(path));
  return ClickHouseStore.open(
    await HttpConnection.open({
      url: new URL(s.url!),
      asyncInsert: false,
      requestTimeoutMs: patience(30_000),
    }),
  );
}

/**
 * Runs SQL on the store a stopped server left in `dataDir` (the embedded
 * engines allow one process at a time), or on its ClickHouse database.
 */
export async function queryStoreOf(
  s: StoreUnderTest,
  dataDir: string,
  sql: string,
): Promise<Record<string, unknown>[]> {
  if (s.kind === 'duckdb' && /^\s*SELECT\b/i.test(sql)) return queryDataDir(dataDir, sql);
  if (s.kind === 'duckdb') {
    const db = await DuckDBInstance.create(join(dataDir, 'openqoe.duckdb'));
    const conn = await db.connect();
    try {
      await conn.run(sql);
      return [];
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  }
  const store = await openStoreUnderTest(s, join(dataDir, 'clickhouse'));
  try {
    return await store.select(sql, []);
  } finally {
    await store.close();
  }
}

/** The stores that run here, for `describe.each`, and a skipped placeholder suite for each that does not, saying why. */
export function runnableStores(prefix: string): StoreUnderTest[] {
  const all = storesUnderTest();
  for (const s of all.filter((x) => x.skip !== undefined))
    describe.skip(titleOf(prefix, s), () => {
      it('runs the suite', () => {});
    });
  return all.filter((s) => s.skip === undefined);
}

/**
 * A server on `store` for the query API suites: the test geo databases (client addresses from
 * `x-forwarded-for`), no rate limits, views complete after 500 ms idle, and on ClickHouse whole
 * hours answered from the rollup once refreshed (docs/clickhouse.md).
 */
export function startQueryServer(dataDir: string, store: StoreUnderTest): Promise<ServerProcess> {
  const db = buildTestDatabases(dataDir);
  return startServer({
    dataDir,
    config: {
      logLevel: 'warn',
      trustProxy: true,
      intake: { rateLimit: { perIpPerSecond: 0, perEnvKeyPerSecond: 0 } },
      views: { idleCompleteMs: 500, tickIntervalMs: 50 },
      enrich: { geoDatabase: db.geo, asnDatabase: db.asn },
      clickhouse: { rollupRefreshIntervalMs: 200, rollupSettleMs: 0 },
    },
    args: store.args,
  });
}
