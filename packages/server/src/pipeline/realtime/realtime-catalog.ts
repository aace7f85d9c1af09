/**
 * What the real-time (monitoring) API offers: its metrics and the
 * dimensions it breaks them down by, with how each dimension is read off an
 * active view. Definitions are in docs/monitoring-api.md.
 */
import type { ActiveView } from '../view-model/active-views.js';

export const REALTIME_METRIC_IDS = [
  'current_concurrent_viewers',
  'current_rebuffering_percentage',
  'video_startup_time',
  'video_startup_failure_percentage',
  'exits_before_video_start',
  'playback_failure_percentage',
  'current_average_bitrate',
] as const;
export type RealtimeMetricId = (typeof REALTIME_METRIC_IDS)[number];

export interface RealtimeMetricDef {
  displayName: string;
  unit: 'viewers' | 'percentage' | 'milliseconds' | 'bps';
  /** Which way is bad: it signs the negative impact of a breakdown row. */
  higherIsWorse: boolean;
}

const def = (displayName: string, unit: RealtimeMetricDef['unit'], higherIsWorse: boolean) => ({
  displayName,
  unit,
  higherIsWorse,
});

export const REALTIME_METRICS: Record<RealtimeMetricId, RealtimeMetricDef> = {
  current_concurrent_viewers: def('Concurrent viewers', 'viewers', false),
  current_rebuffering_percentage: def('Current rebuffering percentage', 'percentage', true),
  video_startup_time: def('Video startup time', 'milliseconds', true),
  video_startup_failure_percentage: def('Video startup failure percentage', 'percentage', true),
  exits_before_video_start: def('Exits before video start', 'percentage', true),
  playback_failure_percentage: def('Playback failure percentage', 'percentage', true),
  current_average_bitrate: def('Current average bitrate', 'bps', false),
};

type DimensionReader = (v: ActiveView) => string;

/** Breakdown dimensions, named as in the data API, read from a view's latest dimensions and its client. */
export const REALTIME_DIMENSIONS: Record<string, { displayName: string; read: DimensionReader }> = {
  cdn: { displayName: 'CDN', read: (v) => v.dims?.cdnHost ?? '' },
  cdn_provider: { displayName: 'CDN provider', read: (v) => v.dims?.cdnProvider ?? '' },
  country: { displayName: 'Country', read: (v) => v.client.country },
  region: { displayName: 'Region', read: (v) => v.client.region },
  asn: { displayName: 'ASN', read: (v) => (v.client.asn ? String(v.client.asn) : '') },
  operating_system: { displayName: 'Operating system', read: (v) => v.client.os },
  browser: { displayName: 'Browser', read: (v) => v.client.browser },
  device_category: { displayName: 'Device category', read: (v) => v.client.deviceCategory },
  player_name: { displayName: 'Player', read: (v) => v.dims?.playerName ?? '' },
  stream_type: { displayName: 'Stream type', read: (v) => v.dims?.streamType ?? '' },
  video_title: { displayName: 'Video title', read: (v) => v.dims?.videoTitle ?? '' },
  video_id: { displayName: 'Video id', read: (v) => v.dims?.videoId ?? '' },
  sub_property_id: { displayName: 'Sub-property', read: (v) => v.dims?.subPropertyId ?? '' },
};

/** Startup-time histogram bucket edges (ms); the last bucket is open-ended. */
export const STARTUP_BUCKETS_MS = [
  0, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 30_000,
];
