/**
 * The pipeline of one worker: enrichment, the view model, the monitoring
 * stream and connectors on top of the bus it is given, the same stages as
 * the embedded server (server.ts), writing to the store it is given.
 */

import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config/config-schema.js';
import { createConnectorMetrics } from '../connectors/connector-metrics.js';
import { ConnectorStage } from '../connectors/connector-stage.js';
import { openConnectors } from '../connectors/connectors.js';
import type { Metrics } from '../observability/metrics.js';
import { Enricher } from '../pipeline/enrich/enricher.js';
import { IntakeConsumer } from '../pipeline/intake-consumer.js';
import { MonitoringStage } from '../pipeline/monitoring/monitoring-stage.js';
import { type RealtimeTick, RealtimeTracker } from '../pipeline/realtime/realtime-tracker.js';
import { ActiveViews } from '../pipeline/view-model/active-views.js';
import type { Store } from '../store/store.js';

export interface PipelineWorkerDeps {
  bus: Bus;
  store: Store;
  metrics: Metrics;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  dataDir: string;
  onRealtimeTick?: (t: RealtimeTick, windowMs: number) => void;
}

export async function startPipelineWorker(config: Config, deps: PipelineWorkerDeps) {
  const { bus, store, metrics, log, dataDir } = deps;
  const enricher = await Enricher.open({
    geoDatabasePath: config.enrich.geoDatabase,
    asnDatabasePath: config.enrich.asnDatabase,
    truncateIp: config.enrich.truncateIp,
  });
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
    commitIntervalMs: config.pipeline.commitIntervalMs,
    viewTickIntervalMs: v.tickIntervalMs,
    log,
  });
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
  // Real-time numbers of this worker's views; the api node merges every worker's (realtime-share.ts).
  const rt = config.realtime;
  // Each tick's window runs from the previous tick of its environment (from here, for the first).
  const windowStart = new Map<string, number>();
  const createdAtMs = Date.now();
  const realtime = new RealtimeTracker(views, { tickMs: rt.tickMs, attemptWindowMs: rt.attemptWindowMs });
  consumer.addStage(realtime);
  const onTick = deps.onRealtimeTick;
  if (onTick)
    realtime.onTick((t) => {
      onTick(t, t.atMs - (windowStart.get(t.envId) ?? createdAtMs));
      windowStart.set(t.envId, t.atMs);
    });
  await consumer.start();
  realtime.start();
  if (monitoring) void consumer.caughtUp().then(() => monitoring.startEmitting());

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
