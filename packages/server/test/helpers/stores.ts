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
import { chdbPackageDir } from '../../src/store/clickhouse/chdb-connection.js';

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
