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
import { entry } from '../../../pipeline/realtime/map-entry.js';
import type { ActiveViews } from '../../../pipeline/view-model/active-views.js';
import { type ConnectorModule, postEach, secret } from '../connector-settings.js';

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
  const env = (id: string) => entry(perEnv, id, () => ({ ccv: 0, rebuffering: 0, startups: [] as number[] }));
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

export const datadogMetrics: ConnectorModule = {
  // v2 series: ≤ 500 KB compressed / 5 MB uncompressed per request.
  limits: { maxEvents: 1000, maxBytes: 2_000_000, maxRecordBytes: 100_000 },
  create(c, { key, env }) {
    const url = c.url ?? `https://api.${c.site}/api/v2/series`;
    const headers = { 'DD-API-KEY': secret(c, 'apiKey', key, env) };
    return postEach(c, { url, headers, compression: 'gzip' }, (series) => `{"series":[${series.join(',')}]}`);
  },
  // One set of series per interval boundary, on the view timer; no player events.
  series(c, views) {
    const interval = c.metricsIntervalMs;
    let last = Math.floor(Date.now() / interval) * interval;
    return (nowMs) => {
      const end = Math.floor(nowMs / interval) * interval;
      if (end <= last) return [];
      last = end;
      return qoeSeries(views, end, interval, c.tags).map((s) => ({
        envId: s.tags[0]!.slice('env:'.length),
        record: {
          id: `${s.metric}|${s.tags[0]}|${end}`,
          key: '',
          dueAtMs: 0,
          payload: Buffer.from(JSON.stringify(s)),
        },
      }));
    };
  },
};
