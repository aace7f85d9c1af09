/**
 * The pipeline on a bus and a store: the view model, the intake consumer
 * and its stages (connectors, the monitoring samples stream, the real-time
 * tracker). The embedded server and a scale-out pipeline worker build the
 * same one; `start` rebuilds the views from the bus and begins consuming.
 */
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config/config-schema.js';
import type { Metrics } from '../observability/metrics.js';
import { createConnectorMetrics } from '../outputs/connectors/connector-metrics.js';
import { ConnectorStage } from '../outputs/connectors/connector-stage.js';
import { openConnectors } from '../outputs/connectors/connectors.js';
import { MonitoringStage } from '../outputs/stream/monitoring-stage.js';
import type { Enricher } from '../pipeline/enrich/enricher.js';
import { IntakeConsumer } from '../pipeline/intake-consumer.js';
import { RealtimeTracker } from '../pipeline/realtime/realtime-tracker.js';
import { ActiveViews } from '../pipeline/view-model/active-views.js';
import type { RawStore } from '../store/store.js';
import { pipelineCommitIntervalMs } from './open-store.js';

export interface PipelineDeps {
  bus: Bus;
  store: RawStore;
  metrics: Metrics;
  enricher: Enricher;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  dataDir: string;
}

export async function buildPipeline(config: Config, deps: PipelineDeps) {
  const { bus, store, metrics, enricher, log, dataDir } = deps;
  const v = config.views;
  const views = new ActiveViews(
    {
      idleCompleteMs: v.idleCompleteMs,
      finalAfterMs: v.finalAfterMs,
      endedRetentionMs: v.endedRetentionMs,
      stuckRebufferMs: v.stuckRebufferMs,
      gapTimeoutMs: v.gapTimeoutMs,
    },
    { minStallMs: v.minStallMs },
    (ip, userAgent) => enricher.enrich(ip, userAgent),
  );
  const consumer = new IntakeConsumer(bus, store, views, metrics, {
    dedupeRetentionMs: config.pipeline.dedupeRetentionMs,
    commitIntervalMs: pipelineCommitIntervalMs(config),
    viewTickIntervalMs: v.tickIntervalMs,
    log,
  });
  // Connectors: a pipeline stage that buffers enriched events per destination (docs/connectors.md).
  if (config.connectors.length > 0) {
    const connectorMetrics = createConnectorMetrics(metrics.registry);
    const connectors = await openConnectors(config.connectors, {
      dataDir,
      views,
      metrics: connectorMetrics,
      log,
    });
    const trailFile = join(dataDir, 'connectors', 'view-trails.json');
    consumer.addStage(new ConnectorStage(connectors, views, connectorMetrics, log, trailFile));
  }
  // Monitoring samples stream: listens to the views before the pipeline (and its rebuild) starts.
  const monitoring =
    config.monitoring.sinks.length > 0
      ? await MonitoringStage.open({
          config: config.monitoring,
          dataDir,
          views,
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

  return {
    views,
    consumer,
    realtime,
    start: async () => {
      await consumer.start();
      realtime.start();
      // Windows close only once the backlog acknowledged before a restart is applied.
      if (monitoring) void consumer.caughtUp().then(() => monitoring.startEmitting());
    },
  };
}
