/**
 * The query and system APIs of an api node: metrics and views from the
 * store, environments and access tokens, and the real-time monitoring API
 * over the ticks the platform delivers (this process's pipeline, or every
 * worker's merged); the alert notification channels and their notifier
 * (outputs/notifications/), which the alert engine notifies through.
 */
import type { FastifyInstance } from 'fastify';
import { metricsRoutes } from '../../api/data/metrics-routes.js';
import { videoViewsRoutes } from '../../api/data/video-views-routes.js';
import { monitoringRoutes } from '../../api/monitoring/monitoring-routes.js';
import { systemAccessTokensRoutes } from '../../api/system/system-access-tokens.js';
import { systemEnvironmentsRoutes } from '../../api/system/system-environments.js';
import { systemNotificationChannelsRoutes } from '../../api/system/system-notification-channels.js';
import type { Config } from '../../config/config-schema.js';
import type { Metrics } from '../../observability/metrics.js';
import type { ChannelNotifier } from '../../outputs/notifications/notifier.js';
import { openNotifier } from '../../outputs/notifications/open-notifier.js';
import type { RealtimeTotals } from '../../pipeline/realtime/realtime-tracker.js';
import { MonitoringHistory } from '../../query/realtime/monitoring-history.js';
import type { Feature, Log } from '../feature.js';
import type { OpenedStore } from '../open-store.js';
import type { Platform, RealtimeSource, RunningPipeline } from '../platform.js';

/** The real-time ticks this node's APIs receive, for other features (alerting) to follow too. */
export interface RealtimeTicks extends Pick<RealtimeSource, 'filtered'> {
  onTick(listener: (t: RealtimeTotals) => void): void;
}

export interface RunningApi extends Feature {
  realtime: RealtimeTicks;
}

export async function apiFeature(
  config: Config,
  app: FastifyInstance,
  platform: Platform & { owned: OpenedStore },
  pipeline: RunningPipeline | undefined,
  metrics: Metrics,
  deps: { dataDir: string; log: Log },
): Promise<RunningApi & { notifier: ChannelNotifier }> {
  const { registry, owned } = platform;
  const notifier = await openNotifier({
    sql: owned,
    config: config.notifications,
    dataDir: deps.dataDir,
    registry: metrics.registry,
    log: deps.log,
  });
  await app.register(async (scope) => {
    metricsRoutes(scope, registry, owned, (rollup) =>
      metrics.rollupQueries.labels(rollup ? 'rollup' : 'views').inc(),
    );
    videoViewsRoutes(scope, registry, owned);
    systemEnvironmentsRoutes(scope, registry);
    systemAccessTokensRoutes(scope, registry);
    systemNotificationChannelsRoutes(scope, registry, notifier);
  });
  // Real-time numbers and the monitoring API (docs/monitoring-api.md).
  const rt = config.realtime;
  const source = platform.realtimeSource(pipeline);
  const history = new MonitoringHistory(
    { historyMs: rt.historyMs, tickMs: rt.tickMs, rowsPerDimension: rt.historyRowsPerDimension },
    source.filtered,
  );
  const listeners: ((t: RealtimeTotals) => void)[] = [];
  source.subscribe((t) => {
    history.record(t);
    for (const l of listeners) l(t);
  });
  await app.register(async (scope) => monitoringRoutes(scope, registry, history, rt.tickMs));
  return {
    name: 'APIs',
    notifier,
    close: async () => {
      await source.close?.();
      await notifier.close();
    },
    realtime: { filtered: source.filtered, onTick: (l) => listeners.push(l) },
  };
}
