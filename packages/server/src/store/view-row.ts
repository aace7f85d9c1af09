/**
 * One stored row per view: identity, dimensions, metrics and scores, in
 * snake_case. The column list below is the single definition: the DuckDB
 * table is created from it and every store writes rows built by it.
 */
import type { ActiveView } from '../pipeline/view-model/active-views.js';
import type { ViewMetrics } from '../pipeline/view-model/view-machine.js';

export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'BOOLEAN' | 'TIMESTAMP';
export type ViewRowValue = string | number | boolean | null;

interface Column {
  name: string;
  type: ColumnType;
  get: (v: ActiveView, m: ViewMetrics, updatedAtMs: number) => ViewRowValue;
}

const str = (name: string, get: Column['get']): Column => ({ name, type: 'VARCHAR', get });
const num = (name: string, get: Column['get']): Column => ({ name, type: 'DOUBLE', get });
const int = (name: string, get: Column['get']): Column => ({ name, type: 'BIGINT', get });
const bool = (name: string, get: Column['get']): Column => ({ name, type: 'BOOLEAN', get });
const time = (name: string, get: Column['get']): Column => ({ name, type: 'TIMESTAMP', get });

const dim = (name: string, key: keyof NonNullable<ActiveView['dims']>) =>
  str(name, (v) => {
    const value = v.dims?.[key];
    return typeof value === 'string' ? value : '';
  });

export const VIEW_COLUMNS: Column[] = [
  str('env_id', (v) => v.envId),
  str('view_id', (v) => v.viewId),
  str('source_view_id', (v) => v.sourceViewId),
  str('status', (v) => v.status),
  str('completion_reason', (v) => v.completionReason ?? ''),
  time('view_start', (v, m) => m.playRequestedAtMs ?? m.firstFrameAtMs ?? v.createdAtMs),
  time('view_end', (v, m) => m.lastTimeMs ?? v.lastActivityMs),
  time('updated_at', (_v, _m, at) => at),
  // Server receive times of the view's first and last data: where its raw rows are.
  time('first_received_at', (v) => v.createdAtMs),
  time('last_received_at', (v) => v.lastActivityMs),
  num('clock_offset_ms', (v) => v.clockOffsetMs),
  int('late_items', (v) => v.lateItems),
  dim('viewer_id', 'viewerId'),
  dim('session_id', 'sessionId'),
  dim('player_instance_id', 'playerInstanceId'),
  dim('video_id', 'videoId'),
  dim('video_title', 'videoTitle'),
  dim('asset_id', 'assetId'),
  dim('playback_id', 'playbackId'),
  dim('live_stream_id', 'liveStreamId'),
  dim('stream_type', 'streamType'),
  dim('stream_format', 'streamFormat'),
  dim('cdn_host', 'cdnHost'),
  dim('cdn_provider', 'cdnProvider'),
  dim('player_name', 'playerName'),
  dim('player_software', 'playerSoftware'),
  dim('player_version', 'playerVersion'),
  dim('page_url', 'pageUrl'),
  dim('sub_property_id', 'subPropertyId'),
  dim('experiment_name', 'experimentName'),
  dim('viewer_user_id', 'viewerUserId'),
  dim('sdk_name', 'sdkName'),
  dim('sdk_version', 'sdkVersion'),
  ...Array.from({ length: 10 }, (_, i) => str(`custom_data_${i + 1}`, (v) => v.dims?.customData[i] ?? '')),
  dim('video_codec', 'videoCodec'),
  str('browser', (v) => v.client.browser),
  str('browser_version', (v) => v.client.browserVersion),
  str('os', (v) => v.client.os),
  str('os_version', (v) => v.client.osVersion),
  str('device_category', (v) => v.client.deviceCategory),
  str('device_brand', (v) => v.client.deviceBrand),
  str('device_model', (v) => v.client.deviceModel),
  str('country', (v) => v.client.country),
  str('region', (v) => v.client.region),
  str('city', (v) => v.client.city),
  int('asn', (v) => v.client.asn),
  str('as_org', (v) => v.client.asOrg),
  str('ip', (v) => v.client.ip),
  str('outcome', (_v, m) => m.outcome),
  num('video_startup_time_ms', (_v, m) => m.videoStartupTimeMs),
  num('player_startup_time_ms', (_v, m) => m.playerStartupTimeMs),
  num('page_load_time_ms', (_v, m) => m.pageLoadTimeMs),
  num('aggregate_startup_time_ms', (_v, m) => m.aggregateStartupTimeMs),
  num('watch_time_ms', (_v, m) => m.watchTimeMs),
  num('playing_time_ms', (_v, m) => m.playingTimeMs),
  num('paused_time_ms', (_v, m) => m.pausedTimeMs),
  num('ad_time_ms', (_v, m) => m.adTimeMs),
  int('rebuffer_count', (_v, m) => m.rebufferCount),
  num('rebuffer_duration_ms', (_v, m) => m.rebufferDurationMs),
  num('rebuffer_percentage', (_v, m) => m.rebufferPercentage),
  num('rebuffer_frequency', (_v, m) => m.rebufferFrequency),
  int('seek_count', (_v, m) => m.seekCount),
  num('seek_latency_ms', (_v, m) => m.seekLatencyMs),
  bool('exited_before_video_start', (_v, m) => m.exitedBeforeVideoStart),
  num('ebvs_duration_ms', (_v, m) => m.ebvsDurationMs),
  bool('video_startup_failure', (_v, m) => m.videoStartupFailure),
  bool('playback_failure', (_v, m) => m.playbackFailure),
  bool('business_exception', (_v, m) => m.businessException),
  str('error_code', (_v, m) => m.errorCode),
  str('error_message', (_v, m) => m.errorMessage),
  num('weighted_average_bitrate_bps', (_v, m) => m.weightedAverageBitrateBps),
  int('rendition_changes', (_v, m) => m.renditionChanges),
  int('upshifts', (_v, m) => m.upshifts),
  int('downshifts', (_v, m) => m.downshifts),
  num('upscale_percentage', (_v, m) => m.upscalePercentage),
  num('max_upscale_percentage', (_v, m) => m.maxUpscalePercentage),
  num('downscale_percentage', (_v, m) => m.downscalePercentage),
  num('max_downscale_percentage', (_v, m) => m.maxDownscalePercentage),
  int('dropped_frames', (_v, m) => m.droppedFrames),
  num('live_latency_ms', (_v, m) => m.liveLatencyMs),
  int('request_count', (_v, m) => m.requestCount),
  int('request_failed_count', (_v, m) => m.requestFailedCount),
  num('request_ttfb_ms', (_v, m) => m.requestTtfbMs),
  num('request_throughput_bps', (_v, m) => m.requestThroughputBps),
  num('playback_success_score', (_v, m) => m.scores.playbackSuccess),
  num('startup_time_score', (_v, m) => m.scores.startupTime),
  num('smoothness_score', (_v, m) => m.scores.smoothness),
  num('video_quality_score', (_v, m) => m.scores.videoQuality),
  num('viewer_experience_score', (_v, m) => m.scores.viewerExperience),
  // JSON array of timeline entries (see pipeline/view-model/timeline.ts); shown by the one-view route.
  str('timeline', (v) => v.timeline.toJSON()),
  bool('timeline_truncated', (v) => v.timeline.truncated),
  // WebRTC receive aggregates (docs/metrics.md); null for views without WebRTC stats.
  num('webrtc_fps', (_v, m) => m.webrtcFps),
  num('webrtc_jitter_ms', (_v, m) => m.webrtcJitterMs),
  int('webrtc_packets_lost', (_v, m) => m.webrtcPacketsLost),
  num('webrtc_packet_loss_ratio', (_v, m) => m.webrtcPacketLossRatio),
  num('webrtc_rtt_ms', (_v, m) => m.webrtcRttMs),
];

/** The columns appended after the first table layout, which began with `timeline`. */
const ADDED_COLUMNS = VIEW_COLUMNS.slice(VIEW_COLUMNS.findIndex((c) => c.name === 'timeline'));

export type ViewRow = ViewRowValue[];

export function viewRow(view: ActiveView, metrics: ViewMetrics, updatedAtMs: number): ViewRow {
  return VIEW_COLUMNS.map((c) => c.get(view, metrics, updatedAtMs));
}

export function viewsTableDdl(): string[] {
  const columns = VIEW_COLUMNS.map((c) => `${c.name} ${c.type}`).join(',\n    ');
  return [
    `CREATE TABLE IF NOT EXISTS views (\n    ${columns},\n    PRIMARY KEY (env_id, view_id)\n  )`,
    // Batches of views land here first and move to `views` with one upsert.
    `CREATE TABLE IF NOT EXISTS views_staging (\n    ${columns}\n  )`,
    // Columns added after the first layout (`timeline` onwards), appended in list order so a table
    // made by an older version keeps working and gets the same column positions.
    ...['views', 'views_staging'].flatMap((table) =>
      ADDED_COLUMNS.map((c) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${c.name} ${c.type}`),
    ),
  ];
}
