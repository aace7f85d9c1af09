/**
 * How each per-view metric id aggregates over views, as SQL over the `views`
 * table. Rates are ratios of sums (total rebuffering ÷ total watch time), not
 * means of per-view ratios, so long views weigh as much as they were watched.
 * Times offer percentiles; `higherIsWorse` signs the breakdowns' negative
 * impact.
 */
import type { ViewMetricId } from '@openqoe/schema';

export type Measurement = 'median' | '95th' | 'avg' | 'sum' | 'count' | 'min' | 'max';

export interface MetricDefinition {
  unit: 'views' | 'ms' | 'percent' | 'count' | 'per_minute' | 'bps' | 'score';
  higherIsWorse: boolean;
  defaultMeasurement: Measurement;
  /** SQL aggregate per measurement. */
  sql: Partial<Record<Measurement, string>>;
  /** Views that contribute a value (the denominator a reader should see). */
  viewsSql: string;
}

const time = (col: string, higherIsWorse = true): MetricDefinition => ({
  unit: 'ms',
  higherIsWorse,
  defaultMeasurement: 'median',
  sql: {
    median: `median(${col})`,
    '95th': `quantile_cont(${col}, 0.95)`,
    avg: `avg(${col})`,
    min: `min(${col})`,
    max: `max(${col})`,
    sum: `sum(${col})`,
  },
  viewsSql: `count(${col})`,
});

const percentOfViews = (flag: string): MetricDefinition => ({
  unit: 'percent',
  higherIsWorse: true,
  defaultMeasurement: 'avg',
  sql: { avg: `100.0 * avg(CASE WHEN ${flag} THEN 1 ELSE 0 END)`, count: `count(*) FILTER (WHERE ${flag})` },
  viewsSql: 'count(*)',
});

const score = (col: string): MetricDefinition => ({
  unit: 'score',
  higherIsWorse: false,
  defaultMeasurement: 'avg',
  sql: { avg: `avg(${col})`, median: `median(${col})`, min: `min(${col})`, max: `max(${col})` },
  viewsSql: `count(${col})`,
});

/** Σ(value × weight) ÷ Σ weight over views that have a value. */
const weighted = (
  col: string,
  weight: string,
  unit: MetricDefinition['unit'],
  higherIsWorse: boolean,
): MetricDefinition => ({
  unit,
  higherIsWorse,
  defaultMeasurement: 'avg',
  sql: {
    avg: `sum(${col} * ${weight}) / nullif(sum(${weight}) FILTER (WHERE ${col} IS NOT NULL), 0)`,
    median: `median(${col})`,
    max: `max(${col})`,
  },
  viewsSql: `count(${col})`,
});

export const METRICS: Record<ViewMetricId, MetricDefinition> = {
  views: {
    unit: 'views',
    higherIsWorse: false,
    defaultMeasurement: 'count',
    sql: { count: 'count(*)' },
    viewsSql: 'count(*)',
  },
  video_startup_time: time('video_startup_time_ms'),
  player_startup_time: time('player_startup_time_ms'),
  page_load_time: time('page_load_time_ms'),
  aggregate_startup_time: time('aggregate_startup_time_ms'),
  watch_time: { ...time('watch_time_ms', false), defaultMeasurement: 'sum' },
  playing_time: { ...time('playing_time_ms', false), defaultMeasurement: 'sum' },
  rebuffer_count: {
    unit: 'count',
    higherIsWorse: true,
    defaultMeasurement: 'avg',
    sql: { avg: 'avg(rebuffer_count)', sum: 'sum(rebuffer_count)', max: 'max(rebuffer_count)' },
    viewsSql: 'count(*)',
  },
  rebuffer_duration: { ...time('rebuffer_duration_ms'), defaultMeasurement: 'avg' },
  rebuffer_percentage: {
    unit: 'percent',
    higherIsWorse: true,
    defaultMeasurement: 'avg',
    sql: {
      avg: '100.0 * sum(rebuffer_duration_ms) / nullif(sum(watch_time_ms), 0)',
      median: 'median(rebuffer_percentage)',
      '95th': 'quantile_cont(rebuffer_percentage, 0.95)',
    },
    viewsSql: 'count(rebuffer_percentage)',
  },
  rebuffer_frequency: {
    unit: 'per_minute',
    higherIsWorse: true,
    defaultMeasurement: 'avg',
    sql: {
      avg: 'sum(rebuffer_count) / nullif(sum(watch_time_ms) / 60000.0, 0)',
      median: 'median(rebuffer_frequency)',
    },
    viewsSql: 'count(rebuffer_frequency)',
  },
  seek_latency: {
    ...time('seek_latency_ms'),
    defaultMeasurement: 'avg',
    sql: {
      ...time('seek_latency_ms').sql,
      // The mean over seeks, not over views.
      avg: 'sum(seek_latency_ms * seek_count) / nullif(sum(seek_count) FILTER (WHERE seek_latency_ms IS NOT NULL), 0)',
    },
  },
  exits_before_video_start: percentOfViews('exited_before_video_start'),
  video_startup_failure_percentage: percentOfViews('video_startup_failure'),
  playback_failure_percentage: percentOfViews('playback_failure'),
  weighted_average_bitrate: weighted('weighted_average_bitrate_bps', 'playing_time_ms', 'bps', false),
  upscale_percentage: weighted('upscale_percentage', 'playing_time_ms', 'percent', true),
  downscale_percentage: weighted('downscale_percentage', 'playing_time_ms', 'percent', true),
  playback_success_score: score('playback_success_score'),
  startup_time_score: score('startup_time_score'),
  smoothness_score: score('smoothness_score'),
  video_quality_score: score('video_quality_score'),
  viewer_experience_score: score('viewer_experience_score'),
};
