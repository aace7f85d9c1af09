/**
 * What the monitoring API answers from: the latest real-time tick of each
 * environment, and 30 minutes (configurable) of past ticks reduced to their
 * metric values — all views, and the most-watched rows of every dimension.
 *
 * A timeseries with filters cannot be rebuilt from reduced values, so a
 * filter set is tracked from the first time it is asked for (and kept while
 * it is asked for): each tick then also computes it from the tick's views
 * (through FilteredRealtime: locally, or on the cluster's workers).
 * A single "dimension:value" filter starts with the points the per-dimension
 * history already has.
 */

import { entry } from '../../pipeline/realtime/map-entry.js';
import type { RealtimeAggregate } from '../../pipeline/realtime/realtime-aggregate.js';
import { REALTIME_METRIC_IDS, type RealtimeMetricId } from '../../pipeline/realtime/realtime-catalog.js';
import type { RealtimeTotals } from '../../pipeline/realtime/realtime-tracker.js';
import type { FilteredBreakdown, FilteredRealtime } from './filtered-realtime.js';
import type { RealtimeFilter } from './monitoring-filters.js';

/** A group's values at one tick; null where the metric had nothing to measure. */
export interface RowValues {
  concurrentViewers: number;
  startingUpViewers: number;
  metrics: Record<RealtimeMetricId, number | null>;
  startupP95: number | null;
}

export interface HistoryPoint {
  atMs: number;
  overall: RowValues;
  histogram: number[];
  startupMean: number | null;
  /** dimension → value → values, for the most-watched values only. */
  dims: Map<string, Map<string, RowValues>>;
}

interface TrackedFilter {
  filters: RealtimeFilter;
  lastAskedMs: number;
  points: { atMs: number; values: RowValues; histogram: number[]; startupMean: number | null }[];
}

/** A filter set nobody asked for in this long stops being computed. */
const TRACK_IDLE_MS = 10 * 60_000;
const TRACK_MAX = 100;

export function rowValues(agg: RealtimeAggregate): RowValues {
  const metrics = {} as Record<RealtimeMetricId, number | null>;
  for (const id of REALTIME_METRIC_IDS) metrics[id] = agg.value(id);
  return {
    concurrentViewers: agg.concurrent,
    startingUpViewers: agg.startingUp,
    metrics,
    startupP95: agg.value('video_startup_time', 'p95'),
  };
}

const startupMean = (agg: RealtimeAggregate): number | null =>
  agg.startupN > 0 ? Math.round(agg.startupSum / agg.startupN) : null;

export interface HistoryOptions {
  historyMs: number;
  tickMs: number;
  rowsPerDimension: number;
}

export class MonitoringHistory<T extends RealtimeTotals = RealtimeTotals> {
  private readonly points = new Map<string, HistoryPoint[]>();
  private readonly latest = new Map<string, T>();
  private readonly tracked = new Map<string, Map<string, TrackedFilter>>();

  constructor(
    private readonly options: HistoryOptions,
    private readonly source: FilteredRealtime<T>,
    private readonly now: () => number = Date.now,
  ) {}

  private get maxPoints(): number {
    return Math.ceil(this.options.historyMs / this.options.tickMs);
  }

  record(t: T): void {
    this.latest.set(t.envId, t);
    const dims = new Map<string, Map<string, RowValues>>();
    for (const [dim, rows] of t.dims) {
      const top = [...rows]
        .sort((a, b) => b[1].concurrent - a[1].concurrent)
        .slice(0, this.options.rowsPerDimension);
      dims.set(dim, new Map(top.map(([value, agg]) => [value, rowValues(agg)])));
    }
    const list = this.points.get(t.envId) ?? [];
    list.push({
      atMs: t.atMs,
      overall: rowValues(t.overall),
      histogram: [...t.overall.histogram],
      startupMean: startupMean(t.overall),
      dims,
    });
    while (list.length > this.maxPoints) list.shift();
    this.points.set(t.envId, list);

    const tracked = this.tracked.get(t.envId);
    if (tracked) {
      for (const [key, tf] of tracked) {
        if (this.now() - tf.lastAskedMs > TRACK_IDLE_MS) {
          tracked.delete(key);
          continue;
        }
        const agg = this.source.atTick(t, tf.filters);
        if (!agg) continue;
        tf.points.push({
          atMs: t.atMs,
          values: rowValues(agg),
          histogram: [...agg.histogram],
          startupMean: startupMean(agg),
        });
        while (tf.points.length > this.maxPoints) tf.points.shift();
      }
    }
  }

  /** The latest tick by the values of a dimension, under a filter; undefined before the first tick. */
  async breakdown(
    envId: string,
    dimension: string,
    filter: RealtimeFilter,
  ): Promise<(FilteredBreakdown & { atMs: number }) | undefined> {
    const tick = this.latest.get(envId);
    if (!tick) return undefined;
    if (filter.empty)
      return { atMs: tick.atMs, overall: tick.overall, rows: tick.dims.get(dimension) ?? new Map() };
    return { atMs: tick.atMs, ...(await this.source.breakdown(tick, dimension, filter)) };
  }

  history(envId: string): readonly HistoryPoint[] {
    return this.points.get(envId) ?? [];
  }

  /**
   * Points of a filter set: tracked from now on (and from the dimension
   * history for a single included value).
   */
  async filtered(
    envId: string,
    filters: RealtimeFilter,
  ): Promise<
    { atMs: number; values: RowValues | null; histogram: number[] | null; startupMean: number | null }[]
  > {
    const tracked = entry(this.tracked, envId, () => new Map<string, TrackedFilter>());
    const key = filters.key;
    let tf = tracked.get(key);
    if (!tf) {
      if (tracked.size >= TRACK_MAX) {
        const idlest = [...tracked].sort((a, b) => a[1].lastAskedMs - b[1].lastAskedMs)[0]!;
        tracked.delete(idlest[0]);
      }
      tf = { filters, lastAskedMs: this.now(), points: [] };
      tracked.set(key, tf);
    }
    tf.lastAskedMs = this.now();
    // The latest tick is computed at once, so a new filter answers its current value right away
    // (the set stays tracked even when that fails: the next ticks compute it).
    const latest = this.latest.get(envId);
    if (latest && !tf.points.some((p) => p.atMs === latest.atMs)) {
      const agg = await this.source.current(latest, filters);
      if (!tf.points.some((p) => p.atMs === latest.atMs))
        tf.points.push({
          atMs: latest.atMs,
          values: rowValues(agg),
          histogram: [...agg.histogram],
          startupMean: startupMean(agg),
        });
      // A tick recorded while the answer was on its way came after it.
      tf.points.sort((x, y) => x.atMs - y.atMs);
    }
    const own = new Map(tf.points.map((p) => [p.atMs, p]));
    const single = filters.singleInclude;
    return this.history(envId).map((h) => {
      const p = own.get(h.atMs);
      if (p) return p;
      const row = single ? (h.dims.get(single.dimension)?.get(single.value) ?? null) : null;
      return { atMs: h.atMs, values: row, histogram: null, startupMean: null };
    });
  }
}
