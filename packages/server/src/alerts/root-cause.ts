/**
 * The root-cause hint of an incident on a whole environment: which values of
 * the real-time breakdown dimensions carry most of the change. A metric is a
 * numerator over a denominator (rebuffering ms over watch ms, failures over
 * attempts, …); a value's "added" numerator is what it has now beyond what
 * its denominator now would have given at its rate before the breach (from
 * the series history; a value without history takes the environment's rate,
 * and with no history at all every bit of the numerator counts as added).
 * Per dimension, the value with the largest share of the added numerator is
 * named when that share is at least half and well above its share of the
 * audience (a dimension with one value everywhere explains nothing).
 */
import {
  metricParts,
  type PartSums,
  type RealtimeAggregate,
} from '../pipeline/realtime/realtime-aggregate.js';
import { REALTIME_DIMENSIONS, type RealtimeMetricId } from '../pipeline/realtime/realtime-catalog.js';
import type { RealtimeTotals } from '../pipeline/realtime/realtime-tracker.js';
import type { FilteredRealtime } from '../query/realtime/filtered-realtime.js';
import type { RealtimeFilter } from '../query/realtime/monitoring-filters.js';
import type { RuleSpec } from './alert-rules.js';
import { audienceOf } from './realtime-series.js';
import { operatorOf } from './threshold.js';

export interface RootCauseContributor {
  dimension: string;
  value: string;
  /** Fraction (0–1) of the dimension's added numerator that is on this value. */
  share: number;
  /** Fraction (0–1) of the audience on this value now. */
  audience_share: number;
}

export interface RootCauseHint {
  /** e.g. "87 % of the added rebuffering is on CDN edge-a (50 % of viewers)". */
  summary: string;
  /** `history`: rates before the breach from the series history; `none`: no history, the numerator now. */
  baseline: 'history' | 'none';
  contributors: RootCauseContributor[];
}

/** A value is named when its share is over this, and at least MIN_LIFT above its share of the audience. */
const MIN_SHARE = 0.5;
const MIN_LIFT = 0.2;
const MAX_NAMED = 3;

const NOUN: Record<RealtimeMetricId, string> = {
  current_concurrent_viewers: 'viewers',
  current_rebuffering_percentage: 'rebuffering',
  current_average_bitrate: 'bitrate',
  video_startup_time: 'startup time',
  video_startup_failure_percentage: 'startup failures',
  exits_before_video_start: 'exits before video start',
  playback_failure_percentage: 'playback failures',
};

const pct = (x: number) => `${Math.round(x * 100)} %`;

export interface RootCauseInput {
  metric: RealtimeMetricId;
  /** `>`: the metric got worse by rising (an added numerator); `<`: by falling (a lost one). */
  operator: '>' | '<';
  /** The whole environment now, and each dimension's values now. */
  overall: RealtimeAggregate;
  dims: ReadonlyMap<string, ReadonlyMap<string, RealtimeAggregate>>;
  /** Sums before the breach by `dimension\nvalue` (the whole environment under `\n`); empty: no history. */
  before: ReadonlyMap<string, PartSums>;
}

/** The hint, or null when nothing was added or no value stands out. */
export function rootCause(input: RootCauseInput): RootCauseHint | null {
  const { metric, before } = input;
  const sign = input.operator === '>' ? 1 : -1;
  const rateOf = (s: PartSums | undefined) => {
    if (!s) return undefined;
    const [n, d] = metricParts(metric, s);
    return d > 0 ? n / d : undefined;
  };
  const envRate = rateOf(before.get('\n')) ?? 0;
  const totalAudience = audienceOf(metric, input.overall);
  const found: RootCauseContributor[] = [];
  for (const [dimension, rows] of input.dims) {
    if (!REALTIME_DIMENSIONS[dimension]) continue;
    let added = 0;
    let best: { value: string; excess: number; audience: number } | undefined;
    for (const [value, agg] of rows) {
      const [num, den] = metricParts(metric, agg);
      const rate = rateOf(before.get(`${dimension}\n${value}`)) ?? envRate;
      const excess = sign * (num - rate * den);
      if (excess <= 0) continue;
      added += excess;
      if (!best || excess > best.excess) best = { value, excess, audience: audienceOf(metric, agg) };
    }
    if (!best || added <= 0) continue;
    const share = best.excess / added;
    const audienceShare = totalAudience > 0 ? best.audience / totalAudience : 0;
    if (share > MIN_SHARE && share - audienceShare >= MIN_LIFT)
      found.push({ dimension, value: best.value, share, audience_share: audienceShare });
  }
  if (found.length === 0) return null;
  found.sort((a, b) => b.share - a.share || (a.dimension < b.dimension ? -1 : 1));
  const named = found.slice(0, MAX_NAMED);
  const on = (c: RootCauseContributor) =>
    `${pct(c.share)} ${c === named[0] ? `of the ${sign > 0 ? 'added' : 'lost'} ${NOUN[metric]} is ` : ''}on ${REALTIME_DIMENSIONS[c.dimension]!.displayName} ${c.value || '(none)'} (${pct(c.audience_share)} of the audience)`;
  return {
    summary: named.map(on).join('; '),
    baseline: before.size > 0 ? 'history' : 'none',
    contributors: named,
  };
}

/** Minutes of history before the breach that give the rates "before". */
const BASELINE_MS = 10 * 60_000;

/**
 * The hint of a whole-environment rule's incident opening at tick `t`, its breach pending since
 * `sinceMs`: now from the tick (under the rule's filters, through `filtered`), before from the
 * minutes of history ending at the pending start's minute (unfiltered, so only for a rule
 * without filters).
 */
export async function hintAtTick<T extends RealtimeTotals>(
  spec: RuleSpec,
  filter: RealtimeFilter,
  t: T,
  sinceMs: number,
  filtered: FilteredRealtime<T>,
  history:
    | { sums(envId: string, fromMs: number, toMs: number): Promise<ReadonlyMap<string, PartSums>> }
    | undefined,
): Promise<RootCauseHint | null> {
  if (spec.breakdown !== null || spec.kind !== 'realtime') return null;
  let overall = t.overall;
  let dims: ReadonlyMap<string, ReadonlyMap<string, RealtimeAggregate>> = t.dims;
  if (!filter.empty) {
    overall = await filtered.current(t, filter);
    const rows = new Map<string, ReadonlyMap<string, RealtimeAggregate>>();
    for (const d of Object.keys(REALTIME_DIMENSIONS))
      rows.set(d, (await filtered.breakdown(t, d, filter)).rows);
    dims = rows;
  }
  const start = Math.floor(sinceMs / 60_000) * 60_000;
  const before =
    filter.empty && history ? await history.sums(t.envId, start - BASELINE_MS, start) : new Map();
  return rootCause({
    metric: spec.metric as RealtimeMetricId,
    operator: operatorOf(spec),
    overall,
    dims,
    before,
  });
}
