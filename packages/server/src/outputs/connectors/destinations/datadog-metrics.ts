/**
 * Datadog metrics: aggregated QoE numbers as series,
 * `POST https://api.{site}/api/v2/series` with `DD-API-KEY` and
 * `{"series":[{"metric","type","points":[{"timestamp","value"}],"tags"}]}`
 * (type 3 = gauge, timestamps in epoch seconds). Every `intervalMs`, per
 * environment, from the views in memory:
 *
 * - `openqoe.current_concurrent_viewers`: views in progress that started
 *   playback and are not paused, ended or failed;
 * - `openqoe.current_rebuffering_percentage`: share of those rebuffering now;
 * - `openqoe.video_startup_time.p50` / `.p95` (ms): over views whose first
 *   frame came in the interval (omitted when there is none).
 *
 * The series go through the same disk buffer as events, so an outage of
 * Datadog delays them instead of losing them.
 */
import type { ActiveViews } from '../../../pipeline/view-model/active-views.js';
import type { BatchLimits, Destination, HttpRequest } from '../destination.js';
import { encodeBody, postHttp } from '../http-post.js';

export interface DatadogMetricsSettings {
  url: string;
  apiKey: string;
  tags: string[];
  compression: 'gzip' | 'none';
  requestTimeoutMs: number;
}

/** v2 series: ≤ 500 KB compressed / 5 MB uncompressed per request. */
export const DATADOG_METRICS_LIMITS: BatchLimits = {
  maxEvents: 1000,
  maxBytes: 2_000_000,
  maxRecordBytes: 100_000,
};

export const datadogSeriesUrl = (site: string) => `https://api.${site}/api/v2/series`;

export interface Series {
  metric: string;
  type: 3;
  points: { timestamp: number; value: number }[];
  tags: string[];
}

const WATCHING = new Set(['playing', 'rebuffering', 'seeking', 'startup', 'ad']);

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** The series for the interval ending at `endMs` (aligned), per environment. */
export function qoeSeries(views: ActiveViews, endMs: number, intervalMs: number, tags: string[]): Series[] {
  const perEnv = new Map<string, { ccv: number; rebuffering: number; startups: number[] }>();
  const env = (id: string) => {
    let e = perEnv.get(id);
    if (!e) {
      e = { ccv: 0, rebuffering: 0, startups: [] };
      perEnv.set(id, e);
    }
    return e;
  };
  for (const view of views.values()) {
    const m = view.machine;
    if (view.status !== 'active' || !m.isView) continue;
    const e = env(view.envId);
    if (m.started && WATCHING.has(m.currentState)) {
      e.ccv++;
      if (m.currentState === 'rebuffering') e.rebuffering++;
    }
    if (m.started && m.firstFrameAtMs > endMs - intervalMs && m.firstFrameAtMs <= endMs) {
      const startup = m.metrics(false).videoStartupTimeMs;
      if (startup !== null) e.startups.push(startup);
    }
  }
  const timestamp = Math.floor(endMs / 1000);
  const out: Series[] = [];
  const gauge = (metric: string, value: number, envId: string) =>
    out.push({ metric, type: 3, points: [{ timestamp, value }], tags: [`env:${envId}`, ...tags] });
  for (const [envId, e] of perEnv) {
    gauge('openqoe.current_concurrent_viewers', e.ccv, envId);
    gauge('openqoe.current_rebuffering_percentage', e.ccv > 0 ? (100 * e.rebuffering) / e.ccv : 0, envId);
    if (e.startups.length > 0) {
      const sorted = e.startups.sort((a, b) => a - b);
      gauge('openqoe.video_startup_time.p50', percentile(sorted, 50), envId);
      gauge('openqoe.video_startup_time.p95', percentile(sorted, 95), envId);
    }
  }
  return out;
}

export function buildDatadogSeriesRequest(
  s: DatadogMetricsSettings,
  records: readonly string[],
): HttpRequest {
  return {
    url: s.url,
    headers: { 'DD-API-KEY': s.apiKey, 'Content-Type': 'application/json' },
    body: Buffer.from(`{"series":[${records.join(',')}]}`),
  };
}

export function datadogMetricsDestination(s: DatadogMetricsSettings): Destination {
  return {
    limits: DATADOG_METRICS_LIMITS,
    send: (records, signal) =>
      postHttp(encodeBody(buildDatadogSeriesRequest(s, records), s.compression), s.requestTimeoutMs, signal),
  };
}
