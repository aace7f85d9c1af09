/**
 * The values a rule watches, over the history the APIs keep, as chart
 * lines: a real-time metric from the monitoring API (its last 30 minutes;
 * per breakdown value, the most-watched values of each tick), a view metric
 * from the query API's timeseries (per bucket of ended views; per
 * breakdown value, the five values with the most views). Used by the rule
 * form's preview and the incident page.
 */
import type {
  MetricBreakdownResponse,
  MetricTimeseriesResponse,
  MonitoringBreakdownTimeseriesResponse,
  MonitoringTimeseriesResponse,
} from '@openqoe/schema';
import { getJson } from './api.js';

export interface SeriesSpec {
  metric: string;
  measurement?: string | null | undefined;
  /** Set: a view metric over ended views; else a real-time metric. */
  windowed: boolean;
  breakdown?: string | null;
  filters: string[];
  /** View metrics: the query API's timeframe (`24:hours` or two epoch seconds). */
  timeframe?: string[] | undefined;
}

export interface Lines {
  /** Epoch seconds. */
  x: number[];
  /** One line per breakdown value; else one line, labelled `value`, for the whole series. */
  byValue: boolean;
  lines: { label: string; values: (number | null)[] }[];
}

const MONITORING = '/data/v1/monitoring/metrics';
const METRICS = '/data/v1/metrics';
const PER_VALUE = 5;

export async function loadLines(s: SeriesSpec): Promise<Lines> {
  const filters = { 'filters[]': s.filters };
  if (!s.windowed) {
    const measurement = s.metric === 'video_startup_time' ? s.measurement || undefined : undefined;
    if (!s.breakdown) {
      const r = await getJson<MonitoringTimeseriesResponse>(`${MONITORING}/${s.metric}/timeseries`, {
        ...filters,
        measurement,
      });
      return {
        x: r.data.map((p) => Date.parse(p.date) / 1000),
        byValue: false,
        lines: [{ label: 'value', values: r.data.map((p) => p.value) }],
      };
    }
    const r = await getJson<MonitoringBreakdownTimeseriesResponse>(
      `${MONITORING}/${s.metric}/breakdown-timeseries`,
      { ...filters, measurement, dimension: s.breakdown },
    );
    const names = [...new Set(r.data.flatMap((t) => t.values.map((v) => v.value)))];
    return {
      x: r.data.map((t) => Date.parse(t.date) / 1000),
      byValue: true,
      lines: names.map((name) => ({
        label: name || '(none)',
        values: r.data.map((t) => t.values.find((v) => v.value === name)?.metric_value ?? null),
      })),
    };
  }
  const scope = { 'timeframe[]': s.timeframe ?? ['24:hours'], measurement: s.measurement || undefined };
  const series = (f: string[]) =>
    getJson<MetricTimeseriesResponse>(`${METRICS}/${s.metric}/timeseries`, { ...scope, 'filters[]': f });
  if (!s.breakdown) {
    const r = await series(s.filters);
    return {
      x: r.data.map((p) => p.time),
      byValue: false,
      lines: [{ label: 'value', values: r.data.map((p) => p.value) }],
    };
  }
  const top = await getJson<MetricBreakdownResponse>(`${METRICS}/${s.metric}/breakdown`, {
    ...scope,
    ...filters,
    group_by: s.breakdown,
    order_by: 'views',
    order_direction: 'desc',
    limit: PER_VALUE,
  });
  const each = await Promise.all(
    top.data.map((row) =>
      series([...s.filters, `${s.breakdown}:${row.field}`]).then((r) => [row.field, r] as const),
    ),
  );
  const x = each[0]?.[1].data.map((p) => p.time) ?? [];
  return {
    x,
    byValue: true,
    lines: each.map(([name, r]) => ({ label: name || '(none)', values: r.data.map((p) => p.value) })),
  };
}
