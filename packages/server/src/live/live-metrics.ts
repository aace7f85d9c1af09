/** Prometheus metrics of the live ingest and the stats API, on the server's registry. */
import type { Registry } from 'prom-client';
import { metricKit } from '../observability/metrics.js';

export function createLiveMetrics(registry: Registry) {
  const { counter, gauge } = metricKit(registry);
  return {
    publishes: counter(
      'openqoe_live_publishes_total',
      'RTMP publish attempts, by outcome (accepted, unknown_key, already_publishing)',
      ['outcome'],
    ),
    publishing: gauge('openqoe_live_streams_publishing', 'Live streams with an encoder connected now'),
    videoPackets: counter('openqoe_live_video_packets_total', 'Video packets measured by the drift trackers'),
    statsRequests: counter(
      'openqoe_stats_requests_total',
      'Stats API requests, by endpoint and outcome (ok or the HTTP status of the refusal)',
      ['endpoint', 'outcome'],
    ),
  };
}

export type LiveMetrics = ReturnType<typeof createLiveMetrics>;
