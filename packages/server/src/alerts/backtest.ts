/**
 * Backtest: how often a real-time rule would have fired over the kept series
 * history (`series_minutes`). Each minute the history covers is one
 * evaluation, at the minute's start, of every series the rule watches (the
 * whole environment, or the most-watched values of its breakdown), stepped
 * by the rule's own condition code — `stepThreshold` for thresholds, the
 * same lifecycle (for_seconds, resolve value and hold, min_audience) the
 * engine runs. A minute the environment has no row for (the server was down)
 * is skipped; a series absent in a covered minute has no value then, as in
 * the engine. Condition types without a replay here answer 400.
 */
import { ApiError } from '../http/api-error.js';
import type { RealtimeMetricId } from '../pipeline/realtime/realtime-catalog.js';
import type { RuleSpec } from './alert-rules.js';
import { type AnomalyCondition, anomalyAt, BASELINE_DAYS } from './anomaly-baseline.js';
import { audienceOf } from './realtime-series.js';
import {
  aggregateOf,
  type SeriesHistory,
  type SeriesMinute,
  seriesValue,
  WHOLE_SERIES,
} from './series-history.js';
import { type SeriesSample, stepThreshold, type ThresholdState, worse } from './threshold.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Values of a breakdown replayed: the most watched over the range (a day of 1 000 values is 1.4 M rows). */
export const BACKTEST_MAX_SERIES = 100;

/** One evaluation of a series; says when its incident opens or resolves (as stepThreshold does). */
type Step = (
  state: ThresholdState,
  open: boolean,
  s: SeriesSample,
  nowMs: number,
) => 'trigger' | 'resolve' | undefined;

/** One series' stored minutes by their start (epoch ms). */
type Minutes = ReadonlyMap<number, SeriesMinute>;

/**
 * How each condition type replays one series over its minutes (given them all, so a condition
 * that learns from the series' own past can look back). A type missing here cannot be backtested yet.
 */
const REPLAYS: Partial<Record<string, (spec: RuleSpec, minutes: Minutes) => Step>> = {
  threshold: (spec) => (state, open, s, nowMs) => stepThreshold(spec, state, open, s, nowMs),
  // The model's verdict of each minute from the series' own past, stepped as the engine does at the minute's end.
  anomaly: (spec, minutes) => {
    const metric = spec.metric as RealtimeMetricId;
    return (state, open, _s, nowMs) => {
      const anomaly = anomalyAt(spec.condition as AnomalyCondition, metric, minutes, nowMs);
      return stepThreshold(
        spec,
        state,
        open,
        { value: anomaly.value, audience: anomaly.audience, anomaly },
        nowMs + MINUTE,
      );
    };
  },
};
/** How far back an anomaly rule's replay reads before the range: its baseline's oldest day and window. */
const ANOMALY_LOOKBACK_MS = (BASELINE_DAYS.at(-1)! + 1) * DAY;

export interface BacktestIncident {
  /** The breakdown value, or null for the whole environment. */
  series: string | null;
  opened_at: string;
  /** Null: still open at the end of the range. */
  resolved_at: string | null;
  worst: number;
}

export interface BacktestResult {
  from: string;
  to: string;
  minutes_covered: number;
  series_count: number;
  incidents: BacktestIncident[];
  count: number;
  /** Incidents per day covered (count ÷ minutes_covered × 1 440). */
  per_day: number;
}

/** Refuses what the history cannot replay, naming the field. */
function replayOf(spec: RuleSpec): (spec: RuleSpec, minutes: Minutes) => Step {
  const bad = (path: string, problem: string) => {
    throw new ApiError('QOE_ERR_VALIDATION', undefined, [{ path, problem }]);
  };
  if (spec.kind !== 'realtime')
    bad(
      'window_seconds',
      'backtests replay the real-time series history; windowed rules cannot be backtested',
    );
  if (spec.filters.length > 0)
    bad('filters', 'the series history is kept unfiltered; a rule with filters cannot be backtested');
  const type = (spec.condition as { type: string }).type;
  const replay = REPLAYS[type];
  if (!replay) bad('condition.type', `backtest of ${type} rules is not available yet`);
  return replay!;
}

/** A minute of stored sums as the engine's sample of a tick (the minute's mean audience). */
function sampleAt(spec: RuleSpec, m: SeriesMinute | undefined): SeriesSample {
  const metric = spec.metric as RealtimeMetricId;
  if (!m || m.ticks === 0) return { value: metric === 'current_concurrent_viewers' ? 0 : null, audience: 0 };
  return { value: seriesValue(m, metric), audience: audienceOf(metric, aggregateOf(m)) / m.ticks };
}

/** Replays `spec` over environment `envId`'s history in [fromMs, toMs). */
export async function backtest(
  spec: RuleSpec,
  envId: string,
  history: Pick<SeriesHistory, 'read' | 'dimension'>,
  fromMs: number,
  toMs: number,
): Promise<BacktestResult> {
  const replay = replayOf(spec);
  // An anomaly rule learns from before the range too (evaluations still cover the range only).
  const readFromMs = spec.condition.type === 'anomaly' ? fromMs - ANOMALY_LOOKBACK_MS : fromMs;
  const whole = await history.read(envId, WHOLE_SERIES, readFromMs, toMs);
  const covered = whole.filter((m) => m.minuteMs >= fromMs).map((m) => m.minuteMs);
  const series: Map<string | null, SeriesMinute[]> =
    spec.breakdown === null
      ? new Map([[null, whole]])
      : await history.dimension(envId, spec.breakdown, readFromMs, toMs, BACKTEST_MAX_SERIES);
  const incidents: BacktestIncident[] = [];
  for (const [value, minutes] of series) {
    const byMinute = new Map(minutes.map((m) => [m.minuteMs, m]));
    const step = replay(spec, byMinute);
    const state: ThresholdState = {};
    let open: BacktestIncident | undefined;
    for (const minuteMs of covered) {
      const sample = sampleAt(spec, byMinute.get(minuteMs));
      if (open && sample.value !== null && worse(spec, sample.value, open.worst)) open.worst = sample.value;
      const t = step(state, open !== undefined, sample, minuteMs);
      if (t === 'trigger') {
        open = {
          series: value,
          opened_at: new Date(minuteMs).toISOString(),
          resolved_at: null,
          worst: sample.value!,
        };
        incidents.push(open);
      } else if (t === 'resolve' && open) {
        open.resolved_at = new Date(minuteMs).toISOString();
        open = undefined;
      }
    }
  }
  incidents.sort((a, b) => (a.opened_at < b.opened_at ? -1 : a.opened_at > b.opened_at ? 1 : 0));
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    minutes_covered: covered.length,
    series_count: series.size,
    incidents,
    count: incidents.length,
    per_day:
      covered.length === 0 ? 0 : Math.round((incidents.length / covered.length) * (DAY / MINUTE) * 100) / 100,
  };
}
