/**
 * The live part of a server, built in one place: signing keys, live
 * streams, drift trackers and health history, viewer counts, the RTMP
 * listener, and their routes (live streams API, signing keys API, stats API)
 * as one Fastify plugin that the server registers.
 */
import type { RtmpIngestInfo } from '@openqoe/schema';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from '../auth/registry.js';
import type { Config } from '../config/config-schema.js';
import { ConnectionGuard } from '../http/connection-guard.js';
import { listenerOff } from '../http/listen-problem.js';
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
import { StatsTokenCache } from './stats-token.js';

export interface LiveService {
  /** rtmp://host:port/live (append /{stream_key}), or why the RTMP ingest is off. */
  rtmp: RtmpIngestInfo;
  /** The live routes, to register on the app. */
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
  const rtmp: RtmpIngestInfo = {
    url: null,
    off_reason:
      'RTMP ingest is off (live.rtmp.enabled is false): set live.rtmp.enabled to true to accept pushes',
  };
  if (c.rtmp.enabled) {
    const host = c.rtmp.host || config.host;
    const guard = new ConnectionGuard(config.connections, 'rtmp', metrics, log);
    const candidate = new RtmpIngest(streams, health, log, liveMetrics, guard);
    try {
      const { handshakeTimeoutMs, idleTimeoutMs } = config.connections;
      const port = await candidate.listen({ host, port: c.rtmp.port, handshakeTimeoutMs, idleTimeoutMs });
      ingest = candidate;
      rtmp.url = `rtmp://${host.includes(':') ? `[${host}]` : host}:${port}/${RTMP_APP}`;
      rtmp.off_reason = null;
    } catch (err) {
      // Analytics keep working without the ingest; the log, the API and the Live page say why pushes fail.
      rtmp.off_reason = listenerOff('RTMP ingest', err, host, c.rtmp.port, ['live', 'rtmp']);
      log.error(rtmp.off_reason);
    }
  }
  health.start();

  return {
    rtmp,
    routes: async (app) => {
      systemSigningKeysRoutes(app, registry, keys);
      videoLiveStreamsRoutes(app, { registry, streams, health, store, ingest, rtmp, counts });
      const tokens = new StatsTokenCache(config.auth.statsTokenCacheSize);
      statsRoutes(app, { keys, tokens, streams, health, counts, metrics: liveMetrics });
    },
    close: async () => {
      await ingest?.close();
      await health.close();
    },
  };
}
