/**
 * Starts and stops one openqoe server: store → registry (first start) → bus →
 * pipeline → HTTP. Stopping reverses it: no new requests, pending publishes
 * made durable, the pipeline drained (bounded by `shutdownTimeoutMs`), the
 * store closed. Whatever the pipeline did not reach stays in the log.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { monitoringRoutes } from '../api/monitoring/monitoring-routes.js';
import { type BootstrapFile, bootstrapIfEmpty } from '../auth/bootstrap.js';
import { Registry } from '../auth/registry.js';
import { EmbeddedLog } from '../bus/embedded/embedded-log.js';
import type { Config } from '../config/config-schema.js';
import { RejectedRecorder } from '../intake/kit/rejected-recorder.js';
import { type MuxIntake, startMuxIntake } from '../intake/mux/mux-intake.js';
import { type LiveService, startLive } from '../live/live-service.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { Enricher } from '../pipeline/enrich/enricher.js';
import type { IntakeConsumer } from '../pipeline/intake-consumer.js';
import type { ActiveViews } from '../pipeline/view-model/active-views.js';
import { embeddedFiltered } from '../query/realtime/filtered-realtime.js';
import { MonitoringHistory } from '../query/realtime/monitoring-history.js';
import { buildApp } from './build-app.js';
import { buildPipeline } from './build-pipeline.js';
import { type OpenedStore, openStore, storeObserver } from './open-store.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  bootstrap: BootstrapFile | undefined;
  metrics: Metrics;
  store: OpenedStore;
  consumer: IntakeConsumer;
  views: ActiveViews;
  live: LiveService;
  /** The Mux-protocol intake's TLS listener, when enabled. */
  muxIntake: MuxIntake | undefined;
  close(): Promise<void>;
}

export async function startServer(
  config: Config,
  options: { logger?: boolean | object } = {},
): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const logger = options.logger ?? { level: config.logLevel };
  const metrics = createMetrics();
  // First, so a bad database path stops the start before anything is opened.
  const enricher = await Enricher.open({
    geoDatabasePath: config.enrich.geoDatabase,
    asnDatabasePath: config.enrich.asnDatabase,
    truncateIp: config.enrich.truncateIp,
  });

  // The embedded DuckDB file, or ClickHouse when `clickhouse.url` names one (docs/clickhouse.md).
  const store = await openStore(config, dataDir, storeObserver(metrics));
  const registry = await Registry.load(store);
  const bootstrap = await bootstrapIfEmpty(registry, dataDir);

  // Errors before the app's logger exists go to stderr.
  let log: { info(m: string): void; warn(m: string): void; error(m: string): void } = {
    info: (m) => console.error(m),
    warn: (m) => console.error(m),
    error: (m) => console.error(m),
  };
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
  const rejected = new RejectedRecorder(
    store,
    metrics,
    config.intake.rejected.maxStoredBodyBytes,
    config.intake.rejected.maxPerEnvironmentPerHour,
    (err) => {
      metrics.errors.labels('rejected').inc();
      log.error(`could not record rejected payloads: ${(err as Error).message}`);
    },
  );
  const app = await buildApp({ config, store, bus, registry, metrics, rejected, logger });
  log = {
    info: (m) => app.log.info(m),
    warn: (m) => app.log.warn(m),
    error: (m) => app.log.error(m),
  };
  // --- pipeline: view model, connectors, monitoring stream, real-time tracker (pipeline/build-pipeline.ts)
  const pipeline = await buildPipeline(config, { bus, store, metrics, enricher, log, dataDir });
  const { views, consumer, realtime } = pipeline;
  // --- real-time numbers and the monitoring API (docs/monitoring-api.md)
  const rt = config.realtime;
  const monitoringHistory = new MonitoringHistory(
    {
      historyMs: rt.historyMs,
      tickMs: rt.tickMs,
      rowsPerDimension: rt.historyRowsPerDimension,
    },
    embeddedFiltered,
  );
  realtime.onTick((t) => monitoringHistory.record(t));
  monitoringRoutes(app, registry, monitoringHistory, rt.tickMs);
  // --- end real-time
  await pipeline.start();

  // Live ingest (RTMP, drift), signing keys and the stats API: routes are added before listening.
  const live = await startLive(config, store, registry, views, app, metrics, {
    ...log,
    debug: (m) => app.log.debug(m),
  });

  // --- drop-in Mux-protocol intake: its own TLS listener (docs/compatibility.md).
  const muxIntake = config.compat.mux.enabled
    ? await startMuxIntake(config, { bus, registry, metrics, rejected }, log)
    : undefined;
  // --- end Mux-protocol intake
  const address = await app.listen({ host: config.host, port: config.port });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await muxIntake?.close();
      await live.close();
      await rejected.close();
      const drained = await Promise.race([
        consumer.caughtUp().then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), config.shutdownTimeoutMs).unref()),
      ]);
      if (!drained)
        log.warn('stopping before the pipeline caught up; the rest stays in the log for the next start');
      await consumer.stop();
      // Views in progress are stored as they stand; a restart rebuilds them from the raw rows anyway.
      await consumer.flushActiveViews();
      await bus.close();
      await store.close();
      enricher.close();
    })();
    return closing;
  };
  return { app, url: address, bootstrap, metrics, store, consumer, views, live, muxIntake, close };
}
