/**
 * A view's stored row (store/view-row.ts), in the store's column order: the
 * identity and dimension columns read off the view here, the metric columns
 * from the view's metrics (the catalog, view-metrics.ts). VALUES is keyed by
 * every column the catalog does not compute, so the compiler finds a column
 * without a value.
 */
import {
  type Column,
  VIEW_COLUMNS,
  type ViewColumnName,
  type ViewRow,
  type ViewRowValue,
} from '../../store/view-row.js';
import type { ActiveView } from './active-views.js';
import {
  type MetricCatalog,
  metricKey,
  type StoredMetric,
  VIEW_METRICS,
  type ViewMetrics,
} from './view-metrics.js';

type Get = (v: ActiveView, m: ViewMetrics, updatedAtMs: number) => ViewRowValue;

const dim =
  (key: keyof NonNullable<ActiveView['dims']>): Get =>
  (v) => {
    const value = v.dims?.[key];
    return typeof value === 'string' ? value : '';
  };

const custom =
  (i: number): Get =>
  (v) =>
    v.dims?.customData[i] ?? '';

const VALUES: Record<Exclude<ViewColumnName, StoredMetric>, Get> = {
  env_id: (v) => v.envId,
  view_id: (v) => v.viewId,
  source_view_id: (v) => v.sourceViewId,
  status: (v) => v.status,
  completion_reason: (v) => v.completionReason ?? '',
  view_start: (v, m) => m.playRequestedAtMs ?? m.firstFrameAtMs ?? v.createdAtMs,
  view_end: (v, m) => m.lastTimeMs ?? v.lastActivityMs,
  updated_at: (_v, _m, at) => at,
  // Server receive times of the view's first and last data: where its raw rows are.
  first_received_at: (v) => v.createdAtMs,
  last_received_at: (v) => v.lastActivityMs,
  clock_offset_ms: (v) => v.clockOffsetMs,
  late_items: (v) => v.lateItems,
  clock_corrected: (v) => v.clockCorrected,
  viewer_id: dim('viewerId'),
  session_id: dim('sessionId'),
  player_instance_id: dim('playerInstanceId'),
  video_id: dim('videoId'),
  video_title: dim('videoTitle'),
  asset_id: dim('assetId'),
  playback_id: dim('playbackId'),
  live_stream_id: dim('liveStreamId'),
  stream_type: dim('streamType'),
  stream_format: dim('streamFormat'),
  cdn_host: dim('cdnHost'),
  cdn_provider: dim('cdnProvider'),
  player_name: dim('playerName'),
  player_software: dim('playerSoftware'),
  player_version: dim('playerVersion'),
  page_url: dim('pageUrl'),
  sub_property_id: dim('subPropertyId'),
  experiment_name: dim('experimentName'),
  viewer_user_id: dim('viewerUserId'),
  sdk_name: dim('sdkName'),
  sdk_version: dim('sdkVersion'),
  custom_data_1: custom(0),
  custom_data_2: custom(1),
  custom_data_3: custom(2),
  custom_data_4: custom(3),
  custom_data_5: custom(4),
  custom_data_6: custom(5),
  custom_data_7: custom(6),
  custom_data_8: custom(7),
  custom_data_9: custom(8),
  custom_data_10: custom(9),
  video_codec: dim('videoCodec'),
  browser: (v) => v.client.browser,
  browser_version: (v) => v.client.browserVersion,
  os: (v) => v.client.os,
  os_version: (v) => v.client.osVersion,
  device_category: (v) => v.client.deviceCategory,
  device_brand: (v) => v.client.deviceBrand,
  device_model: (v) => v.client.deviceModel,
  country: (v) => v.client.country,
  region: (v) => v.client.region,
  city: (v) => v.client.city,
  asn: (v) => v.client.asn,
  as_org: (v) => v.client.asOrg,
  ip: (v) => v.client.ip,
  // JSON array of timeline entries (see pipeline/view-model/timeline.ts); shown by the one-view route.
  timeline: (v) => v.timeline.toJSON(),
  timeline_truncated: (v) => v.timeline.truncated,
};

/**
 * The row builder for a views layout and a catalog: each column's value comes from VALUES or, for a
 * metric, from the metrics under its camelCase name. A column with neither is refused here, at once.
 */
export function viewRowOf(columns: readonly Column[] = VIEW_COLUMNS, catalog: MetricCatalog = VIEW_METRICS) {
  const own = VALUES as Partial<Record<string, Get>>;
  const getters = columns.map((c): Get => {
    const get = own[c.name];
    if (get) return get;
    const key = metricKey(c.name);
    const entry = catalog[c.name];
    if (!entry || entry.stored === false)
      throw new Error(`views column ${c.name} has no value: no metric of the catalog is stored in it`);
    return (_v, m) => (m as unknown as Record<string, ViewRowValue>)[key] ?? null;
  });
  return (view: ActiveView, metrics: ViewMetrics, updatedAtMs: number): ViewRow =>
    getters.map((g) => g(view, metrics, updatedAtMs));
}

export const viewRow = viewRowOf();
