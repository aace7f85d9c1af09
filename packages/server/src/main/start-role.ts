/**
 * Starts one scale-out role on the NATS bus (docs/deploy.md):
 * - ingest: the intake; beacons go to JetStream, the 202 waits for its ack.
 * - pipeline: durable consumers for its partitions → view model, monitoring
 *   stream, connectors; ledger rows and views handed to the store writer.
 * - api: owns the store; the store writer and the query APIs.
 * - all: the three in one process, still over NATS.
 * The embedded default (no bus URL) is server.ts.
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { monitoringRoutes } from '../api/monitoring/monitoring-routes.js';
import { type BootstrapFile, bootstrapIfEmpty } from '../auth/bootstrap.js';
import { Registry } from '../auth/registry.js';
import type { Bus } from '../bus/bus.js';
import {
  connectNats,
  ensureStreams,
  LIVE_START,
  NatsIngestBus,
  NatsWorkerBus,
} from '../bus/nats/nats-bus.js';
import { beaconStream, countsSubject, parsePartitionList, realtimeSubject } from '../bus/partitions.js';
import { MergedLiveCounts, publishCounts } from '../cluster/live-counts-share.js';
import { ClusterFilteredRealtime } from '../cluster/realtime-filters.js';
import { encodeTick, RealtimeMerger } from '../cluster/realtime-share.js';
import { StoreHandOff } from '../cluster/store-hand-off.js';
import { StoreWriter } from '../cluster/store-writer.js';
import { WorkerFilterSets } from '../cluster/worker-filter-sets.js';
import type { Config } from '../config/config-schema.js';
import { ConfigError } from '../config/load-config.js';
import { RejectedRecorder } from '../intake/kit/rejected-recorder.js';
import { type MuxIntake, startMuxIntake } from '../intake/mux/mux-intake.js';
import { LiveCounts } from '../live/live-counts.js';
import { type LiveService, startLive } from '../live/live-service.js';
import { createMetrics } from '../observability/metrics.js';
import { MonitoringHistory } from '../query/realtime/monitoring-history.js';
import type { Store } from '../store/store.js';
import { buildApp } from './build-app.js';
import { type OpenedStore, openStore, pipelineCommitIntervalMs, storeObserver } from './open-store.js';
import { startPipelineWorker } from './pipeline-worker.js';

/** How often nodes without the store re-read environments and tokens from the api role. */
const REGISTRY_REFRESH_MS = 2_000;

export interface RunningRole {
  app: FastifyInstance;
  url: string;
  bootstrap: BootstrapFile | undefined;
  live: { rtmpUrl: string | undefined };
  /** The Mux-protocol intake's TLS listener, when enabled on an ingest node. */
  muxIntake: MuxIntake | undefined;
  /** The store this node owns (api role), as the CLI prints it. */
  store: { where?: string | undefined };
  close(): Promise<void>;
}

type Log = { info(m: string): void; warn(m: string): void; error(m: string): void };

export async function startRole(
  config: Config,
  options: { logger?: boolean | object } = {},
): Promise<RunningRole> {
  const c = config.cluster;
  const role = c.role;
  const runs = {
    ingest: role === 'ingest' || role === 'all',
    pipeline: role === 'pipeline' || role === 'all',
    api: role === 'api' || role === 'all',
  };
  // Checked before anything is opened, so a bad list stops the start with its own message.
  let own: number[] = [];
  try {
    if (runs.pipeline) own = parsePartitionList(c.ownPartitions, c.partitions);
  } catch (err) {
    throw new ConfigError('Invalid configuration', [
      { path: 'cluster.ownPartitions', problem: (err as Error).message },
    ]);
  }
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const metrics = createMetrics();
  let log: Log = {
    info: (m) => console.error(m),
    warn: (m) => console.error(m),
    error: (m) => console.error(m),
  };
  const natsOptions = {
    servers: c.bus,
    prefix: c.streamPrefix,
    partitions: c.partitions,
    beaconRetentionMs: c.beaconRetentionMs,
    storeRetentionMs: c.storeRetentionMs,
    name: `openqoe-${role}`,
    onError: (err: Error, context: string) => {
      metrics.errors.labels('bus').inc();
      log.warn(`bus ${context}: ${err.message}`);
    },
  };
  const nc = await connectNats(natsOptions).catch((err: Error) => {
    throw new ConfigError(`cannot reach the NATS bus at ${c.bus} (cluster.bus): ${err.message}`);
  });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  await ensureStreams(jsm, natsOptions);
  const closers: (() => Promise<void>)[] = [];

  // The store: owned by the api role; everyone else hands rows over NATS.
  let store: Store;
  let registry: Registry;
  let bootstrap: BootstrapFile | undefined;
  /** The store this node owns (api role). */
  let owned: OpenedStore | undefined;
  let writer: StoreWriter | undefined;
  const handOff = new StoreHandOff(nc, js, {
    prefix: c.streamPrefix,
    logId: beaconStream(c.streamPrefix),
    maxPayload,
  });
  if (runs.api) {
    // The embedded DuckDB file, or ClickHouse when `clickhouse.url` names one (docs/clickhouse.md).
    owned = await openStore(config, dataDir, storeObserver(metrics));
    store = owned;
    registry = await Registry.load(owned);
    bootstrap = await bootstrapIfEmpty(registry, dataDir);
    writer = new StoreWriter(nc, js, jsm, owned, registry, {
      prefix: c.streamPrefix,
      // ClickHouse wants few large inserts: writes are spaced like the embedded pipeline's commits.
      minWriteIntervalMs: pipelineCommitIntervalMs(config),
      log: { warn: (m) => log.warn(m), error: (m) => log.error(m) },
      // In `all`, the pipeline in this process counts its views already.
      onWritten: (kind, rows) => {
        if (kind === 'views' && !runs.pipeline) metrics.viewsStored.inc(rows);
      },
    });
    await writer.start();
    const opened = owned;
    closers.push(() => opened.close());
  } else {
    store = handOff;
    registry = await waitForRegistry(handOff, log);
    const timer = setInterval(() => {
      handOff
        .fetchRegistry()
        .then(() => registry.reload())
        .catch(() => {});
    }, REGISTRY_REFRESH_MS);
    timer.unref();
    closers.push(async () => clearInterval(timer));
  }

  const ingestBus = new NatsIngestBus(js, natsOptions, maxPayload);
  let bus: Bus = ingestBus;
  let worker: Awaited<ReturnType<typeof startPipelineWorker>> | undefined;
  let workerBus: NatsWorkerBus | undefined;
  if (runs.pipeline) {
    workerBus = new NatsWorkerBus(js, jsm, {
      ...natsOptions,
      own,
      rebuildWindowMs: config.pipeline.dedupeRetentionMs,
    });
    // Warn: the previous process of this worker stopped without committing these.
    for (const r of await workerBus.open())
      log.warn(
        `partition ${r.partition}: ${r.unacknowledged} messages a previous process received were not acknowledged; delivering them again`,
      );
    if (!runs.ingest) bus = workerBus;
  }
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
  // /healthz on the api role reports the store writer's backlog as the bus backlog.
  // /healthz on the api node reports the store writer's backlog as the bus backlog.
  const apiWriter = writer;
  if (apiWriter && !runs.ingest && !runs.pipeline) ingestBus.reportBacklog(() => apiWriter.backlog());
  const app = await buildApp({
    config,
    store,
    bus,
    registry,
    metrics,
    rejected,
    logger: options.logger ?? { level: config.logLevel },
    routes: { intake: runs.ingest, apis: runs.api },
  });
  log = { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m), error: (m) => app.log.error(m) };
  // The monitoring API on the api node answers from every worker's real-time numbers, merged.
  let merger: RealtimeMerger | undefined;
  let mergedCounts: MergedLiveCounts | undefined;
  let live: LiveService | undefined;
  const countsEveryMs = Math.max(1000, config.live.counts.refreshMs);
  if (owned) {
    const rt = config.realtime;
    // Filtered numbers are computed by the workers, per filter set (realtime-filters.ts).
    const workersOf = (envId: string) => merger?.workers(envId) ?? [];
    const filtered = new ClusterFilteredRealtime(
      nc,
      {
        prefix: c.streamPrefix,
        api: `${process.pid}@${hostname()}`,
        tickMs: rt.tickMs,
        replyTimeoutMs: c.realtimeReplyTimeoutMs,
        maxPayload,
      },
      workersOf,
    );
    const history = new MonitoringHistory(
      { historyMs: rt.historyMs, tickMs: rt.tickMs, rowsPerDimension: rt.historyRowsPerDimension },
      filtered,
    );
    monitoringRoutes(app, registry, history, rt.tickMs);
    merger = new RealtimeMerger(nc, realtimeSubject(c.streamPrefix), rt.tickMs, (t) => {
      history.record(t);
      filtered.onTick();
    });
    merger.start();
    // Live streams, signing keys and the stats API; /counts merges every worker's viewer sets.
    mergedCounts = new MergedLiveCounts(nc, countsSubject(c.streamPrefix), 3 * countsEveryMs);
    mergedCounts.start();
    live = await startLive(
      config,
      owned,
      registry,
      undefined,
      app,
      metrics,
      {
        ...log,
        debug: (m) => app.log.debug(m),
      },
      mergedCounts,
    );
  }
  if (workerBus) {
    const handOffWorker = new StoreHandOff(nc, js, {
      prefix: c.streamPrefix,
      logId: beaconStream(c.streamPrefix),
      maxPayload,
      locate: (p) => workerBus.locate(p),
      resumeFrom: { logId: workerBus.id, position: LIVE_START },
    });
    const workerName = `${process.pid}@${own.join(',')}`;
    const filterSets = new WorkerFilterSets(nc, {
      prefix: c.streamPrefix,
      worker: workerName,
      tickMs: config.realtime.tickMs,
      maxPayload,
      onError: (err) => log.warn(`real-time filter sets: ${err.message}`),
    });
    filterSets.start();
    closers.push(async () => filterSets.stop());
    worker = await startPipelineWorker(config, {
      bus: workerBus,
      store: handOffWorker,
      metrics,
      log,
      dataDir,
      onRealtimeTick: (t, windowMs) => {
        filterSets.remember(t, windowMs);
        for (const m of encodeTick(workerName, t, windowMs, filterSets.itemsFor(t), maxPayload))
          nc.publish(realtimeSubject(c.streamPrefix), m);
      },
    });
    const counts = new LiveCounts(worker.views, config.live.counts.refreshMs);
    const countsTimer = setInterval(
      () => publishCounts(nc, countsSubject(c.streamPrefix), workerName, counts),
      countsEveryMs,
    );
    countsTimer.unref();
    closers.push(async () => clearInterval(countsTimer));
    log.info(`pipeline worker owns partitions ${own.join(',')} of ${c.partitions}`);
  }

  // The drop-in Mux-protocol listener belongs with the intake (docs/compatibility.md).
  const muxIntake =
    runs.ingest && config.compat.mux.enabled
      ? await startMuxIntake(config, { bus, registry, metrics, rejected }, log)
      : undefined;
  const address = await app.listen({ host: config.host, port: config.port });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await muxIntake?.close();
      await rejected.close();
      await ingestBus.close();
      if (worker) await worker.close();
      await workerBus?.close();
      await writer?.stop();
      merger?.stop();
      mergedCounts?.stop();
      await live?.close();
      for (const f of closers) await f();
      await nc.drain().catch(() => {});
    })();
    return closing;
  };
  return {
    app,
    url: address,
    bootstrap,
    live: { rtmpUrl: live?.rtmpUrl },
    muxIntake,
    store: { where: owned?.where },
    close,
  };
}

/** Waits for the api role to answer with environments and tokens (it may start after this node). */
async function waitForRegistry(handOff: StoreHandOff, log: Log): Promise<Registry> {
  for (let attempt = 0; ; attempt++) {
    try {
      await handOff.fetchRegistry();
      return await Registry.load(handOff);
    } catch {
      if (attempt === 0) log.warn('waiting for an api node to answer with environments and tokens');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
