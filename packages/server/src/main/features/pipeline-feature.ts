/**
 * The pipeline on this node: enrichment, the view model, the intake consumer
 * and its stages (pipeline/build-pipeline.ts), on whatever bus and store the
 * platform gives it. Started after every feature that listens to it has
 * subscribed; stopped by draining what was acknowledged (bounded by
 * `shutdownTimeoutMs`) and storing the views in progress as they stand.
 */
import type { Config } from '../../config/config-schema.js';
import type { Metrics } from '../../observability/metrics.js';
import { Enricher } from '../../pipeline/enrich/enricher.js';
import { buildPipeline } from '../build-pipeline.js';
import type { Feature, Log } from '../feature.js';

export type { RunningPipeline } from '../platform.js';

import type { Platform, RunningPipeline } from '../platform.js';

export async function pipelineFeature(
  config: Config,
  platform: Platform,
  deps: { dataDir: string; metrics: Metrics; log: Log },
): Promise<RunningPipeline> {
  const { log } = deps;
  // First, so a bad database path stops the start before anything else is opened.
  const enricher = await Enricher.open({
    geoDatabasePath: config.enrich.geoDatabase,
    asnDatabasePath: config.enrich.asnDatabase,
    truncateIp: config.enrich.truncateIp,
  });
  try {
    const { bus, store } = await platform.pipelineInput();
    const pipeline = await buildPipeline(config, { ...deps, bus, store, enricher });
    const { views, consumer, realtime } = pipeline;
    let shares: Feature | undefined;
    const running: RunningPipeline = {
      name: 'pipeline',
      views,
      consumer,
      realtime,
      start: async () => {
        await pipeline.start();
        shares = platform.pipelineStarted(running);
      },
      close: async () => {
        await shares?.close?.();
        const drained = await Promise.race([
          consumer.caughtUp().then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), config.shutdownTimeoutMs).unref()),
        ]);
        if (!drained)
          log.warn('stopping before the pipeline caught up; the rest stays on the bus for the next start');
        await consumer.stop();
        // Views in progress are stored as they stand; a restart rebuilds them from the raw rows anyway.
        await consumer.flushActiveViews();
        enricher.close();
      },
    };
    return running;
  } catch (err) {
    enricher.close();
    throw err;
  }
}
