/**
 * How each stored column of a view (store/view-row.ts) is read from the view
 * model. A record keyed by column name, so the compiler finds a column
 * without a value, and the row is built in the store's column order.
 */
import { VIEW_COLUMNS, type ViewColumnName, type ViewRow, type ViewRowValue } from '../../store/view-row.js';
import type { ActiveView } from './active-views.js';
import type { ViewMetrics } from './view-machine.js';

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

const VALUES: Record<ViewColumnName, Get> = {
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
  outcome: (_v, m) => m.outcome,
  video_startup_time_ms: (_v, m) => m.videoStartupTimeMs,
  player_startup_time_ms: (_v, m) => m.playerStartupTimeMs,
  page_load_time_ms: (_v, m) => m.pageLoadTimeMs,
  aggregate_startup_time_ms: (_v, m) => m.aggregateStartupTimeMs,
  watch_time_ms: (_v, m) => m.watchTimeMs,
  playing_time_ms: (_v, m) => m.playingTimeMs,
  paused_time_ms: (_v, m) => m.pausedTimeMs,
  ad_time_ms: (_v, m) => m.adTimeMs,
  rebuffer_count: (_v, m) => m.rebufferCount,
  rebuffer_duration_ms: (_v, m) => m.rebufferDurationMs,
  rebuffer_percentage: (_v, m) => m.rebufferPercentage,
  rebuffer_frequency: (_v, m) => m.rebufferFrequency,
  seek_count: (_v, m) => m.seekCount,
  seek_latency_ms: (_v, m) => m.seekLatencyMs,
  exited_before_video_start: (_v, m) => m.exitedBeforeVideoStart,
  ebvs_duration_ms: (_v, m) => m.ebvsDurationMs,
  video_startup_failure: (_v, m) => m.videoStartupFailure,
  playback_failure: (_v, m) => m.playbackFailure,
  business_exception: (_v, m) => m.businessException,
  error_code: (_v, m) => m.errorCode,
  error_message: (_v, m) => m.errorMessage,
  weighted_average_bitrate_bps: (_v, m) => m.weightedAverageBitrateBps,
  rendition_changes: (_v, m) => m.renditionChanges,
  upshifts: (_v, m) => m.upshifts,
  downshifts: (_v, m) => m.downshifts,
  upscale_percentage: (_v, m) => m.upscalePercentage,
  max_upscale_percentage: (_v, m) => m.maxUpscalePercentage,
  downscale_percentage: (_v, m) => m.downscalePercentage,
  max_downscale_percentage: (_v, m) => m.maxDownscalePercentage,
  dropped_frames: (_v, m) => m.droppedFrames,
  live_latency_ms: (_v, m) => m.liveLatencyMs,
  request_count: (_v, m) => m.requestCount,
  request_failed_count: (_v, m) => m.requestFailedCount,
  request_ttfb_ms: (_v, m) => m.requestTtfbMs,
  request_throughput_bps: (_v, m) => m.requestThroughputBps,
  playback_success_score: (_v, m) => m.scores.playbackSuccess,
  startup_time_score: (_v, m) => m.scores.startupTime,
  smoothness_score: (_v, m) => m.scores.smoothness,
  video_quality_score: (_v, m) => m.scores.videoQuality,
  viewer_experience_score: (_v, m) => m.scores.viewerExperience,
  // JSON array of timeline entries (see pipeline/view-model/timeline.ts); shown by the one-view route.
  timeline: (v) => v.timeline.toJSON(),
  timeline_truncated: (v) => v.timeline.truncated,
  // WebRTC receive aggregates (docs/metrics.md); null for views without WebRTC stats.
  webrtc_fps: (_v, m) => m.webrtcFps,
  webrtc_jitter_ms: (_v, m) => m.webrtcJitterMs,
  webrtc_packets_lost: (_v, m) => m.webrtcPacketsLost,
  webrtc_packet_loss_ratio: (_v, m) => m.webrtcPacketLossRatio,
  webrtc_rtt_ms: (_v, m) => m.webrtcRttMs,
};

export function viewRow(view: ActiveView, metrics: ViewMetrics, updatedAtMs: number): ViewRow {
  return VIEW_COLUMNS.map((c) => VALUES[c.name](view, metrics, updatedAtMs));
}
