/**
 * What Monitor and Metrics keep in the URL's query, read back into their
 * controls, and the links other pages (and notifications) build to open them
 * on one series. The parameters are documented in docs/dashboard.md
 * ("Links"); defaults are left out of the URL. The APIs' spellings
 * (`filters[]`, `timeframe[]`, `dimension`) are read too, so a link built
 * from an API query works; writing the URL replaces them with the page's own.
 */
import { withQuery } from './router.js';

export const MONITOR_DEFAULT_METRIC = 'current_rebuffering_percentage';
export const METRICS_DEFAULTS = { timeframe: '24:hours', metric: 'video_startup_time', breakdown: 'cdn' };

export interface MonitorState {
  /** A real-time metric id. */
  metric: string;
  /** `median` | `p95` (video startup time only). */
  measurement: string;
  /** `dimension:value` or `!dimension:value`. */
  filters: string[];
  /** A dimension whose breakdown leads the page. */
  breakdown: string;
  /** Refresh interval in seconds; 0: not in the URL. */
  refresh: number;
  /** `scale=clip`: the chart's axis cut above a spike (chart.tsx, spikeClip). */
  clip: boolean;
}

export interface MetricsState {
  /** `24:hours` (a trailing duration) or `[from, to]` in epoch seconds. */
  timeframe: string[];
  metric: string;
  measurement: string;
  breakdown: string;
  filters: string[];
  /** `compare=previous`: the previous period drawn dashed, and deltas. */
  compare: boolean;
  /** `scale=clip`: the chart's axis cut above a spike (chart.tsx, spikeClip). */
  clip: boolean;
}

/** Metric ids are snake_case; a link may spell them with hyphens (`current-rebuffering-percentage`). */
const metricId = (v: string | null) => (v ?? '').trim().replace(/-/g, '_');

const all = (q: URLSearchParams, name: string) => [...q.getAll(name), ...q.getAll(`${name}[]`)];
const filtersOf = (q: URLSearchParams) => all(q, 'filters').filter((f) => f.includes(':'));
/** The API spellings a written URL drops. */
const ALIASES = { 'filters[]': undefined, 'timeframe[]': undefined, dimension: undefined };

export function readMonitorState(q: URLSearchParams): MonitorState {
  return {
    metric: metricId(q.get('metric')) || MONITOR_DEFAULT_METRIC,
    measurement: q.get('measurement') === 'p95' ? 'p95' : 'median',
    filters: filtersOf(q),
    breakdown: q.get('breakdown') ?? q.get('dimension') ?? '',
    refresh: Number(q.get('refresh')) || 0,
    clip: q.get('scale') === 'clip',
  };
}

/** `timeframe` (or `timeframe[]`): one `N:unit`, or `from` and `to` in epoch seconds, from before to. */
export function readTimeframe(q: URLSearchParams): string[] {
  const tf = all(q, 'timeframe');
  const absolute = tf.length === 2 && tf.every((t) => /^\d+$/.test(t)) && Number(tf[0]) < Number(tf[1]);
  return absolute ? tf : [tf.length === 1 && /^\d+:\w+$/.test(tf[0]!) ? tf[0]! : METRICS_DEFAULTS.timeframe];
}

/** A timeframe as the URL keeps it: the default left out. */
export const timeframeQuery = (tf: string[] | undefined) =>
  tf && !(tf.length === 1 && tf[0] === METRICS_DEFAULTS.timeframe) ? tf : undefined;

export function readMetricsState(q: URLSearchParams): MetricsState {
  return {
    timeframe: readTimeframe(q),
    metric: metricId(q.get('metric')) || METRICS_DEFAULTS.metric,
    measurement: q.get('measurement') ?? '',
    breakdown: q.get('breakdown') || q.get('dimension') || METRICS_DEFAULTS.breakdown,
    filters: filtersOf(q),
    compare: q.get('compare') === 'previous',
    clip: q.get('scale') === 'clip',
  };
}

/** The query of a Monitor state, defaults left out. */
export function monitorQuery(s: Partial<MonitorState>): Record<string, string | string[] | undefined> {
  return {
    ...ALIASES,
    metric: s.metric === MONITOR_DEFAULT_METRIC ? undefined : s.metric,
    measurement: s.measurement === 'p95' ? 'p95' : undefined,
    filters: s.filters,
    breakdown: s.breakdown,
    refresh: s.refresh ? String(s.refresh) : undefined,
    scale: s.clip ? 'clip' : undefined,
  };
}

/** The query of a Metrics state, defaults left out. */
export function metricsQuery(s: Partial<MetricsState>): Record<string, string | string[] | undefined> {
  return {
    ...ALIASES,
    timeframe: timeframeQuery(s.timeframe),
    metric: s.metric === METRICS_DEFAULTS.metric ? undefined : s.metric,
    measurement: s.measurement,
    breakdown: s.breakdown === METRICS_DEFAULTS.breakdown ? undefined : s.breakdown,
    filters: s.filters,
    compare: s.compare ? 'previous' : undefined,
    scale: s.clip ? 'clip' : undefined,
  };
}

/** `/monitor?…`: Monitor opened on one metric and series. */
export const monitorLink = (s: Partial<MonitorState>) => `/monitor${withQuery(monitorQuery(s))}`;

/** `/metrics?…`: Metrics opened on one metric, timeframe and series. */
export const metricsLink = (s: Partial<MetricsState>) => `/metrics${withQuery(metricsQuery(s))}`;
