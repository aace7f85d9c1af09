/**
 * One scale-out pipeline worker: the embedded server's pipeline
 * (pipeline/build-pipeline.ts) on the NATS bus, writing through the store
 * hand-off, publishing its real-time ticks for the api node to merge.
 */
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config/config-schema.js';
import type { Metrics } from '../observability/metrics.js';
import { Enricher } from '../pipeline/enrich/enricher.js';
import type { RealtimeTick } from '../pipeline/realtime/realtime-tracker.js';
import type { Store } from '../store/store.js';
import { buildPipeline } from './build-pipeline.js';

export interface PipelineWorkerDeps {
  bus: Bus;
  store: Store;
  metrics: Metrics;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  dataDir: string;
  onRealtimeTick?: (t: RealtimeTick, windowMs: number) => void;
}

export async function startPipelineWorker(config: Config, deps: PipelineWorkerDeps) {
  const { log } = deps;
  const enricher = await Enricher.open({
    geoDatabasePath: config.enrich.geoDatabase,
    asnDatabasePath: config.enrich.asnDatabase,
    truncateIp: config.enrich.truncateIp,
  });
  const { views, consumer, realtime, start } = await buildPipeline(config, { ...deps, enricher });
  // Real-time numbers of this worker's views; the api node merges every worker's (realtime-share.ts).
  // Each tick's window runs from the previous tick of its environment (from here, for the first).
  const windowStart = new Map<string, number>();
  const createdAtMs = Date.now();
  const onTick = deps.onRealtimeTick;
  if (onTick)
    realtime.onTick((t) => {
      onTick(t, t.atMs - (windowStart.get(t.envId) ?? createdAtMs));
      windowStart.set(t.envId, t.atMs);
    });
  await start();

  return {
    views,
    consumer,
    close: async () => {
      const drained = await Promise.race([
        consumer.caughtUp().then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), config.shutdownTimeoutMs).unref()),
      ]);
      if (!drained) log.warn('stopping before the pipeline caught up; JetStream keeps the rest');
      await consumer.stop();
      await consumer.flushActiveViews();
      enricher.close();
    },
  };
}
