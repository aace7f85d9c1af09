/**
 * Metric ids, using the reference's ids where one exists. Per-view metrics
 * are queried from history; real-time ones come from the active views.
 */
export const VIEW_METRIC_IDS = [
  'views',
  'plays',
  'unique_viewers',
  'views_per_viewer',
  'watch_time_per_viewer',
  'video_startup_time',
  'player_startup_time',
  'page_load_time',
  'aggregate_startup_time',
  'watch_time',
  'playing_time',
  'completion_percentage',
  'rebuffer_count',
  'rebuffer_duration',
  'rebuffer_percentage',
  'rebuffer_frequency',
  'seek_latency',
  'exits_before_video_start',
  'video_startup_failure_percentage',
  'playback_failure_percentage',
  'weighted_average_bitrate',
  'upscale_percentage',
  'downscale_percentage',
  'dropped_frame_frequency',
  'live_stream_latency',
  'request_latency',
  'playback_success_score',
  'startup_time_score',
  'smoothness_score',
  'video_quality_score',
  'viewer_experience_score',
] as const;

export const REALTIME_METRIC_IDS = [
  'current_concurrent_viewers',
  'current_rebuffering_percentage',
  'current_average_bitrate',
] as const;

export type ViewMetricId = (typeof VIEW_METRIC_IDS)[number];
export type RealtimeMetricId = (typeof REALTIME_METRIC_IDS)[number];
export type MetricId = ViewMetricId | RealtimeMetricId;

export const METRIC_IDS: readonly MetricId[] = [...VIEW_METRIC_IDS, ...REALTIME_METRIC_IDS];

export function isMetricId(value: string): value is MetricId {
  return (METRIC_IDS as readonly string[]).includes(value);
}
