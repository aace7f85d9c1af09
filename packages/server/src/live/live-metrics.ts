/** Prometheus metrics of the live ingest and the stats API, on the server's registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

export function createLiveMetrics(registry: Registry) {
  return {
    publishes: new Counter({
      name: 'openqoe_live_publishes_total',
      help: 'RTMP publish attempts, by outcome (accepted, unknown_key, already_publishing)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    publishing: new Gauge({
      name: 'openqoe_live_streams_publishing',
      help: 'Live streams with an encoder connected now',
      registers: [registry],
    }),
    videoPackets: new Counter({
      name: 'openqoe_live_video_packets_total',
      help: 'Video packets measured by the drift trackers',
      registers: [registry],
    }),
    statsRequests: new Counter({
      name: 'openqoe_stats_requests_total',
      help: 'Stats API requests, by endpoint and outcome (ok or the HTTP status of the refusal)',
      labelNames: ['endpoint', 'outcome'] as const,
      registers: [registry],
    }),
  };
}

export type LiveMetrics = ReturnType<typeof createLiveMetrics>;
