/**
 * The view metric catalog: one entry per metric of a view, keyed by its name
 * (the views column it is stored in). An entry gives its unit, how it is
 * computed from the view's state, its description (the OpenAPI text of the
 * query API's metrics) and its outputs: the query API's aggregate, the
 * connector envelope's field, the monitoring stream's metric. Derived from
 * it: `ViewMetrics` (camelCase names), the row's metric values (view-row.ts),
 * the query catalog's SQL (query/metric-catalog.ts), the envelope's metric
 * fields (in this order) and the stream's window metrics (outputs/).
 *
 * A column's type and the migration that added it stay in the store's list
 * (store/view-row.ts): the store imports nothing of the server and needs its
 * layout and migrations when it opens. The compiler checks that the two
 * agree (CatalogChecks; view-row.ts needs a value for every other column). A
 * store also takes a longer layout at open (`viewColumns`): how a test adds a
 * metric whole.
 */
import type { ViewMetricId } from '@openqoe/schema';
import type { ViewColumnName, ViewColumnType, ViewRowValue } from '../../store/view-row.js';
import type { MachineTotals, ViewOutcome, WebRtcSums } from './machine-totals.js';
import type { Scores } from './scores.js';

/** What a metric is computed from: the machine's totals and what the machine derives from them. */
export interface ViewState {
  readonly m: MachineTotals;
  readonly outcome: ViewOutcome;
  /** These five count a stall or seek still open as it stands (the machine's own totals do not). */
  readonly rebufferCount: number;
  readonly rebufferMs: number;
  readonly playingMs: number;
  readonly seekCount: number;
  readonly seekTotalMs: number;
  readonly videoStartupTimeMs: number | null;
  readonly ebvsDurationMs: number | null;
  readonly scores: Scores;
}

/** The units the query API answers in (besides `views`), and the others. */
export type QueryUnit = 'ms' | 'count' | 'percent' | 'per_minute' | 'bps' | 'score';
export type MetricUnit = QueryUnit | 'fps' | 'ratio' | 'flag' | 'text';

/** How the query API aggregates a metric over views; query/metric-catalog.ts spells it as SQL. */
export type QueryAggregate<Id extends string = string> = {
  /** Its metric id there (packages/schema VIEW_METRIC_IDS). */
  id: Id;
  /** The default measurement, when not the kind's own (median for times, avg for the rest). */
  default?: 'avg' | 'sum' | 'count';
  /** Negative impact is signed by this: worse when higher, except scores and these. */
  better?: 'higher';
} & (
  | { as: 'time'; by?: ViewColumnName } // avg (weighted by `by`), median, 75th, 90th, 95th, 99th, min, max, sum
  | { as: 'count' } // avg, sum, max per view
  | { as: 'share' } // percent of views where the flag holds, and their count
  | { as: 'score' } // avg, median, min, max
  | { as: 'mean' } // avg, percentiles, min, max of the views' values
  | { as: 'weighted'; by: ViewColumnName } // Σ(value × by) ÷ Σ by, median, max
  | { as: 'ratio'; of: ViewColumnName; per: ViewColumnName } // Σ of ÷ Σ per (percent or per minute), percentiles of the views' values
);

/** A field of the connector envelope's `event.metrics` (docs/connectors.md). */
export interface EnvelopeField {
  field: string;
  /** Sent rounded to an integer after dividing by this (1: as it is); else sent as computed. */
  round?: number;
  /** Listed after the event's own playhead and rendition fields, not before. */
  afterEvent?: true;
}

/** The monitoring stream's window metrics (monitoring.proto `Metric.Type`). */
export type StreamMetric =
  | 'START_LATENCY_MS'
  | 'WATCH_DURATION_MS'
  | 'REBUFFER_DURATION_MS'
  | 'REBUFFER_COUNT'
  | 'SEEK_LATENCY_MS';

export interface MetricEntry<Id extends string = string> {
  unit: MetricUnit;
  of: (s: ViewState) => ViewRowValue;
  /** What it means, for readers of the API. */
  description: string;
  /** Not stored: computed for the outputs only. */
  stored?: false;
  query?: QueryAggregate<Id>;
  envelope?: EnvelopeField;
  /** The stream metric that carries it, split by event-time window (outputs/stream/window-tracker.ts). */
  stream?: StreamMetric;
}
type Outputs = Pick<MetricEntry<ViewMetricId>, 'description' | 'stored' | 'query' | 'envelope' | 'stream'>;

export type MetricCatalog = Readonly<Record<string, MetricEntry>>;

/** An entry: the unit, the computation, and its description and outputs. */
const metric = <T extends ViewRowValue, O extends Outputs>(
  unit: MetricUnit,
  of: (s: ViewState) => T,
  more: O,
) => ({
  unit,
  of,
  ...more,
});

/** x ÷ n, or null when nothing was counted (n = 0). */
const per = (x: number, n: number): number | null => (n > 0 ? x / n : null);
const known = (ms: number): number | null => (ms > 0 ? ms : null);
/** A scale figure as a percentage, once a segment had a known scale. */
const scaled = (s: ViewState, fraction: number) => (s.m.scaleMs > 0 ? 100 * fraction : null);
const throughput = (s: ViewState) => per(s.m.requestBytes * 8 * 1000, s.m.requestTransferTotalMs);
const aggregateStartup = ({ m, videoStartupTimeMs: video }: ViewState) =>
  m.pageLoadTimeMs > 0 && m.playerStartupTimeMs > 0 && video !== null
    ? m.pageLoadTimeMs + m.playerStartupTimeMs + video
    : null;
const rtc = <T>(s: ViewState, of: (r: WebRtcSums) => T) => (s.m.rtc ? of(s.m.rtc) : null);
/** VOD only: the furthest playhead reached playing over the content's duration, capped at 100 %. */
const completion = ({ m }: ViewState) =>
  m.live || m.contentDurationMs <= 0
    ? null
    : Math.min(100, (100 * m.furthestPlayheadMs) / m.contentDurationMs);

export const VIEW_METRICS = {
  // Time.
  engagement_time_ms: metric('ms', (s) => s.m.watchMs + s.m.pausedMs, {
    description: 'Watch time plus paused time',
    stored: false,
    envelope: { field: 'engagement_duration_ms', round: 1 },
  }),
  watch_time_ms: metric('ms', (s) => s.m.watchMs, {
    description: 'Time in startup, playing, rebuffering, seeking and ads; paused time is not',
    query: { id: 'watch_time', as: 'time', better: 'higher', default: 'sum' },
    stream: 'WATCH_DURATION_MS',
  }),
  playing_time_ms: metric('ms', (s) => s.playingMs, {
    description: 'Watch time less startup, counted rebuffering, seeking and ads',
    query: { id: 'playing_time', as: 'time', better: 'higher', default: 'sum' },
    envelope: { field: 'playback_duration_ms', round: 1 },
  }),
  paused_time_ms: metric('ms', (s) => s.m.pausedMs, { description: 'Time paused (not watch time)' }),
  ad_time_ms: metric('ms', (s) => s.m.adMs, { description: 'Time in ads' }),
  // Stalls and seeks.
  buffering_time_ms: metric('ms', (s) => s.m.startupMs + s.rebufferMs, {
    description: 'Startup plus rebuffer duration',
    stored: false,
    envelope: { field: 'buffer_duration_ms', round: 1 },
  }),
  rebuffer_count: metric('count', (s) => s.rebufferCount, {
    description: 'Stalls after the first frame, outside seeks, of at least 250 ms',
    query: { id: 'rebuffer_count', as: 'count' },
    envelope: { field: 'stall_count' },
    stream: 'REBUFFER_COUNT',
  }),
  rebuffer_duration_ms: metric('ms', (s) => s.rebufferMs, {
    description: 'Time in the stalls counted by rebuffer_count',
    query: { id: 'rebuffer_duration', as: 'time', default: 'avg' },
    envelope: { field: 'stall_duration_ms', round: 1 },
    stream: 'REBUFFER_DURATION_MS',
  }),
  rebuffer_percentage: metric('percent', (s) => per(100 * s.rebufferMs, s.m.watchMs), {
    description: '100 × rebuffer duration ÷ watch time',
    query: { id: 'rebuffer_percentage', as: 'ratio', of: 'rebuffer_duration_ms', per: 'watch_time_ms' },
  }),
  rebuffer_frequency: metric('per_minute', (s) => per(s.rebufferCount, s.m.watchMs / 60_000), {
    description: 'Rebuffers per minute of watch time',
    query: { id: 'rebuffer_frequency', as: 'ratio', of: 'rebuffer_count', per: 'watch_time_ms' },
  }),
  completion_percentage: metric('percent', completion, {
    description:
      'VOD: 100 × furthest playhead reached while playing ÷ content duration, at most 100; none for live or without a duration',
    query: { id: 'completion_percentage', as: 'mean', better: 'higher' },
  }),
  video_duration_ms: metric('ms', (s) => known(s.m.contentDurationMs), {
    description: 'Content duration as the player last reported it (VOD)',
  }),
  seek_count: metric('count', (s) => s.seekCount, {
    description: 'Seeks after the first frame',
    envelope: { field: 'seek_count' },
  }),
  seek_latency_ms: metric('ms', (s) => per(s.seekTotalMs, s.seekCount), {
    description: 'Mean time from a seek until playback resumed',
    query: { id: 'seek_latency', as: 'time', by: 'seek_count', default: 'avg' },
    stream: 'SEEK_LATENCY_MS',
  }),
  // Startup.
  video_startup_time_ms: metric('ms', (s) => s.videoStartupTimeMs, {
    description: 'Time from the play request to the first frame',
    query: { id: 'video_startup_time', as: 'time' },
    envelope: { field: 'video_startup_time_ms' },
    stream: 'START_LATENCY_MS',
  }),
  player_startup_time_ms: metric('ms', (s) => known(s.m.playerStartupTimeMs), {
    description: 'Player startup time, as the player reported it',
    query: { id: 'player_startup_time', as: 'time' },
  }),
  page_load_time_ms: metric('ms', (s) => known(s.m.pageLoadTimeMs), {
    description: 'Page load time, as the page reported it',
    query: { id: 'page_load_time', as: 'time' },
  }),
  aggregate_startup_time_ms: metric('ms', aggregateStartup, {
    description: 'Page load + player startup + video startup time, when all three are known',
    query: { id: 'aggregate_startup_time', as: 'time' },
  }),
  play_requested: metric('flag', (s) => s.m.playRequestSeen, {
    description:
      'Plays: views where a play request was seen (a play request event or startup), not only inferred from playback',
    query: { id: 'plays', as: 'share', default: 'count', better: 'higher' },
  }),
  exited_before_video_start: metric('flag', (s) => s.outcome === 'ebvs', {
    description: 'Play requested, then left before the first frame without a fatal error',
    query: { id: 'exits_before_video_start', as: 'share' },
  }),
  ebvs_duration_ms: metric('ms', (s) => s.ebvsDurationMs, {
    description: 'For an exit before video start: time from the play request to the exit',
  }),
  // Network.
  request_count: metric('count', (s) => s.m.requestCount, { description: 'Media requests' }),
  request_failed_count: metric('count', (s) => s.m.requestFailedCount, {
    description: 'Failed media requests',
  }),
  request_ttfb_ms: metric('ms', (s) => per(s.m.requestTtfbTotalMs, s.m.requestTtfbCount), {
    description:
      'Time to the first byte of media requests (mean over the view’s requests that have one; avg weighs views by requests)',
    query: { id: 'request_latency', as: 'time', by: 'request_count' },
  }),
  request_throughput_bps: metric('bps', throughput, {
    description: '8 × bytes ÷ transfer time of the requests',
    envelope: { field: 'bandwidth_kbps', round: 1000 },
  }),
  live_latency_ms: metric('ms', (s) => per(s.m.liveLatencySum, s.m.liveLatencyCount), {
    description: 'Live latency: wall clock − program date time of the playhead, mean of the values reported',
    query: { id: 'live_stream_latency', as: 'time' },
  }),
  // Renditions and frames.
  weighted_average_bitrate_bps: metric('bps', (s) => per(s.m.bitrateWeighted, s.m.bitrateMs), {
    description: 'Indicated bitrate, weighted by playing time',
    query: { id: 'weighted_average_bitrate', as: 'weighted', by: 'playing_time_ms', better: 'higher' },
  }),
  rendition_changes: metric('count', (s) => s.m.renditionChanges, {
    description: 'Rendition changes to another bitrate',
    envelope: { field: 'rendition_change_count', afterEvent: true },
  }),
  upshifts: metric('count', (s) => s.m.upshifts, { description: 'Rendition changes to a higher bitrate' }),
  downshifts: metric('count', (s) => s.m.downshifts, { description: 'Rendition changes to a lower bitrate' }),
  upscale_percentage: metric('percent', (s) => scaled(s, s.m.upscaleWeighted / s.m.scaleMs), {
    description: 'Mean upscale of the video to the player, weighted by time',
    query: { id: 'upscale_percentage', as: 'weighted', by: 'playing_time_ms' },
  }),
  max_upscale_percentage: metric('percent', (s) => scaled(s, s.m.maxUpscale), {
    description: 'Largest upscale of the video to the player',
  }),
  downscale_percentage: metric('percent', (s) => per(100 * s.m.downscaleWeighted, s.m.scaleMs), {
    description: 'Mean downscale of the video to the player, weighted by time',
    query: { id: 'downscale_percentage', as: 'weighted', by: 'playing_time_ms' },
  }),
  max_downscale_percentage: metric('percent', (s) => scaled(s, s.m.maxDownscale), {
    description: 'Largest downscale of the video to the player',
  }),
  dropped_frames: metric('count', (s) => s.m.droppedFrames, {
    description: 'Frames dropped over the view',
    envelope: { field: 'dropped_frames', afterEvent: true },
  }),
  dropped_frame_frequency: metric('per_minute', (s) => per(s.m.droppedFrames, s.playingMs / 60_000), {
    description: 'Frames dropped per minute of playing time',
    query: { id: 'dropped_frame_frequency', as: 'ratio', of: 'dropped_frames', per: 'playing_time_ms' },
  }),
  // Outcome and errors.
  outcome: metric('text', (s) => s.outcome, {
    description: 'success, failure, ebvs, business_exception or in_progress',
  }),
  video_startup_failure: metric('flag', (s) => s.m.failed && s.m.failedBeforeStart, {
    description: 'A fatal error before the first frame',
    query: { id: 'video_startup_failure_percentage', as: 'share' },
  }),
  playback_failure: metric('flag', (s) => s.m.failed, {
    description: 'A fatal error at any point',
    query: { id: 'playback_failure_percentage', as: 'share' },
  }),
  business_exception: metric('flag', (s) => s.m.businessException, {
    description: 'An error flagged as business (geo block, entitlement): not a failure',
  }),
  error_code: metric('text', (s) => s.m.errorCode, {
    description: 'Code of the first fatal or business error',
  }),
  error_message: metric('text', (s) => s.m.errorMessage, {
    description: 'Message of the first fatal or business error',
  }),
  // Scores, 0–100 (docs/metrics.md).
  playback_success_score: metric('score', (s) => s.scores.playbackSuccess, {
    description: '100 success, 0 failure, 50 exit before video start',
    query: { id: 'playback_success_score', as: 'score' },
  }),
  startup_time_score: metric('score', (s) => s.scores.startupTime, {
    description: '100 × 8 ÷ (8 + startup seconds)',
    query: { id: 'startup_time_score', as: 'score' },
  }),
  smoothness_score: metric('score', (s) => s.scores.smoothness, {
    description: 'From the rebuffer count and the share of watch time rebuffering',
    query: { id: 'smoothness_score', as: 'score' },
  }),
  video_quality_score: metric('score', (s) => s.scores.videoQuality, {
    description: 'From the mean and the largest upscale',
    query: { id: 'video_quality_score', as: 'score' },
  }),
  viewer_experience_score: metric('score', (s) => s.scores.viewerExperience, {
    description: 'Weighted geometric mean of startup, smoothness and quality, × playback success',
    query: { id: 'viewer_experience_score', as: 'score' },
  }),
  // WebRTC receive statistics, weighted by time; null for views without them.
  webrtc_fps: metric('fps', (s) => rtc(s, (r) => per(r.fpsWeighted, r.fpsMs)), {
    description: 'Frames per second, weighted by time where reported',
  }),
  webrtc_jitter_ms: metric('ms', (s) => rtc(s, (r) => per(r.jitterWeighted, r.statsMs)), {
    description: 'Jitter, weighted by time',
  }),
  webrtc_packets_lost: metric('count', (s) => rtc(s, (r) => r.maxPacketsLost), {
    description: 'Packets lost over the connection',
  }),
  webrtc_packet_loss_ratio: metric('ratio', (s) => rtc(s, (r) => per(r.lossRatioWeighted, r.statsMs)), {
    description: 'Share of packets lost',
  }),
  webrtc_rtt_ms: metric('ms', (s) => rtc(s, (r) => per(r.rttWeighted, r.rttMs)), {
    description: 'Round-trip time, weighted by time where reported',
  }),
} satisfies MetricCatalog;

type Catalog = typeof VIEW_METRICS;
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** What a view's metrics carry besides the catalog's: when it was requested, started and last heard of. */
export interface ViewTimes {
  playRequestedAtMs: number | null;
  firstFrameAtMs: number | null;
  lastTimeMs: number | null;
  scores: Scores;
}
const TIMES = ['playRequestedAtMs', 'firstFrameAtMs', 'lastTimeMs', 'scores'] satisfies (keyof ViewTimes)[];

/** A view's metrics as they stand: each entry under its camelCase name, and the view's times and scores. */
export type ViewMetrics = { [K in keyof Catalog as Camel<K>]: ReturnType<Catalog[K]['of']> } & ViewTimes;

/** Query metrics counted over the views themselves, with no column of their own (query/metric-catalog.ts). */
export type ViewSetMetricId = 'views' | 'unique_viewers' | 'views_per_viewer' | 'watch_time_per_viewer';

/** The metrics that are views columns. */
export type StoredMetric = {
  [K in keyof Catalog]: Catalog[K] extends { stored: false } ? never : K;
}[keyof Catalog];
type QueryId = {
  [K in keyof Catalog]: Catalog[K] extends { query: { id: infer I } } ? I : never;
}[keyof Catalog];
type Values = { VARCHAR: string; DOUBLE: number; BIGINT: number; BOOLEAN: boolean; TIMESTAMP: number };
type Mistyped = {
  [K in StoredMetric]: ReturnType<Catalog[K]['of']> extends Values[ViewColumnType<K>] | null ? never : K;
}[StoredMetric];
/** Satisfied by `never` only: otherwise the compiler names what is wrong. */
type None<Wrong extends never> = Wrong;
/**
 * The catalog against the store's columns and the API's metric ids, checked by the compiler: a stored
 * metric with no column, a query metric id with no entry, a value of the wrong type for its column.
 */
export type CatalogChecks = [
  None<Exclude<StoredMetric, ViewColumnName>>,
  None<Exclude<ViewMetricId, QueryId | ViewSetMetricId>>,
  None<Mistyped>,
];

/** A metric's name in `ViewMetrics`: rebuffer_count → rebufferCount. */
export const metricKey = (name: string): string => name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

type Listed = readonly [key: string, entry: MetricEntry];
const listed = new WeakMap<MetricCatalog, Listed[]>();

/** The entries of `catalog` under their `ViewMetrics` names, in order (listed once per catalog). */
export function metricEntries(catalog: MetricCatalog): readonly Listed[] {
  let list = listed.get(catalog);
  if (!list) {
    list = Object.entries(catalog).map(([name, e]) => [metricKey(name), e] as const);
    listed.set(catalog, list);
  }
  return list;
}

type Build = (entries: readonly Listed[], state: ViewState, times: ViewTimes) => ViewTimes;
const builds = new WeakMap<MetricCatalog, Build>();

/**
 * A view's metrics: `times`, and every metric of `catalog` computed from `state` under its camelCase
 * name. The object is one literal, written by a function made once per catalog: filled a property at a
 * time, V8 keeps an object of this many properties as a dictionary, which made a view's metrics about
 * ten times slower to build and to read.
 */
export function computeMetrics(catalog: MetricCatalog, state: ViewState, times: ViewTimes): ViewTimes {
  const entries = metricEntries(catalog);
  let build = builds.get(catalog);
  if (!build) {
    const fields = [
      ...TIMES.map((k) => `${k}: t.${k}`),
      ...entries.map(([key], i) => `${JSON.stringify(key)}: l[${i}][1].of(s)`),
    ];
    build = new Function('l', 's', 't', `return { ${fields.join(', ')} };`) as Build;
    builds.set(catalog, build);
  }
  return build(entries, state, times);
}
