/**
 * The pipeline on this node, on whatever bus and store the platform gives
 * it (the embedded server and a scale-out pipeline worker build the same
 * one): enrichment, the view model, the intake consumer and its stages
 * (connectors, the monitoring samples stream, the real-time tracker), each
 * subscribed to the consumer's events in that order
 * (pipeline/pipeline-events.ts). Started after every feature that listens to
 * it has subscribed: the views are rebuilt from the bus, then it consumes.
 * Stopped by draining what was acknowledged (bounded by `shutdownTimeoutMs`)
 * and storing the views in progress as they stand.
 */
import { join } from 'node:path';
import type { Config } from '../../config/config-schema.js';
import type { Metrics } from '../../observability/metrics.js';
import { createConnectorMetrics } from '../../outputs/connectors/connector-metrics.js';
import { ConnectorStage } from '../../outputs/connectors/connector-stage.js';
import { openConnectors } from '../../outputs/connectors/connectors.js';
import { MonitoringStage } from '../../outputs/stream/monitoring-stage.js';
import { Enricher } from '../../pipeline/enrich/enricher.js';
import { IntakeConsumer } from '../../pipeline/intake-consumer.js';
import { RealtimeTracker } from '../../pipeline/realtime/realtime-tracker.js';
import { ActiveViews } from '../../pipeline/view-model/active-views.js';
import type { Feature, Log } from '../feature.js';
import { pipelineCommitIntervalMs } from '../open-store.js';
import type { Platform, RunningPipeline } from '../platform.js';

export async function pipelineFeature(
  config: Config,
  platform: Platform,
  deps: { dataDir: string; metrics: Metrics; log: Log },
): Promise<RunningPipeline> {
  const { dataDir, metrics, log } = deps;
  // First, so a bad database path stops the start before anything else is opened.
  const enricher = await Enricher.open({
    geoDatabasePath: config.enrich.geoDatabase,
    asnDatabasePath: config.enrich.asnDatabase,
    truncateIp: config.enrich.truncateIp,
  });
  try {
    const { bus, store } = await platform.pipelineInput();
    const v = config.views;
    const views = new ActiveViews(v, { minStallMs: v.minStallMs }, (ip, ua) => enricher.enrich(ip, ua));
    const consumer = new IntakeConsumer(bus, store, views, metrics, {
      dedupeRetentionMs: config.pipeline.dedupeRetentionMs,
      commitIntervalMs: pipelineCommitIntervalMs(config),
      viewTickIntervalMs: v.tickIntervalMs,
      log,
    });
    // Connectors: a pipeline stage that buffers enriched events per destination (docs/connectors.md).
    if (config.connectors.length > 0) {
      const connectorMetrics = createConnectorMetrics(metrics.registry);
      const deps = { dataDir, views, metrics: connectorMetrics, log };
      const connectors = await openConnectors(config.connectors, deps);
      const trailFile = join(dataDir, 'connectors', 'view-trails.json');
      consumer.addStage(new ConnectorStage(connectors, views, connectorMetrics, log, trailFile));
    }
    const monitoring =
      config.monitoring.sinks.length > 0
        ? await MonitoringStage.open({
            config: config.monitoring,
            dataDir,
            minStallMs: v.minStallMs,
            registry: metrics.registry,
            log,
          })
        : undefined;
    if (monitoring) consumer.addStage(monitoring);
    // Real-time numbers (docs/monitoring-api.md): whoever shows them subscribes with realtime.onTick.
    const rt = config.realtime;
    const realtime = new RealtimeTracker(views, { tickMs: rt.tickMs, attemptWindowMs: rt.attemptWindowMs });
    consumer.addStage(realtime);
    let shares: Feature | undefined;
    const running: RunningPipeline = {
      name: 'pipeline',
      views,
      consumer,
      realtime,
      start: async () => {
        await consumer.start();
        realtime.start();
        // Windows close only once the backlog acknowledged before a restart is applied.
        if (monitoring) void consumer.caughtUp().then(() => monitoring.startEmitting());
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
