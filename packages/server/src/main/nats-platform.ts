/**
 * The scale-out platform on NATS JetStream (docs/deploy.md): ingest nodes
 * publish beacons to partitioned streams, pipeline workers consume their
 * partitions and hand ledger rows and views to the api role, which owns the
 * store and merges every worker's real-time numbers and viewer counts.
 */
import { hostname } from 'node:os';
import { bootstrapIfEmpty } from '../auth/bootstrap.js';
import { Registry } from '../auth/registry.js';
import {
  connectNats,
  ensureStreams,
  LIVE_START,
  type NatsBusOptions,
  NatsIngestBus,
  NatsWorkerBus,
} from '../bus/nats/nats-bus.js';
import { countsSubject, parsePartitionList, realtimeSubject } from '../bus/partitions.js';
import { MergedLiveCounts, publishCounts } from '../cluster/live-counts-share.js';
import { ClusterFilteredRealtime } from '../cluster/realtime-filters.js';
import { encodeTick, RealtimeMerger } from '../cluster/realtime-share.js';
import { StoreHandOff } from '../cluster/store-hand-off.js';
import { StoreWriter } from '../cluster/store-writer.js';
import { WorkerFilterSets } from '../cluster/worker-filter-sets.js';
import type { Config } from '../config/config-schema.js';
import { ConfigError } from '../config/load-config.js';
import { LiveCounts } from '../live/live-counts.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { Log } from './feature.js';
import { type OpenedStore, openStore, pipelineCommitIntervalMs, storeObserver } from './open-store.js';
import type { Platform, RunningPipeline } from './platform.js';
import { type Roles, rolesOf } from './roles.js';

/** How often nodes without the store re-read environments and tokens from the api role. */
const REGISTRY_REFRESH_MS = 2_000;

export async function natsPlatform(
  config: Config,
  deps: { dataDir: string; metrics: Metrics; log: Log },
): Promise<Platform> {
  const { dataDir, metrics, log } = deps;
  const c = config.cluster;
  const runs: Roles = rolesOf(config);
  // Checked before anything is opened, so a bad list stops the start with its own message.
  let own: number[] = [];
  try {
    if (runs.pipeline) own = parsePartitionList(c.ownPartitions, c.partitions);
  } catch (err) {
    throw new ConfigError('Invalid configuration', [
      { path: 'cluster.ownPartitions', problem: (err as Error).message },
    ]);
  }
  const natsOptions: NatsBusOptions = {
    servers: c.bus,
    prefix: c.streamPrefix,
    partitions: c.partitions,
    beaconRetentionMs: c.beaconRetentionMs,
    storeRetentionMs: c.storeRetentionMs,
    name: `openqoe-${c.role}`,
    onError: (err: Error, context: string) => {
      metrics.errors.labels('bus').inc();
      log.warn(`bus ${context}: ${err.message}`);
    },
  };
  const nc = await connectNats(natsOptions).catch((err: Error) => {
    throw new ConfigError(`cannot reach the NATS bus at ${c.bus} (cluster.bus): ${err.message}`);
  });
  // Whatever this function opened, closed in reverse by `close` (also when a later step fails).
  const closers: (() => Promise<void> | void)[] = [async () => void (await nc.drain().catch(() => {}))];
  const closeAll = async () => {
    for (const f of closers.splice(0).reverse()) await f();
  };
  try {
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    await ensureStreams(jsm, natsOptions);

    // The store: owned by the api role; everyone else hands rows over NATS.
    let store: Store;
    let registry: Registry;
    let bootstrap: Platform['bootstrap'];
    let owned: OpenedStore | undefined;
    let writer: StoreWriter | undefined;
    const handOff = new StoreHandOff(nc, js, {
      prefix: c.streamPrefix,
      maxPayload,
    });
    if (runs.api) {
      const opened = await openStore(config, dataDir, storeObserver(metrics));
      closers.push(() => opened.close());
      owned = opened;
      store = opened;
      registry = await Registry.load(opened);
      bootstrap = await bootstrapIfEmpty(registry, dataDir);
      const w = new StoreWriter(nc, js, jsm, opened, registry, {
        prefix: c.streamPrefix,
        // ClickHouse wants few large inserts: writes are spaced like the embedded pipeline's commits.
        minWriteIntervalMs: pipelineCommitIntervalMs(config),
        log,
        // In `all`, the pipeline in this process counts its views already.
        onWritten: (kind, rows) => {
          if (kind === 'views' && !runs.pipeline) metrics.viewsStored.inc(rows);
        },
        onFailures: (failures) => {
          if (failures) metrics.storeWriteFailures.labels('hand-off').inc();
          metrics.pipelineStalled.labels('store_writer').set(failures ? 1 : 0);
        },
      });
      await w.start();
      closers.push(() => w.stop());
      writer = w;
    } else {
      store = handOff;
      registry = await waitForRegistry(handOff, log);
      const refresh = () => handOff.fetchRegistry().then(() => registry.reload());
      const timer = setInterval(() => refresh().catch(() => {}), REGISTRY_REFRESH_MS);
      timer.unref();
      closers.push(() => clearInterval(timer));
    }

    const ingestBus = new NatsIngestBus(js, natsOptions, maxPayload);
    closers.push(() => ingestBus.close());
    // /healthz on the api node reports the store writer's backlog as the bus backlog.
    const apiWriter = writer;
    if (apiWriter && !runs.ingest && !runs.pipeline) ingestBus.reportBacklog(() => apiWriter.backlog());
    let workerBus: NatsWorkerBus | undefined;
    if (runs.pipeline) {
      const wb = new NatsWorkerBus(js, jsm, {
        ...natsOptions,
        own,
        rebuildWindowMs: config.pipeline.dedupeRetentionMs,
      });
      // Warn: the previous process of this worker stopped without committing these.
      for (const r of await wb.open())
        log.warn(
          `partition ${r.partition}: ${r.unacknowledged} messages a previous process received were not acknowledged; delivering them again`,
        );
      closers.push(() => wb.close());
      workerBus = wb;
    }
    const prefix = c.streamPrefix;
    const workerName = `${process.pid}@${own.join(',')}`;
    const countsEveryMs = Math.max(1000, config.live.counts.refreshMs);

    return {
      name: 'NATS bus',
      store,
      owned,
      registry,
      bootstrap,
      bus: runs.ingest || !workerBus ? ingestBus : workerBus,
      pipelineInput: async () => {
        if (!workerBus) throw new Error('this role runs no pipeline');
        const wb = workerBus;
        const writeTo = new StoreHandOff(nc, js, {
          prefix,
          maxPayload,
          locate: (p) => wb.locate(p),
          resumeFrom: { logId: wb.id, position: LIVE_START },
        });
        return { bus: wb, store: writeTo };
      },
      pipelineStarted: (pipeline: RunningPipeline) => {
        // Real-time numbers of this worker's views; the api node merges every worker's (realtime-share.ts).
        const filterSets = new WorkerFilterSets(nc, {
          prefix,
          worker: workerName,
          tickMs: config.realtime.tickMs,
          maxPayload,
          onError: (err) => log.warn(`real-time filter sets: ${err.message}`),
        });
        filterSets.start();
        // Each tick's window runs from the previous tick of its environment (from now, for the first).
        const windowStart = new Map<string, number>();
        const startedAtMs = Date.now();
        pipeline.realtime.onTick((t) => {
          const windowMs = t.atMs - (windowStart.get(t.envId) ?? startedAtMs);
          windowStart.set(t.envId, t.atMs);
          filterSets.remember(t, windowMs);
          for (const m of encodeTick(workerName, t, windowMs, filterSets.itemsFor(t), maxPayload))
            nc.publish(realtimeSubject(prefix), m);
        });
        // Viewer counts of this worker's views, merged by the api node for /counts.
        const counts = new LiveCounts(pipeline.views, config.live.counts.refreshMs);
        const countsTimer = setInterval(
          () => publishCounts(nc, countsSubject(prefix), workerName, counts),
          countsEveryMs,
        );
        countsTimer.unref();
        log.info(`pipeline worker owns partitions ${own.join(',')} of ${c.partitions}`);
        return {
          name: 'worker shares',
          close: () => {
            clearInterval(countsTimer);
            filterSets.stop();
          },
        };
      },
      realtimeSource: () => {
        const rt = config.realtime;
        let merger: RealtimeMerger | undefined;
        // Filtered numbers are computed by the workers, per filter set (realtime-filters.ts).
        const filtered = new ClusterFilteredRealtime(
          nc,
          {
            prefix,
            api: `${process.pid}@${hostname()}`,
            tickMs: rt.tickMs,
            replyTimeoutMs: c.realtimeReplyTimeoutMs,
            maxPayload,
          },
          (envId) => merger?.workers(envId) ?? [],
        );
        return {
          name: 'real-time merge',
          filtered,
          subscribe: (record) => {
            merger = new RealtimeMerger(nc, realtimeSubject(prefix), rt.tickMs, (t) => {
              record(t);
              filtered.onTick();
            });
            merger.start();
          },
          close: () => merger?.stop(),
        };
      },
      countSource: () => {
        const merged = new MergedLiveCounts(nc, countsSubject(prefix), 3 * countsEveryMs);
        merged.start();
        return Object.assign(merged, { name: 'merged viewer counts', close: () => merged.stop() });
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
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
