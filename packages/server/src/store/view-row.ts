/**
 * One stored row per view: identity, dimensions, metrics and scores, in
 * snake_case. The column list below is the single definition of the table:
 * the DuckDB and ClickHouse tables are made from it, and the pipeline fills a
 * row in this order (pipeline/view-model/view-row.ts, which the compiler
 * keeps complete against this list). Columns are only ever appended: each
 * one after the first layout comes with a views-column migration in every
 * store (store/migrations/view-columns.ts checks it).
 */

export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'BOOLEAN' | 'TIMESTAMP';
export type ViewRowValue = string | number | boolean | null;

const COLUMN_LIST = [
  ['env_id', 'VARCHAR'],
  ['view_id', 'VARCHAR'],
  ['source_view_id', 'VARCHAR'],
  ['status', 'VARCHAR'],
  ['completion_reason', 'VARCHAR'],
  ['view_start', 'TIMESTAMP'],
  ['view_end', 'TIMESTAMP'],
  ['updated_at', 'TIMESTAMP'],
  // Server receive times of the view's first and last data: where its raw rows are.
  ['first_received_at', 'TIMESTAMP'],
  ['last_received_at', 'TIMESTAMP'],
  ['clock_offset_ms', 'DOUBLE'],
  ['late_items', 'BIGINT'],
  ['viewer_id', 'VARCHAR'],
  ['session_id', 'VARCHAR'],
  ['player_instance_id', 'VARCHAR'],
  ['video_id', 'VARCHAR'],
  ['video_title', 'VARCHAR'],
  ['asset_id', 'VARCHAR'],
  ['playback_id', 'VARCHAR'],
  ['live_stream_id', 'VARCHAR'],
  ['stream_type', 'VARCHAR'],
  ['stream_format', 'VARCHAR'],
  ['cdn_host', 'VARCHAR'],
  ['cdn_provider', 'VARCHAR'],
  ['player_name', 'VARCHAR'],
  ['player_software', 'VARCHAR'],
  ['player_version', 'VARCHAR'],
  ['page_url', 'VARCHAR'],
  ['sub_property_id', 'VARCHAR'],
  ['experiment_name', 'VARCHAR'],
  ['viewer_user_id', 'VARCHAR'],
  ['sdk_name', 'VARCHAR'],
  ['sdk_version', 'VARCHAR'],
  ['custom_data_1', 'VARCHAR'],
  ['custom_data_2', 'VARCHAR'],
  ['custom_data_3', 'VARCHAR'],
  ['custom_data_4', 'VARCHAR'],
  ['custom_data_5', 'VARCHAR'],
  ['custom_data_6', 'VARCHAR'],
  ['custom_data_7', 'VARCHAR'],
  ['custom_data_8', 'VARCHAR'],
  ['custom_data_9', 'VARCHAR'],
  ['custom_data_10', 'VARCHAR'],
  ['video_codec', 'VARCHAR'],
  ['browser', 'VARCHAR'],
  ['browser_version', 'VARCHAR'],
  ['os', 'VARCHAR'],
  ['os_version', 'VARCHAR'],
  ['device_category', 'VARCHAR'],
  ['device_brand', 'VARCHAR'],
  ['device_model', 'VARCHAR'],
  ['country', 'VARCHAR'],
  ['region', 'VARCHAR'],
  ['city', 'VARCHAR'],
  ['asn', 'BIGINT'],
  ['as_org', 'VARCHAR'],
  ['ip', 'VARCHAR'],
  ['outcome', 'VARCHAR'],
  ['video_startup_time_ms', 'DOUBLE'],
  ['player_startup_time_ms', 'DOUBLE'],
  ['page_load_time_ms', 'DOUBLE'],
  ['aggregate_startup_time_ms', 'DOUBLE'],
  ['watch_time_ms', 'DOUBLE'],
  ['playing_time_ms', 'DOUBLE'],
  ['paused_time_ms', 'DOUBLE'],
  ['ad_time_ms', 'DOUBLE'],
  ['rebuffer_count', 'BIGINT'],
  ['rebuffer_duration_ms', 'DOUBLE'],
  ['rebuffer_percentage', 'DOUBLE'],
  ['rebuffer_frequency', 'DOUBLE'],
  ['seek_count', 'BIGINT'],
  ['seek_latency_ms', 'DOUBLE'],
  ['exited_before_video_start', 'BOOLEAN'],
  ['ebvs_duration_ms', 'DOUBLE'],
  ['video_startup_failure', 'BOOLEAN'],
  ['playback_failure', 'BOOLEAN'],
  ['business_exception', 'BOOLEAN'],
  ['error_code', 'VARCHAR'],
  ['error_message', 'VARCHAR'],
  ['weighted_average_bitrate_bps', 'DOUBLE'],
  ['rendition_changes', 'BIGINT'],
  ['upshifts', 'BIGINT'],
  ['downshifts', 'BIGINT'],
  ['upscale_percentage', 'DOUBLE'],
  ['max_upscale_percentage', 'DOUBLE'],
  ['downscale_percentage', 'DOUBLE'],
  ['max_downscale_percentage', 'DOUBLE'],
  ['dropped_frames', 'BIGINT'],
  ['live_latency_ms', 'DOUBLE'],
  ['request_count', 'BIGINT'],
  ['request_failed_count', 'BIGINT'],
  ['request_ttfb_ms', 'DOUBLE'],
  ['request_throughput_bps', 'DOUBLE'],
  ['playback_success_score', 'DOUBLE'],
  ['startup_time_score', 'DOUBLE'],
  ['smoothness_score', 'DOUBLE'],
  ['video_quality_score', 'DOUBLE'],
  ['viewer_experience_score', 'DOUBLE'],
  // JSON array of timeline entries (see pipeline/view-model/timeline.ts); shown by the one-view route.
  ['timeline', 'VARCHAR'],
  ['timeline_truncated', 'BOOLEAN'],
  // WebRTC receive aggregates (docs/metrics.md); null for views without WebRTC stats.
  ['webrtc_fps', 'DOUBLE'],
  ['webrtc_jitter_ms', 'DOUBLE'],
  ['webrtc_packets_lost', 'BIGINT'],
  ['webrtc_packet_loss_ratio', 'DOUBLE'],
  ['webrtc_rtt_ms', 'DOUBLE'],
] as const satisfies readonly (readonly [string, ColumnType])[];

export type ViewColumnName = (typeof COLUMN_LIST)[number][0];

export interface Column {
  name: ViewColumnName;
  type: ColumnType;
}

export const VIEW_COLUMNS: Column[] = COLUMN_LIST.map(([name, type]) => ({ name, type }));

export type ViewRow = ViewRowValue[];
