/** How the monitoring API writes numbers and times: rounded values, display strings, ISO seconds. */
import type { RealtimeMetricId } from '../../pipeline/realtime/realtime-catalog.js';
import { REALTIME_METRICS } from '../../pipeline/realtime/realtime-catalog.js';
import type { RowValues } from '../../query/realtime/monitoring-history.js';

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const round = (v: number | null, digits = 3) =>
  v === null || !Number.isFinite(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits;

export function metricOf(
  row: RowValues | null,
  metric: RealtimeMetricId,
  measurement?: 'median' | 'p95',
): number | null {
  if (!row) return null;
  if (metric === 'video_startup_time' && measurement === 'p95') return row.startupP95;
  return row.metrics[metric];
}

export function display(metric: RealtimeMetricId, v: number | null): string {
  if (v === null) return '–';
  switch (REALTIME_METRICS[metric].unit) {
    case 'percentage':
      return `${v.toFixed(1)}%`;
    case 'milliseconds':
      return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
    case 'bps':
      return v >= 1e6 ? `${(v / 1e6).toFixed(2)} Mbps` : `${Math.round(v / 1000)} kbps`;
    default:
      return String(v);
  }
}
