/**
 * Live streams on an api node: RTMP ingest, drift and health, signing keys
 * and the stats API (live/live-service.ts), with viewer counts from the
 * platform. Routes are added before the app listens.
 */
import type { RtmpIngestInfo } from '@openqoe/schema';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config-schema.js';
import { type LiveService, startLive } from '../../live/live-service.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Feature, Log } from '../feature.js';
import type { OpenedStore } from '../open-store.js';
import type { Platform, RunningPipeline } from '../platform.js';

export interface RunningLive extends Feature {
  rtmp: RtmpIngestInfo;
}

export async function liveFeature(
  config: Config,
  app: FastifyInstance,
  platform: Platform & { owned: OpenedStore },
  pipeline: RunningPipeline | undefined,
  deps: { metrics: Metrics; log: Log },
): Promise<RunningLive> {
  const counts = platform.countSource(pipeline);
  let live: LiveService;
  try {
    live = await startLive(config, platform.owned, platform.registry, counts, deps.metrics, deps.log);
  } catch (err) {
    await counts.close?.();
    throw err;
  }
  await app.register(live.routes);
  return {
    name: 'live',
    rtmp: live.rtmp,
    close: async () => {
      await live.close();
      await counts.close?.();
    },
  };
}
