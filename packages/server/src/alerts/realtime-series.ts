/**
 * A real-time rule's series at one tick, from the tick's aggregates: the
 * whole environment, or every value of the breakdown dimension (all of them,
 * not only the rows the monitoring history keeps), with the rule's filters
 * applied through FilteredRealtime (this process's views, or a cluster's
 * workers). Where the tick still carries its views (the embedded server),
 * the views that show the problem give the incident's examples.
 */
import type { RealtimeAggregate } from '../pipeline/realtime/realtime-aggregate.js';
import { REALTIME_DIMENSIONS, type RealtimeMetricId } from '../pipeline/realtime/realtime-catalog.js';
import type { RealtimeTick, RealtimeTotals } from '../pipeline/realtime/realtime-tracker.js';
import type { FilteredRealtime } from '../query/realtime/filtered-realtime.js';
import { type RealtimeFilter, viewMatches } from '../query/realtime/monitoring-filters.js';
import type { RuleSpec } from './alert-rules.js';
import type { SeriesSample } from './threshold.js';

/** The key of the whole-environment series. */
export const WHOLE = '';

/** Who a real-time metric is about: start attempts for start outcomes, viewers (and those who failed) otherwise. */
export function audienceOf(metric: RealtimeMetricId, agg: RealtimeAggregate): number {
  if (metric === 'video_startup_failure_percentage' || metric === 'exits_before_video_start')
    return agg.attempts;
  if (metric === 'playback_failure_percentage') return agg.concurrent + agg.playbackFailed;
  return agg.concurrent;
}

export function sampleOf(spec: RuleSpec, agg: RealtimeAggregate): SeriesSample {
  const metric = spec.metric as RealtimeMetricId;
  return {
    value: agg.value(metric, spec.measurement === 'p95' ? 'p95' : 'median'),
    audience: audienceOf(metric, agg),
  };
}

/** Series key → its aggregate at tick `t`. */
export async function realtimeSeries<T extends RealtimeTotals>(
  spec: RuleSpec,
  filter: RealtimeFilter,
  t: T,
  filtered: FilteredRealtime<T>,
): Promise<Map<string, RealtimeAggregate>> {
  if (spec.breakdown === null)
    return new Map([[WHOLE, filter.empty ? t.overall : await filtered.current(t, filter)]]);
  if (filter.empty) return t.dims.get(spec.breakdown) ?? new Map();
  return (await filtered.breakdown(t, spec.breakdown, filter)).rows;
}

const OUTCOME_OF: Partial<Record<string, string>> = {
  video_startup_failure_percentage: 'startup_failed',
  exits_before_video_start: 'ebvs',
  playback_failure_percentage: 'playback_failed',
};

/** Up to `limit` ids of views of a series that show the problem; none when the tick carries no views (a cluster's api node). */
export function exampleViews(
  spec: RuleSpec,
  filter: RealtimeFilter,
  t: RealtimeTotals | RealtimeTick,
  series: string,
  limit: number,
): string[] {
  if (!('views' in t)) return [];
  const read = spec.breakdown === null ? undefined : REALTIME_DIMENSIONS[spec.breakdown]!.read;
  const inSeries = (v: Parameters<typeof viewMatches>[0]) =>
    viewMatches(v, filter) && (read === undefined || read(v) === series);
  const out = new Set<string>();
  const outcome = OUTCOME_OF[spec.metric];
  if (outcome) {
    for (const o of t.outcomes)
      if (out.size < limit && o.outcome === outcome && inSeries(o.view)) out.add(o.view.viewId);
    return [...out];
  }
  const rebuffer = spec.metric === 'current_rebuffering_percentage';
  for (const { view, tick } of t.views)
    if (out.size < limit && (!rebuffer || tick.rebufferMs > 0) && inSeries(view)) out.add(view.viewId);
  return [...out];
}
