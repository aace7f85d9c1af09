/**
 * Opens the store the configuration names: the embedded DuckDB file in the
 * data dir by default, or ClickHouse (`clickhouse.url`) over HTTP or
 * embedded (chDB).
 */
import { join, resolve } from 'node:path';
import type { Config } from '../config/config-schema.js';
import type { Metrics } from '../observability/metrics.js';
import { viewsRollupDefinition } from '../query/views-rollup.js';
import { ChdbConnection } from '../store/clickhouse/chdb-connection.js';
import { CLICKHOUSE_DIALECT } from '../store/clickhouse/clickhouse-dialect.js';
import { ClickHouseStore, type ClickHouseStoreOptions } from '../store/clickhouse/clickhouse-store.js';
import { HttpConnection } from '../store/clickhouse/http-connection.js';
import { DuckDBStore } from '../store/duckdb/duckdb-store.js';
import type { SqlRunner } from '../store/live-store.js';
import type { Store } from '../store/store.js';

export type OpenedStore = Store & SqlRunner & { readonly where?: string };

/** What the server watches of a store: the ClickHouse rollup's refreshes. */
export interface StoreObserver {
  onRollupRefresh?: ClickHouseStoreOptions['onRollupRefresh'];
  onRollupError?: ClickHouseStoreOptions['onRollupError'];
}

export async function openStore(
  config: Config,
  dataDir: string,
  observer: StoreObserver = {},
): Promise<OpenedStore> {
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
  const c = config.clickhouse;
  const options: ClickHouseStoreOptions = {
    rollup: c.rollups ? viewsRollupDefinition(CLICKHOUSE_DIALECT) : undefined,
    rollupRefreshIntervalMs: c.rollupRefreshIntervalMs,
    rollupHoursPerRefresh: c.rollupHoursPerRefresh,
    rollupSettleMs: c.rollupSettleMs,
    ...observer,
  };
  if (parsed.protocol === 'chdb:') {
    const path = decodeURIComponent(parsed.pathname) || join(dataDir, 'clickhouse');
    return ClickHouseStore.open(await ChdbConnection.open(resolve(path)), options);
  }
  return ClickHouseStore.open(
    await HttpConnection.open({
      url: parsed,
      asyncInsert: c.asyncInsert,
      requestTimeoutMs: c.requestTimeoutMs,
    }),
    options,
  );
}

/** ClickHouse wants few large inserts: the pipeline's commits are spaced accordingly. */
export function pipelineCommitIntervalMs(config: Config): number {
  const base = config.pipeline.commitIntervalMs;
  return config.clickhouse.url === '' ? base : Math.max(base, config.clickhouse.minInsertIntervalMs);
}

/** Rollup refreshes as metrics; a failed refresh leaves its hours dirty (read from the views) and is counted. */
export function storeObserver(metrics: Metrics): StoreObserver {
  return {
    onRollupRefresh: (r, dirty) => {
      metrics.rollupRefreshedHours.inc(r.hours);
      metrics.rollupDirtyHours.set(dirty);
    },
    onRollupError: (err) => {
      metrics.errors.labels('rollup').inc();
      console.error(
        `rollup refresh failed (the hours stay dirty and are read from the views): ${err.message}`,
      );
    },
  };
}
