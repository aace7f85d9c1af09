/**
 * One stored row per view: identity, dimensions, metrics and scores, in
 * snake_case. The column list below is the single definition of the table:
 * each column's name, type and the migration that added it. The stores make
 * their tables and their views-column migrations from it (store/migrations/
 * view-columns.ts), and the pipeline fills a row in this order
 * (pipeline/view-model/view-row.ts for identity and dimensions, the metric
 * catalog pipeline/view-model/view-metrics.ts for metrics; the compiler keeps
 * both complete against this list). Columns are only ever appended, naming
 * the stores' next migration id.
 */

export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'BOOLEAN' | 'TIMESTAMP';
export type ViewRowValue = string | number | boolean | null;

/** Columns of one type, in table order, added by `migration` (1: the first layout). */
const columns = <const T extends ColumnType, const N extends readonly string[]>(
  type: T,
  names: N,
  migration = 1,
) =>
  names.map((name) => ({ name, type, migration })) as {
    [I in keyof N]: { name: N[I]; type: T; migration: number };
  };

const LAYOUT = [
  ...columns('VARCHAR', ['env_id', 'view_id', 'source_view_id', 'status', 'completion_reason']),
  ...columns('TIMESTAMP', ['view_start', 'view_end', 'updated_at']),
  // Server receive times of the view's first and last data: where its raw rows are.
  ...columns('TIMESTAMP', ['first_received_at', 'last_received_at']),
  ...columns('DOUBLE', ['clock_offset_ms']),
  ...columns('BIGINT', ['late_items']),
  ...columns('VARCHAR', ['viewer_id', 'session_id', 'player_instance_id', 'video_id', 'video_title']),
  ...columns('VARCHAR', ['asset_id', 'playback_id', 'live_stream_id', 'stream_type', 'stream_format']),
  ...columns('VARCHAR', ['cdn_host', 'cdn_provider', 'player_name', 'player_software', 'player_version']),
  ...columns('VARCHAR', ['page_url', 'sub_property_id', 'experiment_name', 'viewer_user_id', 'sdk_name']),
  ...columns('VARCHAR', ['sdk_version', 'custom_data_1', 'custom_data_2', 'custom_data_3', 'custom_data_4']),
  ...columns('VARCHAR', ['custom_data_5', 'custom_data_6', 'custom_data_7', 'custom_data_8']),
  ...columns('VARCHAR', ['custom_data_9', 'custom_data_10', 'video_codec', 'browser', 'browser_version']),
  ...columns('VARCHAR', ['os', 'os_version', 'device_category', 'device_brand', 'device_model', 'country']),
  ...columns('VARCHAR', ['region', 'city']),
  ...columns('BIGINT', ['asn']),
  ...columns('VARCHAR', ['as_org', 'ip']),
  // The metrics (pipeline/view-model/view-metrics.ts) and the scores.
  ...columns('VARCHAR', ['outcome']),
  ...columns('DOUBLE', ['video_startup_time_ms', 'player_startup_time_ms', 'page_load_time_ms']),
  ...columns('DOUBLE', ['aggregate_startup_time_ms', 'watch_time_ms', 'playing_time_ms', 'paused_time_ms']),
  ...columns('DOUBLE', ['ad_time_ms']),
  ...columns('BIGINT', ['rebuffer_count']),
  ...columns('DOUBLE', ['rebuffer_duration_ms', 'rebuffer_percentage', 'rebuffer_frequency']),
  ...columns('BIGINT', ['seek_count']),
  ...columns('DOUBLE', ['seek_latency_ms']),
  ...columns('BOOLEAN', ['exited_before_video_start']),
  ...columns('DOUBLE', ['ebvs_duration_ms']),
  ...columns('BOOLEAN', ['video_startup_failure', 'playback_failure', 'business_exception']),
  ...columns('VARCHAR', ['error_code', 'error_message']),
  ...columns('DOUBLE', ['weighted_average_bitrate_bps']),
  ...columns('BIGINT', ['rendition_changes', 'upshifts', 'downshifts']),
  ...columns('DOUBLE', ['upscale_percentage', 'max_upscale_percentage', 'downscale_percentage']),
  ...columns('DOUBLE', ['max_downscale_percentage']),
  ...columns('BIGINT', ['dropped_frames']),
  ...columns('DOUBLE', ['live_latency_ms']),
  ...columns('BIGINT', ['request_count', 'request_failed_count']),
  ...columns('DOUBLE', ['request_ttfb_ms', 'request_throughput_bps']),
  ...columns('DOUBLE', ['playback_success_score', 'startup_time_score', 'smoothness_score']),
  ...columns('DOUBLE', ['video_quality_score', 'viewer_experience_score']),
  // JSON array of timeline entries (see pipeline/view-model/timeline.ts); shown by the one-view route.
  ...columns('VARCHAR', ['timeline']),
  ...columns('BOOLEAN', ['timeline_truncated']),
  // WebRTC receive aggregates (docs/metrics.md); null for views without WebRTC stats.
  ...columns('DOUBLE', ['webrtc_fps', 'webrtc_jitter_ms']),
  ...columns('BIGINT', ['webrtc_packets_lost']),
  ...columns('DOUBLE', ['webrtc_packet_loss_ratio', 'webrtc_rtt_ms']),
  // Plays, content duration and completion, dropped frames per minute (docs/metrics.md).
  ...columns('BOOLEAN', ['play_requested'], 3),
  ...columns('DOUBLE', ['video_duration_ms', 'completion_percentage', 'dropped_frame_frequency'], 3),
  // A device time moved into the view's bounds, or a clock far off the server's (docs/metrics.md "Clocks").
  ...columns('BOOLEAN', ['clock_corrected'], 5),
  // A column added later names its migration, the stores' next: ...columns('DOUBLE', ['startup_bucket_s'], 7).
];

export type ViewColumnName = (typeof LAYOUT)[number]['name'];
/** The type of column `N`. */
export type ViewColumnType<N extends ViewColumnName> = Extract<(typeof LAYOUT)[number], { name: N }>['type'];

export interface Column {
  name: ViewColumnName;
  type: ColumnType;
  /** The migration that added it to the views tables; 1 for the first layout (the default). */
  migration?: number;
}

export const VIEW_COLUMNS: Column[] = LAYOUT;

export type ViewRow = ViewRowValue[];
