/**
 * The embedded default: the store in this process (DuckDB, or ClickHouse
 * when configured) and the append-only log on disk as the bus. The pipeline
 * consumes the log here, and the api reads the real-time numbers and viewer
 * counts straight from it.
 */
import { join } from 'node:path';
import { bootstrapIfEmpty } from '../auth/bootstrap.js';
import { Registry } from '../auth/registry.js';
import { EmbeddedLog } from '../bus/embedded/embedded-log.js';
import type { Config } from '../config/config-schema.js';
import { LiveCounts } from '../live/live-counts.js';
import type { Metrics } from '../observability/metrics.js';
import { embeddedFiltered } from '../query/realtime/filtered-realtime.js';
import type { Log } from './feature.js';
import { openStore, storeObserver } from './open-store.js';
import type { Platform } from './platform.js';

export async function embeddedPlatform(
  config: Config,
  deps: { dataDir: string; metrics: Metrics; log: Log },
): Promise<Platform> {
  const { dataDir, metrics, log } = deps;
  // The embedded DuckDB file, or ClickHouse when `clickhouse.url` names one (docs/clickhouse.md).
  const store = await openStore(config, dataDir, storeObserver(metrics));
  try {
    const registry = await Registry.load(store);
    const bootstrap = await bootstrapIfEmpty(registry, dataDir);
    const bus = await EmbeddedLog.open(join(dataDir, 'log'), {
      ...config.bus,
      maxBatchRecords: config.pipeline.maxBatchRecords,
      onCommit: (seconds, records) => {
        metrics.busFsync.observe(seconds);
        metrics.busCommitRecords.observe(records);
      },
      onError: (err, context) => {
        metrics.errors.labels('bus').inc();
        log.warn(`bus ${context}: ${err.message}`);
      },
    });
    return {
      name: 'embedded store and log',
      store,
      owned: store,
      registry,
      bootstrap,
      bus,
      pipelineInput: async () => ({ bus, store }),
      pipelineStarted: () => undefined,
      realtimeSource: (pipeline) => {
        if (!pipeline) throw new Error('the embedded server runs its pipeline');
        return { filtered: embeddedFiltered, subscribe: (record) => pipeline.realtime.onTick(record) };
      },
      countSource: (pipeline) => {
        if (!pipeline) throw new Error('the embedded server runs its pipeline');
        return new LiveCounts(pipeline.views, config.live.counts.refreshMs);
      },
      close: async () => {
        await bus.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
