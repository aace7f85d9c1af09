/**
 * The one way a server starts, whatever its role: the embedded default
 * (every part in one process on the append-only log) or one scale-out role
 * on NATS (ingest, pipeline, api, or all three). It builds the HTTP app
 * once, opens the platform (store and bus), starts the features the role
 * needs in the order data flows, then listens. Stopping closes the app
 * (no new requests) and then every feature in reverse: intakes first, the
 * pipeline drained, the store last. A start that fails closes what it
 * had started.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BootstrapFile } from '../auth/bootstrap.js';
import type { Config } from '../config/config-schema.js';
import { configWarnings } from '../config/load-config.js';
import { listenProblem } from '../http/listen-problem.js';
import type { MuxIntake } from '../intake/mux/mux-intake.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { IntakeConsumer } from '../pipeline/intake-consumer.js';
import type { ActiveViews } from '../pipeline/view-model/active-views.js';
import { buildApp } from './build-app.js';
import { embeddedPlatform } from './embedded-platform.js';
import { Features, type Log } from './feature.js';
import { alertsFeature } from './features/alerts-feature.js';
import { apiFeature } from './features/api-feature.js';
import { intakeFeature } from './features/intake-feature.js';
import { liveFeature } from './features/live-feature.js';
import { pagesFeature } from './features/pages-feature.js';
import { pipelineFeature } from './features/pipeline-feature.js';
import { natsPlatform } from './nats-platform.js';
import type { OpenedStore } from './open-store.js';
import type { Platform } from './platform.js';
import { rolesOf } from './roles.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  bootstrap: BootstrapFile | undefined;
  metrics: Metrics;
  /** The store this node owns (embedded, api role); undefined on ingest and pipeline nodes. */
  store: OpenedStore | undefined;
  /** This node's pipeline (embedded, pipeline role). */
  consumer: IntakeConsumer | undefined;
  views: ActiveViews | undefined;
  live: { rtmpUrl: string | undefined };
  /** The Mux-protocol intake's TLS listener, when enabled on this node. */
  muxIntake: MuxIntake | undefined;
  /** Optional listeners (RTMP, Mux) that are off on this node, and why. */
  off: { rtmp: string | undefined; mux: string | undefined };
  close(): Promise<void>;
}

export async function assemble(
  config: Config,
  options: { logger?: boolean | object } = {},
): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const metrics = createMetrics();
  const app = await buildApp({ config, metrics, logger: options.logger ?? { level: config.logLevel } });
  const log: Log = app.log;
  for (const warning of configWarnings(config)) log.warn(`config: ${warning}`);
  const runs = rolesOf(config);
  const deps = { dataDir, metrics, log };
  const features = new Features();
  const closeAll = async () => {
    await app.close();
    await features.closeAll(log);
  };
  try {
    const platform = await features.add(
      config.cluster.bus ? natsPlatform(config, deps) : embeddedPlatform(config, deps),
    );
    const listenersOff: string[] = [];
    await features.add(pagesFeature(config, app, platform, runs, metrics, listenersOff));
    // Built now, started below once everything that listens to it has subscribed.
    const pipeline = runs.pipeline ? await features.add(pipelineFeature(config, platform, deps)) : undefined;
    let rtmp: { url: string | null; off_reason: string | null } | undefined;
    if (runs.api) {
      const owning = ownsStore(platform);
      const api = await features.add(apiFeature(config, app, owning, pipeline, metrics, deps));
      // Evaluated here only: on a cluster's api role, from every worker's merged numbers.
      await features.add(alertsFeature(config, app, owning, api.realtime, api.notifier, metrics, log));
      rtmp = (await features.add(liveFeature(config, app, owning, pipeline, deps))).rtmp;
    }
    // Last to start, first to close: nothing is accepted while the pipeline drains.
    // Where the pipeline runs here, the intake asks it whether a view id it does not know is in memory.
    const inPipeline =
      pipeline && ((envId: string, viewId: string) => pipeline.views.get(envId, viewId) !== undefined);
    const intake = runs.ingest
      ? await features.add(intakeFeature(config, app, platform, { ...deps, inPipeline }))
      : undefined;
    // A port taken or disabled by config: only a taken one is news for /healthz.
    if (rtmp?.off_reason && config.live.rtmp.enabled) listenersOff.push(rtmp.off_reason);
    if (intake?.muxOff) listenersOff.push(intake.muxOff);
    await pipeline?.start();
    const url = await app.listen({ host: config.host, port: config.port }).catch((err: unknown) => {
      throw new Error(
        `HTTP ${listenProblem(err, config.host, config.port)}: choose another with --port (OPENQOE_PORT, or port in the config file)`,
      );
    });
    let closing: Promise<void> | undefined;
    return {
      app,
      url,
      bootstrap: platform.bootstrap,
      metrics,
      store: platform.owned,
      consumer: pipeline?.consumer,
      views: pipeline?.views,
      live: { rtmpUrl: rtmp?.url ?? undefined },
      muxIntake: intake?.muxIntake,
      off: {
        rtmp: config.live.rtmp.enabled ? (rtmp?.off_reason ?? undefined) : undefined,
        mux: intake?.muxOff,
      },
      close: () => {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (err) {
    await closeAll().catch(() => {});
    throw err;
  }
}

function ownsStore(platform: Platform): Platform & { owned: OpenedStore } {
  if (!platform.owned) throw new Error('the api role owns the store');
  return platform as Platform & { owned: OpenedStore };
}
