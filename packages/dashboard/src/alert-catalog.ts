/**
 * What the Alerts pages need to name and format what a rule watches: the
 * real-time metrics and dimensions of the monitoring API and the view
 * metrics and dimensions of the query API, loaded once per page; and the
 * words for a rule's condition and series.
 */
import type {
  AlertCondition,
  DimensionListResponse,
  MetricListResponse,
  MonitoringDimensionsResponse,
  MonitoringMetricsResponse,
} from '@openqoe/schema';
import { getJson } from './api.js';
import { dimensionLabel, formatValue, humanize } from './format.js';
import { useData } from './use-data.js';

export interface Catalog {
  realtime: MonitoringMetricsResponse['data'];
  views: MetricListResponse['data'];
  realtimeDimensions: string[];
  viewDimensions: string[];
}

export function useCatalog(): { catalog: Catalog | undefined; error: unknown } {
  const loaded = useData(async () => {
    const [realtime, views, rd, vd] = await Promise.all([
      getJson<MonitoringMetricsResponse>('/data/v1/monitoring/metrics'),
      getJson<MetricListResponse>('/data/v1/metrics'),
      getJson<MonitoringDimensionsResponse>('/data/v1/monitoring/dimensions'),
      getJson<DimensionListResponse>('/data/v1/dimensions'),
    ]);
    return {
      realtime: realtime.data,
      views: views.data,
      realtimeDimensions: rd.data.map((d) => d.id),
      viewDimensions: vd.data,
    };
  }, []);
  return { catalog: loaded.data, error: loaded.error };
}

/**
 * A rule over a window of ended views watches a view metric; any other, a
 * real-time one. Where the kind is not known (an incident), the other
 * catalog answers for ids it alone has.
 */
export function unitOf(catalog: Catalog | undefined, metric: string, windowed: boolean): string {
  const find = (list: { id: string; unit: string }[] | undefined) => list?.find((m) => m.id === metric)?.unit;
  const [first, second] = windowed
    ? [catalog?.views, catalog?.realtime]
    : [catalog?.realtime, catalog?.views];
  return find(first) ?? find(second) ?? '';
}

export function metricName(catalog: Catalog | undefined, metric: string, windowed: boolean): string {
  const rt = windowed ? undefined : catalog?.realtime.find((m) => m.id === metric);
  return rt?.display_name ?? humanize(metric);
}

/** "> 5% for 60 s", or "anomaly (medium) for 120 s" */
export function conditionText(c: AlertCondition, unit: string) {
  if (c.type === 'anomaly')
    return `anomaly (${c.sensitivity ?? 'medium'})${c.for_seconds ? ` for ${c.for_seconds} s` : ''}`;
  return `${c.operator} ${formatValue(c.value, unit)}${c.for_seconds ? ` for ${c.for_seconds} s` : ''}`;
}

/** "CDN host = edge-a" for one series, "each CDN host" for a breakdown, else the whole environment. */
export function seriesText(breakdown: string | null | undefined, value?: string | null): string {
  if (!breakdown) return 'whole environment';
  const name = dimensionLabel(breakdown);
  return value === undefined || value === null ? `each ${name}` : `${name} = ${value}`;
}
