/**
 * The live part of a server, built in one place: signing keys, live
 * streams, drift trackers and health history, viewer counts, the RTMP
 * listener, and their routes (live streams API, signing keys API, stats API)
 * as one Fastify plugin that the server registers.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from '../auth/registry.js';
import type { Config } from '../config/config-schema.js';
import type { Metrics } from '../observability/metrics.js';
import { LiveStore, type SqlRunner } from '../store/live-store.js';
import type { LiveCounts } from './live-counts.js';
import { LiveHealth } from './live-health.js';
import { createLiveMetrics } from './live-metrics.js';
import { LiveStreams } from './live-streams.js';
import { statsRoutes } from './routes/stats-routes.js';
import { systemSigningKeysRoutes } from './routes/system-signing-keys.js';
import { videoLiveStreamsRoutes } from './routes/video-live-streams.js';
import { type IngestLog, RTMP_APP, RtmpIngest } from './rtmp-ingest.js';
import { SigningKeys } from './signing-keys.js';

export interface LiveService {
  /** rtmp://host:port/live (append /{stream_key}); undefined when RTMP is off or could not listen. */
  rtmpUrl: string | undefined;
  routes: FastifyPluginAsync;
  close(): Promise<void>;
}

export async function startLive(
  config: Config,
  sql: SqlRunner,
  registry: Registry,
  /** Live viewer counts: of this process's views, or merged from the pipeline workers' (api role). */
  counts: Pick<LiveCounts, 'count'>,
  metrics: Metrics,
  log: IngestLog & { error(m: string): void },
): Promise<LiveService> {
  const c = config.live;
  const liveMetrics = createLiveMetrics(metrics.registry);
  const store = new LiveStore(sql);
  const keys = await SigningKeys.load(store);
  const streams = await LiveStreams.load(store);
  const health = new LiveHealth(c.drift, store, (err) =>
    log.error(`could not write live stream health: ${(err as Error).message}`),
  );

  let ingest: RtmpIngest | undefined;
  let rtmpUrl: string | undefined;
  if (c.rtmp.enabled) {
    const host = c.rtmp.host || config.host;
    const candidate = new RtmpIngest(streams, health, log, liveMetrics);
    try {
      const port = await candidate.listen({ host, port: c.rtmp.port });
      ingest = candidate;
      rtmpUrl = `rtmp://${host.includes(':') ? `[${host}]` : host}:${port}/${RTMP_APP}`;
    } catch (err) {
      // Analytics keep working without the ingest; the log says why pushes will fail.
      log.error(
        `RTMP ingest not started: cannot listen on ${host}:${c.rtmp.port} (${(err as Error).message}); set live.rtmp.port`,
      );
    }
  }
  health.start();

  return {
    rtmpUrl,
    routes: async (app) => {
      systemSigningKeysRoutes(app, registry, keys);
      videoLiveStreamsRoutes(app, { registry, streams, health, store, ingest, counts });
      statsRoutes(app, { keys, streams, health, counts, metrics: liveMetrics });
    },
    close: async () => {
      await ingest?.close();
      await health.close();
    },
  };
}
