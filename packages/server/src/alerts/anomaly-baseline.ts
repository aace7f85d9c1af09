/**
 * The anomaly model (docs/alerting.md, "Anomaly conditions"), pure: given an
 * anomaly condition and one series' minute history, it says whether minute
 * `m` is normal, anomalous, or has too little history to say. The engine
 * calls it once a minute per series; a backtest can replay it over the kept
 * history (no engine state, no clock, no store).
 *
 * Values: each minute's value is the metric over the last `SMOOTH_MINUTES`
 * minutes' sums (re-aggregated exactly: Σrebuffer ÷ Σwatch), so a small
 * audience's stalls, one viewer at a time, do not make every minute a coin
 * toss. Baseline: the series' values at the same minute of day (± `WINDOW_MINUTES`)
 * on each of the previous 7 days, and on the same weekday of the weeks
 * before (days 14, 21, 28): daily seasonality from the last week, weekly
 * seasonality from the same weekday. Its centre is the median and its spread
 * the larger of two robust estimates of a standard deviation: the MAD
 * (× 1.4826) and the distance from the median to the decile on the bad side
 * (÷ 1.2816). The MAD alone collapses to 0 when most minutes are 0 (a small
 * audience rebuffers in bursts: most minutes none, some a lot); the decile
 * sees those bursts, and past incidents (under a tenth of the baseline) move
 * neither. A minute is anomalous
 * when its value is past the median, in the bad direction, by more than
 * k spreads (k by sensitivity) and by at least `min_change` (absolute), with
 * at least `min_audience`.
 */
import type { RealtimeMetricId } from '../pipeline/realtime/realtime-catalog.js';
import { REALTIME_METRICS } from '../pipeline/realtime/realtime-catalog.js';
import { minutePoint, type SeriesSums } from './series-history.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Minutes either side of the minute of day taken from each previous day. */
export const WINDOW_MINUTES = 5;
/** The minute ranges [from, to) the verdict of minute `minuteMs` reads (its own smoothing included). */
export const baselineRanges = (minuteMs: number): [number, number][] => [
  [minuteMs - (SMOOTH_MINUTES - 1) * MINUTE, minuteMs + MINUTE],
  ...BASELINE_DAYS.map((d): [number, number] => [
    minuteMs - d * DAY - (WINDOW_MINUTES + SMOOTH_MINUTES - 1) * MINUTE,
    minuteMs - d * DAY + (WINDOW_MINUTES + 1) * MINUTE,
  ]),
];

/** Previous days looked at: the last week, then the same weekday of the three weeks before. */
export const BASELINE_DAYS = [1, 2, 3, 4, 5, 6, 7, 14, 21, 28] as const;
/** Minutes a value is taken over: this one and the ones before. */
export const SMOOTH_MINUTES = 3;
/** Fewer days with values than this around the minute: the series has no history yet. */
export const MIN_HISTORY_DAYS = 3;
/** k: how many spreads past the median a value must be, by sensitivity. */
export const SENSITIVITY_K = { low: 6, medium: 4, high: 3 } as const;
export type Sensitivity = keyof typeof SENSITIVITY_K;
/** MAD to a standard deviation for normal noise. */
const MAD_TO_SIGMA = 1.4826;
/** The distance from the median to the 90th (or 10th) percentile, in standard deviations of normal noise. */
const DECILE_SIGMAS = 1.2816;

export interface AnomalyCondition {
  type: 'anomaly';
  sensitivity: Sensitivity;
  /** `up`: bad when higher (rebuffering); `down`: bad when lower (viewers, bitrate). */
  direction: 'up' | 'down';
  min_audience: number;
  /** Smallest absolute change from the baseline that counts, in the metric's unit. */
  min_change: number;
  for_seconds: number;
  resolve_for_seconds: number;
}

/** One series' value at a minute (null: nothing it is a fraction of) and its audience (average viewers). */
export interface MinutePoint {
  value: number | null;
  audience: number;
}

/** The metric over the `SMOOTH_MINUTES` minutes ending at `minuteMs` (null when none of them is kept). */
export function smoothedAt(
  history: ReadonlyMap<number, SeriesSums>,
  metric: RealtimeMetricId,
  minuteMs: number,
): MinutePoint | null {
  let sum: SeriesSums | undefined;
  for (let j = 0; j < SMOOTH_MINUTES; j++) {
    const s = history.get(minuteMs - j * MINUTE);
    if (!s) continue;
    if (!sum) sum = { ...s };
    else for (const k of Object.keys(s) as (keyof SeriesSums)[]) sum[k] += s[k];
  }
  return sum ? minutePoint(sum, metric) : null;
}

export type AnomalyVerdict =
  | { state: 'no_history'; value: number | null; audience: number; days: number; needed: number }
  | {
      state: 'normal' | 'anomalous';
      /** Null (normal): no value this minute. */
      value: number | null;
      audience: number;
      baseline: number;
      spread: number;
      /** Where the value starts to count as anomalous (past it in the bad direction). */
      bound: number;
      days: number;
    };

/** The default direction: against the metric's bad side. */
export const defaultDirection = (metric: string): 'up' | 'down' =>
  REALTIME_METRICS[metric as RealtimeMetricId]?.higherIsWorse === false ? 'down' : 'up';

/** The default `min_change`: 1 point for percentages, nothing for the other units. */
export const defaultMinChange = (metric: string): number =>
  REALTIME_METRICS[metric as RealtimeMetricId]?.unit === 'percentage' ? 1 : 0;

/** The q-quantile of sorted values (linear between neighbours). */
const quantile = (sorted: readonly number[], q: number): number => {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
};
const median = (xs: readonly number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

/**
 * The verdict for minute `minuteMs` of one series of `metric`. `history` maps a minute's start
 * (ms) to that series' stored sums (`SeriesHistory.read`) and must hold that minute and the
 * baseline's (`baselineRanges`); minutes are looked up, never scanned, so replaying every minute
 * of a month stays linear. Pure: the same arguments give the same verdict.
 */
export function anomalyAt(
  c: AnomalyCondition,
  metric: RealtimeMetricId,
  history: ReadonlyMap<number, SeriesSums>,
  minuteMs: number,
): AnomalyVerdict {
  // The audience metric is the audience itself: min_audience does not apply to it.
  const isAudience = metric === 'current_concurrent_viewers';
  const now = history.has(minuteMs) ? smoothedAt(history, metric, minuteMs) : null;
  const value = now?.value ?? null;
  const audience = now?.audience ?? 0;
  const base: number[] = [];
  let days = 0;
  for (const d of BASELINE_DAYS) {
    let found = false;
    for (let j = -WINDOW_MINUTES; j <= WINDOW_MINUTES; j++) {
      const at = minuteMs - d * DAY + j * MINUTE;
      const p = history.has(at) ? smoothedAt(history, metric, at) : null;
      // Minutes too thin to judge by are too thin to learn from.
      if (p?.value == null || (!isAudience && p.audience < c.min_audience)) continue;
      base.push(p.value);
      found = true;
    }
    if (found) days++;
  }
  if (days < MIN_HISTORY_DAYS)
    return { state: 'no_history', value, audience, days, needed: MIN_HISTORY_DAYS };
  const sorted = base.sort((a, b) => a - b);
  const baseline = quantile(sorted, 0.5);
  const up = c.direction === 'up';
  const spread = Math.max(
    MAD_TO_SIGMA * median(sorted.map((x) => Math.abs(x - baseline))),
    Math.abs(quantile(sorted, up ? 0.9 : 0.1) - baseline) / DECILE_SIGMAS,
  );
  const margin = Math.max(SENSITIVITY_K[c.sensitivity] * spread, c.min_change);
  const bound = up ? baseline + margin : baseline - margin;
  const past = value !== null && (up ? value > bound : value < bound);
  const loud = isAudience || audience >= c.min_audience;
  return {
    state: past && loud ? 'anomalous' : 'normal',
    value,
    audience,
    baseline,
    spread,
    bound,
    days,
  };
}
