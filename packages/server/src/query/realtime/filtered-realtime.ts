/**
 * Where the monitoring API's filtered numbers come from. The history and
 * the routes only hold ticks' totals; a filter needs the views behind them,
 * which live in the pipeline: in the embedded server the tick itself still
 * carries them, in a cluster each worker computes the filtered aggregates
 * over its own views and the api node merges them (cluster/realtime-filters.ts).
 */
import type { RealtimeAggregate } from '../../pipeline/realtime/realtime-aggregate.js';
import {
  aggregateFiltered,
  breakdownFiltered,
  type RealtimeTick,
  type RealtimeTotals,
} from '../../pipeline/realtime/realtime-tracker.js';
import { type RealtimeFilter, viewMatches } from './monitoring-filters.js';

export interface FilteredBreakdown {
  /** The views matching the filter, all values together. */
  overall: RealtimeAggregate;
  /** dimension value → the views matching the filter with that value. */
  rows: Map<string, RealtimeAggregate>;
}

export interface FilteredRealtime<T extends RealtimeTotals> {
  /**
   * The views of tick `t` matching a filter set the history tracks, called
   * for every tracked set at every tick; undefined when this tick has no
   * complete answer for the set (a cluster's workers had not learnt it yet).
   * A cluster keeps computing a set while it keeps being asked for.
   */
  atTick(t: T, filter: RealtimeFilter): RealtimeAggregate | undefined;
  /**
   * The same for the latest tick and a set maybe never asked before, at
   * once. Rejects with an ApiError when the answer would be incomplete.
   */
  current(t: T, filter: RealtimeFilter): Promise<RealtimeAggregate>;
  /** Breakdown of the latest tick `t` by `dimension` under a (non-empty) filter; rejects like `current`. */
  breakdown(t: T, dimension: string, filter: RealtimeFilter): Promise<FilteredBreakdown>;
}

/** The embedded server: every tick carries its views and outcomes, filtered on demand. */
export const embeddedFiltered: FilteredRealtime<RealtimeTick> = {
  atTick: (t, filter) => aggregateFiltered(t, (v) => viewMatches(v, filter)),
  current: async (t, filter) => aggregateFiltered(t, (v) => viewMatches(v, filter)),
  breakdown: async (t, dimension, filter) => breakdownFiltered(t, dimension, (v) => viewMatches(v, filter)),
};
