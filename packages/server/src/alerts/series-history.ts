/**
 * Per-series history that lasts (migration 6 of each store, table
 * `series_minutes`): per environment and minute, one row for the whole
 * environment and one per value of each real-time breakdown dimension (the
 * most-watched values of the day, up to a cap per dimension), holding the
 * sums every real-time metric is made of — never the ratios — summed over
 * the minute's ticks, so any window re-aggregates exactly. Written by the api
 * node from the ticks the alert engine reads (a cluster's merged ones),
 * whether or not a rule exists; rows older than `historyDays` are deleted
 * (DuckDB: DELETE; ClickHouse: its day partitions dropped). The read side
 * is what backtests and anomaly baselines use.
 */
import { entry } from '../pipeline/realtime/map-entry.js';
import { RealtimeAggregate, SUMS } from '../pipeline/realtime/realtime-aggregate.js';
import type { RealtimeMetricId } from '../pipeline/realtime/realtime-catalog.js';
import type { RealtimeTotals } from '../pipeline/realtime/realtime-tracker.js';
import type { SqlRunner } from '../store/live-store.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Rows per INSERT statement (17 parameters each). */
const CHUNK = 500;

/** The sums of one series in one minute, as stored (`startupN`: startup times counted). */
export type SeriesSums = Record<(typeof SUMS)[number] | 'startupN' | 'ticks', number>;
const COLUMNS: readonly (keyof SeriesSums)[] = [...SUMS, 'startupN', 'ticks'];
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export interface SeriesMinute extends SeriesSums {
  minuteMs: number;
}

/** The series of the whole environment has this dimension and value. */
export const WHOLE_SERIES = { dimension: '', value: '' };

/** One minute of one environment being summed. */
interface Pending {
  minuteMs: number;
  ticks: number;
  /** `dimension\nvalue` → sums (the whole environment under `\n`). */
  rows: Map<string, RealtimeAggregate>;
}

/** A minute's value of a real-time metric from its sums (startup time: the mean, quantiles are not kept). */
export function seriesValue(s: SeriesSums, metric: RealtimeMetricId): number | null {
  if (metric === 'video_startup_time') return s.startupN > 0 ? s.startupSum / s.startupN : null;
  if (metric === 'current_concurrent_viewers') return s.ticks > 0 ? s.concurrent / s.ticks : null;
  return aggregateOf(s).value(metric);
}

/** Stored sums as an aggregate (no startup times: those are kept as a sum and a count only). */
export function aggregateOf(s: SeriesSums): RealtimeAggregate {
  const agg = new RealtimeAggregate();
  for (const k of SUMS) agg[k] = s[k];
  return agg;
}

/** A minute's point of a metric: its value and its audience (average viewers). */
export const minutePoint = (s: SeriesSums, metric: RealtimeMetricId) => ({
  value: seriesValue(s, metric),
  audience: s.ticks > 0 ? s.concurrent / s.ticks : 0,
});

/** A minute just written: its rows by `dimension\nvalue` (the whole environment under `\n`). */
export interface WrittenMinute {
  envId: string;
  minuteMs: number;
  rows: Map<string, SeriesSums>;
}

export interface SeriesHistoryOptions {
  historyDays: number;
  /** Values kept per dimension and minute: the most watched of the UTC day. */
  valuesPerDimension: number;
  log: { error(m: string): void };
  /** Told each minute once written (the anomaly rules evaluate it). */
  onMinute?: (m: WrittenMinute) => Promise<void>;
}

export class SeriesHistory {
  private readonly pending = new Map<string, Pending>();
  /** env → `dimension\nvalue` → viewer-ticks of the UTC day `watchedDay`. */
  private readonly watched = new Map<string, Map<string, number>>();
  private watchedDay = -1;
  private lastPurgeMs = 0;

  constructor(
    private readonly sql: SqlRunner,
    private readonly options: SeriesHistoryOptions,
  ) {}

  /** Adds a tick to its minute (the one its window ends in); a tick of a later minute writes the previous one. */
  async onTick(t: RealtimeTotals): Promise<void> {
    const minuteMs = Math.floor((t.atMs - 1) / MINUTE) * MINUTE;
    let p = this.pending.get(t.envId);
    if (p && p.minuteMs < minuteMs) {
      this.pending.delete(t.envId);
      await this.write(t.envId, p);
      p = undefined;
    }
    if (p && p.minuteMs > minuteMs) return; // A late tick of a minute already written.
    p ??= { minuteMs, ticks: 0, rows: new Map() };
    this.pending.set(t.envId, p);
    p.ticks++;
    entry(p.rows, '\n', () => new RealtimeAggregate()).merge(t.overall);
    for (const [dim, rows] of t.dims)
      for (const [value, agg] of rows)
        entry(p.rows, `${dim}\n${value}`, () => new RealtimeAggregate()).merge(agg);
    if (t.atMs - this.lastPurgeMs >= 3_600_000) {
      this.lastPurgeMs = t.atMs;
      await this.purge(t.atMs);
    }
  }

  /** Writes the minutes still being summed (at shutdown). */
  async flush(): Promise<void> {
    for (const [envId, p] of this.pending) await this.write(envId, p);
    this.pending.clear();
  }

  /** The rows to keep: the whole environment and, per dimension, the values most watched today. */
  private keep(envId: string, p: Pending): [string, RealtimeAggregate][] {
    const day = Math.floor(p.minuteMs / DAY);
    if (day !== this.watchedDay) {
      this.watched.clear();
      this.watchedDay = day;
    }
    const watched = entry(this.watched, envId, () => new Map<string, number>());
    const byDim = new Map<string, [string, RealtimeAggregate][]>();
    for (const [key, agg] of p.rows) {
      watched.set(key, (watched.get(key) ?? 0) + agg.concurrent);
      entry(byDim, key.slice(0, key.indexOf('\n')), () => []).push([key, agg]);
    }
    const cap = this.options.valuesPerDimension;
    const kept: [string, RealtimeAggregate][] = [];
    for (const rows of byDim.values()) {
      rows.sort((a, b) => watched.get(b[0])! - watched.get(a[0])! || (a[0] < b[0] ? -1 : 1));
      kept.push(...rows.slice(0, cap));
    }
    // The day's tallies stay bounded: past 4× the cap per dimension, the least watched go.
    if (watched.size > 4 * cap * (byDim.size || 1))
      for (const [key] of [...watched].sort((a, b) => b[1] - a[1]).slice(2 * cap * byDim.size))
        watched.delete(key);
    return kept;
  }

  private async write(envId: string, p: Pending): Promise<void> {
    const written = new Map<string, SeriesSums>();
    const rows = this.keep(envId, p).map(([key, agg]) => {
      const nl = key.indexOf('\n');
      const sums: SeriesSums = { ...pick(agg), startupN: agg.startupN, ticks: p.ticks };
      written.set(key, sums);
      return [envId, p.minuteMs, key.slice(0, nl), key.slice(nl + 1), ...COLUMNS.map((c) => sums[c])];
    });
    try {
      for (let i = 0; i < rows.length; i += CHUNK) {
        const params: unknown[] = [];
        const tuples = rows.slice(i, i + CHUNK).map((r) => {
          const at = params.length;
          params.push(...r);
          return `(${r.map((_, j) => `$${at + j + 1}`).join(', ')})`;
        });
        await this.sql.execute(`INSERT INTO series_minutes VALUES ${tuples.join(', ')}`, params);
      }
    } catch (err) {
      this.options.log.error(
        `series history: writing minute ${p.minuteMs} failed: ${(err as Error).message}`,
      );
    }
    await this.options.onMinute?.({ envId, minuteMs: p.minuteMs, rows: written });
  }

  /** Deletes the rows older than `historyDays` before `nowMs` (whole UTC days). */
  async purge(nowMs: number): Promise<void> {
    const firstDay = Math.floor(nowMs / DAY) - this.options.historyDays + 1;
    try {
      if (this.sql.dialect.name === 'duckdb') {
        await this.sql.execute('DELETE FROM series_minutes WHERE minute_ms < $1', [firstDay * DAY]);
        return;
      }
      const parts = await this.sql.execute(
        "SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() AND table = 'series_minutes' AND active",
      );
      for (const r of parts)
        if (Number(r['partition']) < firstDay)
          await this.sql.execute(
            `ALTER TABLE series_minutes DROP PARTITION ${Math.trunc(Number(r['partition']))}`,
          );
    } catch (err) {
      this.options.log.error(`series history: deleting old days failed: ${(err as Error).message}`);
    }
  }

  /** One series' minutes in [fromMs, toMs), oldest first (`dimension` and `value` empty: the whole environment). */
  async read(
    envId: string,
    series: { dimension: string; value: string },
    fromMs: number,
    toMs: number,
  ): Promise<SeriesMinute[]> {
    const rows = await this.sql.execute(
      `SELECT minute_ms, ${COLUMNS.map(snake).join(', ')} FROM series_minutes
       WHERE env_id = $1 AND dimension = $2 AND value = $3 AND minute_ms >= $4 AND minute_ms < $5 ORDER BY minute_ms`,
      [envId, series.dimension, series.value, fromMs, toMs],
    );
    return rows.map((r) => ({ minuteMs: Number(r['minute_ms']), ...sumsOf(r) }));
  }

  /**
   * The minutes in [fromMs, toMs) of a dimension's `maxValues` most-watched values over that
   * range (viewer-ticks), by value, oldest first.
   */
  async dimension(
    envId: string,
    dimension: string,
    fromMs: number,
    toMs: number,
    maxValues: number,
  ): Promise<Map<string, SeriesMinute[]>> {
    const where = 'env_id = $1 AND dimension = $2 AND minute_ms >= $3 AND minute_ms < $4';
    const rows = await this.sql.execute(
      `SELECT value, minute_ms, ${COLUMNS.map(snake).join(', ')} FROM series_minutes WHERE ${where}
       AND value IN (SELECT value FROM series_minutes WHERE ${where} GROUP BY value
         ORDER BY sum(concurrent) DESC, value LIMIT ${Math.trunc(maxValues)})
       ORDER BY value, minute_ms`,
      [envId, dimension, fromMs, toMs],
    );
    const out = new Map<string, SeriesMinute[]>();
    for (const r of rows)
      entry(out, String(r['value']), () => []).push({ minuteMs: Number(r['minute_ms']), ...sumsOf(r) });
    return out;
  }

  /** Every series' sums over the minutes in [fromMs, toMs), by `dimension\nvalue` (the whole environment: `\n`). */
  async sums(envId: string, fromMs: number, toMs: number): Promise<Map<string, SeriesSums>> {
    const rows = await this.sql.execute(
      `SELECT dimension, value, ${COLUMNS.map((c) => `sum(${snake(c)}) AS ${snake(c)}`).join(', ')} FROM series_minutes
       WHERE env_id = $1 AND minute_ms >= $2 AND minute_ms < $3 GROUP BY dimension, value`,
      [envId, fromMs, toMs],
    );
    const out = new Map<string, SeriesSums>();
    for (const r of rows) out.set(`${r['dimension']}\n${r['value']}`, sumsOf(r));
    return out;
  }

  /**
   * Every value of one dimension (`''`: the whole environment) in the given minute ranges
   * [from, to): value → minute → sums. One query, for the minutes a baseline looks at.
   */
  async around(
    envId: string,
    dimension: string,
    ranges: readonly [number, number][],
  ): Promise<Map<string, Map<number, SeriesSums>>> {
    const out = new Map<string, Map<number, SeriesSums>>();
    if (ranges.length === 0) return out;
    const params: unknown[] = [envId, dimension];
    const ors = ranges.map(([from, to]) => {
      params.push(from, to);
      return `(minute_ms >= $${params.length - 1} AND minute_ms < $${params.length})`;
    });
    const rows = await this.sql.execute(
      `SELECT value, minute_ms, ${COLUMNS.map(snake).join(', ')} FROM series_minutes
       WHERE env_id = $1 AND dimension = $2 AND (${ors.join(' OR ')})`,
      params,
    );
    for (const r of rows) {
      const m = {} as SeriesSums;
      for (const c of COLUMNS) m[c] = Number(r[snake(c)]);
      entry(out, String(r['value']), () => new Map<number, SeriesSums>()).set(Number(r['minute_ms']), m);
    }
    return out;
  }

  /** A metric of one series per minute in [fromMs, toMs) (null: nothing it is a fraction of that minute). */
  async values(
    envId: string,
    series: { dimension: string; value: string },
    metric: RealtimeMetricId,
    fromMs: number,
    toMs: number,
  ): Promise<{ minuteMs: number; value: number | null; audience: number }[]> {
    return (await this.read(envId, series, fromMs, toMs)).map((m) => ({
      minuteMs: m.minuteMs,
      ...minutePoint(m, metric),
    }));
  }
}

const sumsOf = (r: Record<string, unknown>) =>
  Object.fromEntries(COLUMNS.map((c) => [c, Number(r[snake(c)])])) as SeriesSums;

const pick = (agg: RealtimeAggregate) =>
  Object.fromEntries(SUMS.map((k) => [k, agg[k]])) as Record<(typeof SUMS)[number], number>;
