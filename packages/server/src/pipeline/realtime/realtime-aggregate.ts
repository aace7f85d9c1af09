/**
 * One group's real-time numbers (all views, or one breakdown row) at a
 * tick. Every field is a sum or a mergeable sketch, so aggregates from
 * several pipelines (partitions) merge into the same answer one pipeline
 * would give; metric values are only derived at the end.
 */
import { DDSketch } from '@datadog/sketches-js';
import { REALTIME_METRICS, type RealtimeMetricId, STARTUP_BUCKETS_MS } from './realtime-catalog.js';

/** A view's part in one tick. */
export interface ViewTick {
  /** Starting up, playing, rebuffering or seeking at the tick (a failed view is not watching). */
  concurrent: boolean;
  startingUp: boolean;
  watchMs: number;
  rebufferMs: number;
  /** Indicated bitrate while playing; 0 when not playing or unknown. */
  bitrateBps: number;
  /** Startup time of a concurrent view that started; null otherwise. */
  startupMs: number | null;
}

/** Something that ended a start attempt or a playback, counted over the trailing attempt window. */
export type Outcome = 'started' | 'startup_failed' | 'ebvs' | 'playback_failed';

/** The counters and sums of an aggregate: merged by adding, and what travels between nodes. */
export const SUMS = [
  'concurrent',
  'startingUp',
  'watchMs',
  'rebufferMs',
  'bitrateSum',
  'bitrateN',
  'started',
  'startupFailed',
  'ebvs',
  'playbackFailed',
  'startupSum',
] as const;

/** 1 % relative accuracy: a 2 000 ms median reads within ±20 ms. */
const SKETCH_ACCURACY = 0.01;

export class RealtimeAggregate {
  concurrent = 0;
  startingUp = 0;
  watchMs = 0;
  rebufferMs = 0;
  bitrateSum = 0;
  bitrateN = 0;
  started = 0;
  startupFailed = 0;
  ebvs = 0;
  playbackFailed = 0;
  readonly histogram = new Array<number>(STARTUP_BUCKETS_MS.length).fill(0);
  /**
   * Startup times of this process's views, exact. Aggregates from other
   * processes arrive as sketches (`sketch`), which exact values then join;
   * building a sketch per row for every tick would cost more than the tick.
   */
  private readonly startupValues: number[] = [];
  private sketch: DDSketch | undefined;
  private sorted: Float64Array | undefined;
  startupSum = 0;

  addView(t: ViewTick): void {
    if (t.concurrent) this.concurrent++;
    if (t.startingUp) this.startingUp++;
    this.watchMs += t.watchMs;
    this.rebufferMs += t.rebufferMs;
    if (t.bitrateBps > 0) {
      this.bitrateSum += t.bitrateBps;
      this.bitrateN++;
    }
    if (t.startupMs !== null) {
      const ms = Math.max(0, t.startupMs);
      this.startupValues.push(ms);
      this.startupSum += ms;
      this.sorted = undefined;
      this.histogram[bucketOf(t.startupMs)]!++;
    }
  }

  addOutcome(o: Outcome): void {
    if (o === 'started') this.started++;
    else if (o === 'startup_failed') this.startupFailed++;
    else if (o === 'ebvs') this.ebvs++;
    else this.playbackFailed++;
  }

  merge(o: RealtimeAggregate): void {
    for (const k of SUMS) this[k] += o[k];
    for (const v of o.startupValues) this.startupValues.push(v);
    this.sorted = undefined;
    if (o.sketch) this.mergeSketch(o.sketch);
    for (const [i, n] of o.histogram.entries()) this.histogram[i]! += n;
  }

  /** Start attempts: views loading now, plus those that left loading within the window. */
  get attempts(): number {
    return this.startingUp + this.started + this.startupFailed + this.ebvs;
  }

  /** The startup times counted; named as `PartSums` names it, so one tick's aggregate is its own parts. */
  get startupN(): number {
    return this.startupValues.length + (this.sketch?.count ?? 0);
  }

  get ticks(): number {
    return 1;
  }

  /** The startup times as a mergeable sketch (what a process hands to others). */
  startupSketch(): DDSketch {
    const s = new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
    if (this.sketch) s.merge(this.sketch);
    for (const v of this.startupValues) s.accept(v);
    return s;
  }

  /** Joins startup times that arrive as a sketch (from another process). */
  mergeSketch(sketch: DDSketch): void {
    if (sketch.count === 0) return;
    this.sketch ??= new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
    this.sketch.merge(sketch);
    this.startupSum += sketch.sum;
  }

  /** Nearest-rank quantile: exact for this process's views, ±1 % once a sketch joined. */
  quantile(q: number): number | null {
    if (this.startupN === 0) return null;
    if (this.sketch) return Math.round(this.startupSketch().getValueAtQuantile(q));
    this.sorted ??= Float64Array.from(this.startupValues).sort();
    const sorted = this.sorted;
    return Math.round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!);
  }

  /** The metric's value for this group; null when nothing it is a fraction of was there. */
  value(metric: RealtimeMetricId, measurement: 'median' | 'p95' = 'median'): number | null {
    // Startup time is a quantile of the times; every other metric is its parts' ratio.
    if (metric === 'video_startup_time') return this.quantile(measurement === 'p95' ? 0.95 : 0.5);
    const [n, d] = metricParts(metric, this);
    if (d <= 0) return null;
    const unit = REALTIME_METRICS[metric].unit;
    return unit === 'percentage' ? (100 * n) / d : unit === 'bps' ? Math.round(n / d) : n / d;
  }
}

/** The sums a metric's parts are made of: one tick's aggregate (itself one), or minutes of history added up. */
export type PartSums = Record<(typeof SUMS)[number], number> & { startupN: number; ticks: number };

/**
 * [numerator, denominator] of a metric over summed parts: the one place the
 * rates are defined, for a tick's value and for rates over history alike.
 * Viewers are viewer-ticks over ticks; startup time here is the mean (a
 * tick's value is a quantile instead).
 */
export function metricParts(metric: RealtimeMetricId, s: PartSums): [number, number] {
  const attempts = s.startingUp + s.started + s.startupFailed + s.ebvs;
  switch (metric) {
    case 'current_concurrent_viewers':
      return [s.concurrent, s.ticks];
    case 'current_rebuffering_percentage':
      return [s.rebufferMs, s.watchMs];
    case 'current_average_bitrate':
      return [s.bitrateSum, s.bitrateN];
    case 'video_startup_time':
      return [s.startupSum, s.startupN];
    case 'video_startup_failure_percentage':
      return [s.startupFailed, attempts];
    case 'exits_before_video_start':
      return [s.ebvs, attempts];
    case 'playback_failure_percentage':
      // Failed views no longer watch: they join the viewers they were part of.
      return [s.playbackFailed, s.concurrent + s.playbackFailed];
  }
}

function bucketOf(ms: number): number {
  let i = STARTUP_BUCKETS_MS.length - 1;
  while (i > 0 && ms < STARTUP_BUCKETS_MS[i]!) i--;
  return i;
}

/**
 * (row − overall) × row viewers ÷ total viewers, signed so that a larger
 * number is worse for the metric. 0 when either value is missing.
 */
export function negativeImpact(
  metric: RealtimeMetricId,
  row: number | null,
  overall: number | null,
  rowViewers: number,
  totalViewers: number,
): number {
  if (row === null || overall === null || totalViewers === 0 || metric === 'current_concurrent_viewers')
    return 0;
  const diff = REALTIME_METRICS[metric].higherIsWorse ? row - overall : overall - row;
  return (diff * rowViewers) / totalViewers;
}
