/**
 * Opens the store the configuration names: the embedded DuckDB file in the
 * data dir by default, or ClickHouse (`clickhouse.url`) over HTTP or
 * embedded (chDB).
 */
import { join, resolve } from 'node:path';
import type { Config } from '../config/config-schema.js';
import type { SqlRunner } from '../live/live-store.js';
import { ChdbConnection } from './clickhouse/chdb-connection.js';
import { ClickHouseStore } from './clickhouse/clickhouse-store.js';
import { HttpConnection } from './clickhouse/http-connection.js';
import { DuckDBStore } from './duckdb/duckdb-store.js';
import type { Store } from './store.js';

export type OpenedStore = Store & SqlRunner & { readonly where?: string };

export async function openStore(config: Config, dataDir: string): Promise<OpenedStore> {
  const url = config.clickhouse.url;
  if (url === '') {
    return DuckDBStore.open({
      path: join(dataDir, 'openqoe.duckdb'),
      checkpointThreshold: config.store.checkpointThreshold,
      memoryLimit: config.store.memoryLimit,
      threads: config.store.threads,
    });
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `clickhouse.url ${JSON.stringify(url)} is not a URL (clickhouse://host:8123/db or chdb:///path)`,
    );
  }
  if (parsed.protocol === 'chdb:') {
    const path = decodeURIComponent(parsed.pathname) || join(dataDir, 'clickhouse');
    return ClickHouseStore.open(await ChdbConnection.open(resolve(path)));
  }
  return ClickHouseStore.open(
    await HttpConnection.open({
      url: parsed,
      asyncInsert: config.clickhouse.asyncInsert,
      requestTimeoutMs: config.clickhouse.requestTimeoutMs,
    }),
  );
}

/** ClickHouse wants few large inserts: the pipeline's commits are spaced accordingly. */
export function pipelineCommitIntervalMs(config: Config): number {
  const base = config.pipeline.commitIntervalMs;
  return config.clickhouse.url === '' ? base : Math.max(base, config.clickhouse.minInsertIntervalMs);
}
