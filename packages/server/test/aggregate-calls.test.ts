/**
 * The aggregate calls of the metric catalog's SQL, as partial states and
 * merges: the spellings the ClickHouse rollup stores and reads.
 */
import { describe, expect, it } from 'vitest';
import { findAggregateCalls, mergeSql, rewriteToMerges, stateSql } from '../src/query/aggregate-calls.js';
import { METRICS } from '../src/query/metric-catalog.js';
import { viewsRollupDefinition } from '../src/query/views-rollup.js';
import { CLICKHOUSE_DIALECT } from '../src/store/clickhouse/clickhouse-dialect.js';

describe('aggregate calls', () => {
  it('finds each call with its parameters, arguments and FILTER condition', () => {
    const sql =
      'sum(seek_latency_ms * seek_count) / nullif(sum(seek_count) FILTER (WHERE seek_latency_ms IS NOT NULL), 0)';
    const calls = findAggregateCalls(sql);
    expect(calls.map((c) => [c.key, stateSql(c), mergeSql(c, 's')])).toEqual([
      ['sum(seek_latency_ms * seek_count)', 'sumState(seek_latency_ms * seek_count)', 'sumMerge(s)'],
      [
        'sum(seek_count) FILTER (WHERE seek_latency_ms IS NOT NULL)',
        'sumIfState(seek_count, seek_latency_ms IS NOT NULL)',
        'sumIfMerge(s)',
      ],
    ]);
    const [q] = findAggregateCalls('quantileExactInclusive(0.95)(video_startup_time_ms)');
    expect([stateSql(q!), mergeSql(q!, 's')]).toEqual([
      'quantileExactInclusiveState(0.95)(video_startup_time_ms)',
      'quantileExactInclusiveMerge(0.95)(s)',
    ]);
    // All percentiles of a column are one call (one state), indexed after the merge.
    const levels = CLICKHOUSE_DIALECT.aggregates('quantile_cont(video_startup_time_ms, 0.9)');
    expect(levels).toBe('quantilesExactInclusive(0.5, 0.75, 0.9, 0.95, 0.99)(video_startup_time_ms)[3]');
    expect(rewriteToMerges(levels, () => 's')).toBe(
      'quantilesExactInclusiveMerge(0.5, 0.75, 0.9, 0.95, 0.99)(s)[3]',
    );
    const [u] = findAggregateCalls(
      CLICKHOUSE_DIALECT.aggregates("count(DISTINCT coalesce(nullif(a, ''), b))"),
    );
    expect([stateSql(u!), mergeSql(u!, 's')]).toEqual([
      "uniqExactState(coalesce(nullif(a, ''), b))",
      'uniqExactMerge(s)',
    ]);
    const [c] = findAggregateCalls('count(*) FILTER (WHERE playback_failure)');
    expect(stateSql(c!)).toBe('countIfState(playback_failure)');
    // Not aggregates: names that only end in one, and nested CASE parentheses.
    expect(findAggregateCalls('coalesce(x_sum(a), 0) + mycount(b)')).toEqual([]);
    expect(findAggregateCalls('100.0 * avg(CASE WHEN (a) THEN 1 ELSE 0 END)').map((x) => x.args)).toEqual([
      'CASE WHEN (a) THEN 1 ELSE 0 END',
    ]);
  });

  it('rewrites an expression to merges, or refuses when a call has no column', () => {
    const cols: Record<string, string> = { 'sum(rebuffer_duration_ms)': 's1', 'sum(watch_time_ms)': 's2' };
    expect(
      rewriteToMerges('100.0 * sum(rebuffer_duration_ms) / nullif(sum(watch_time_ms), 0)', (k) => cols[k]),
    ).toBe('100.0 * sumMerge(s1) / nullif(sumMerge(s2), 0)');
    expect(rewriteToMerges('max(rebuffer_count)', (k) => cols[k])).toBeUndefined();
  });

  it('gives the rollup a state for every aggregate of every metric, and a name that follows its definition', () => {
    const def = viewsRollupDefinition(CLICKHOUSE_DIALECT);
    const keys = new Set(def.states.map((s) => s.key));
    for (const m of Object.values(METRICS))
      for (const sql of [...Object.values(m.sql), m.viewsSql])
        for (const c of findAggregateCalls(CLICKHOUSE_DIALECT.aggregates(sql))) expect(keys).toContain(c.key);
    expect(keys).toContain('count(*)');
    // One quantile state per column, whatever the number of percentiles offered.
    const quantiles = def.states.filter((s) => s.key.startsWith('quantile')).map((s) => s.key);
    expect(quantiles).toContain('quantilesExactInclusive(0.5, 0.75, 0.9, 0.95, 0.99)(video_startup_time_ms)');
    const columns = quantiles.map((k) => k.slice(k.lastIndexOf('(')));
    expect(new Set(columns).size).toBe(columns.length);
    expect(def.name).toMatch(/^views_rollup_[0-9a-f]{12}$/);
    expect(viewsRollupDefinition(CLICKHOUSE_DIALECT).name).toBe(def.name);
  });
});
