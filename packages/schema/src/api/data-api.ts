/**
 * Answers of the data API over stored views (/data/v1/metrics…,
 * /data/v1/video-views…): the server serialises with these schemas and the
 * dashboard reads their types. Property order is the order on the wire.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ListOf } from './envelope.js';

const Nullable = Type.Union([Type.Number(), Type.Null()]);
const Timeframe = Type.Array(Type.Integer(), {
  minItems: 2,
  maxItems: 2,
  description: '[from, to] in epoch seconds',
});

export const ViewMetricInfo = Type.Object({
  id: Type.String(),
  unit: Type.String(),
  measurements: Type.Array(Type.String()),
  default_measurement: Type.String(),
  higher_is_worse: Type.Boolean(),
});
export type ViewMetricInfo = Static<typeof ViewMetricInfo>;

/** `GET /data/v1/metrics` */
export const MetricListResponse = ListOf(ViewMetricInfo);
export type MetricListResponse = Static<typeof MetricListResponse>;

/** `GET /data/v1/dimensions` */
export const DimensionListResponse = ListOf(Type.String());
export type DimensionListResponse = Static<typeof DimensionListResponse>;

/** `GET /data/v1/metrics/{metric_id}/overall` */
export const MetricOverallResponse = Type.Object({
  data: Type.Object({
    value: Nullable,
    measurement: Type.String(),
    unit: Type.String(),
    total_views: Type.Integer({ description: 'Views in the scope' }),
    views_with_value: Type.Integer({ description: 'Views that contribute a value' }),
    total_watch_time_ms: Type.Number(),
    total_playing_time_ms: Type.Number(),
  }),
  timeframe: Timeframe,
});
export type MetricOverallResponse = Static<typeof MetricOverallResponse>;

/** `GET /data/v1/metrics/{metric_id}/timeseries` */
export const MetricTimeseriesResponse = Type.Object({
  data: Type.Array(
    Type.Object({
      time: Type.Integer({ description: 'Bucket start, epoch seconds' }),
      value: Nullable,
      views: Type.Integer(),
    }),
  ),
  total_row_count: Type.Integer(),
  timeframe: Timeframe,
  granularity: Type.String(),
  measurement: Type.String(),
  unit: Type.String(),
});
export type MetricTimeseriesResponse = Static<typeof MetricTimeseriesResponse>;

/** `GET /data/v1/metrics/{metric_id}/breakdown` */
export const MetricBreakdownResponse = Type.Object({
  data: Type.Array(
    Type.Object({
      field: Type.String(),
      value: Nullable,
      views: Type.Integer(),
      total_watch_time_ms: Type.Number(),
      negative_impact: Nullable,
      share_of_views: Type.Number({ description: 'Percent of the views in the scope that fall in this row' }),
    }),
  ),
  total_row_count: Type.Integer(),
  timeframe: Timeframe,
  measurement: Type.String(),
  unit: Type.String(),
});
export type MetricBreakdownResponse = Static<typeof MetricBreakdownResponse>;

/** One row of the error analysis: an error code (and player) and the views it affected. */
export const ErrorAnalysisRow = Type.Object({
  error_code: Type.String(),
  player_software: Type.Union([Type.String(), Type.Null()], {
    description: 'The player, when grouped by_player; null otherwise',
  }),
  views: Type.Integer({ description: 'Views whose first fatal or business error had this code' }),
  share_of_views: Type.Number({ description: 'Percent of all views in the timeframe and filters' }),
  playback_failures: Type.Integer({ description: 'Of those, views that failed (the error was fatal)' }),
  first_seen: Type.String({ description: 'ISO 8601: the end of the earliest affected view' }),
  last_seen: Type.String({ description: 'ISO 8601: the end of the latest affected view' }),
  messages: Type.Array(Type.Object({ message: Type.String(), views: Type.Integer() }), {
    description: 'The most frequent messages (at most 5), most views first',
  }),
  players: Type.Array(
    Type.Object({ player_software: Type.String(), player_version: Type.String(), views: Type.Integer() }),
    { description: 'Players and versions affected (at most 10), most views first' },
  ),
  example_view_ids: Type.Array(Type.String(), { description: 'At most 5 affected views, latest first' }),
});
export type ErrorAnalysisRow = Static<typeof ErrorAnalysisRow>;

/** `GET /data/v1/errors` */
export const ErrorAnalysisResponse = Type.Object({
  data: Type.Array(ErrorAnalysisRow),
  total_row_count: Type.Integer(),
  total_views: Type.Integer({ description: 'All views in the timeframe and filters (the shares’ base)' }),
  timeframe: Timeframe,
});
export type ErrorAnalysisResponse = Static<typeof ErrorAnalysisResponse>;

const Text = Type.Union([Type.String(), Type.Null()]);
const Bool = Type.Union([Type.Boolean(), Type.Null()]);
const Iso = Type.Union([Type.String(), Type.Null()], { description: 'ISO 8601' });

/**
 * One row of the views list. The first seven are the summary's fixed fields;
 * the others are the rest of its columns, as stored (null when not known).
 */
export const VideoViewSummary = Type.Object(
  {
    view_id: Type.String(),
    environment_id: Type.String(),
    viewer_id: Type.String(),
    view_start: Iso,
    view_end: Iso,
    video_title: Type.String(),
    outcome: Type.String({ description: 'success, failure, ebvs, business_exception or in_progress' }),
    video_id: Text,
    player_software: Text,
    browser: Text,
    operating_system: Text,
    device_category: Text,
    country: Text,
    cdn_host: Text,
    error_code: Text,
    watch_time_ms: Nullable,
    video_startup_time_ms: Nullable,
    rebuffer_count: Nullable,
    rebuffer_percentage: Nullable,
    playback_failure: Bool,
    exited_before_video_start: Bool,
    viewer_experience_score: Nullable,
  },
  { additionalProperties: true },
);
export type VideoViewSummary = Static<typeof VideoViewSummary>;

/** `GET /data/v1/video-views` */
export const VideoViewListResponse = Type.Object({
  data: Type.Array(VideoViewSummary),
  total_row_count: Type.Integer(),
  timeframe: Type.Array(Type.Integer(), { minItems: 2, maxItems: 2 }),
});
export type VideoViewListResponse = Static<typeof VideoViewListResponse>;

/** One entry of a view's timeline: a state held for a while (sample), or an event. */
export const TimelineEntry = Type.Object({
  kind: Type.Union([Type.Literal('sample'), Type.Literal('event')], {
    description:
      'sample: a state held for duration_ms (consecutive samples of one state and rendition are one entry); event',
  }),
  sequence_number: Type.Integer({ description: 'The first sequence number of the entry' }),
  samples: Type.Integer({ description: 'Samples merged into the entry (0 for an event)' }),
  time: Type.Union([Type.String(), Type.Null()], {
    description: 'ISO 8601, on the view’s clock',
  }),
  time_ms: Type.Number(),
  state: Type.String(),
  duration_ms: Nullable,
  type: Text,
  error_code: Text,
  error_fatal: Bool,
  video_bitrate_bps: Nullable,
  video_width: Nullable,
  video_height: Nullable,
});
export type TimelineEntry = Static<typeof TimelineEntry>;

/** `GET /data/v1/video-views/{view_id}`: every stored column of the view, and its timeline. */
export const VideoViewResponse = Type.Object({
  data: Type.Object(
    {
      view_id: Type.String(),
      environment_id: Type.String(),
      timeline: Type.Array(TimelineEntry),
    },
    { additionalProperties: true },
  ),
});
/** The view's other columns are named as stored (docs/metrics.md); their values are plain JSON. */
export type VideoView = Static<typeof VideoViewResponse>['data'] & {
  [column: string]: string | number | boolean | null | TimelineEntry[];
};
export type VideoViewResponse = { data: VideoView };
