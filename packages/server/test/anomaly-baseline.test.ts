/**
 * The anomaly model's arithmetic on histories the test writes minute by
 * minute (the pipeline-fed proof is anomaly-rules.integration.test.ts), and
 * the anomaly condition's check: its defaults, and every bad field named.
 */
import { describe, expect, it } from 'vitest';
import { checkRule } from '../src/alerts/alert-rules.js';
import { type AnomalyCondition, anomalyAt } from '../src/alerts/anomaly-baseline.js';
import type { SeriesSums } from '../src/alerts/series-history.js';
import { SUMS } from '../src/pipeline/realtime/realtime-aggregate.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const M = Date.UTC(2026, 1, 20, 21, 0);
const C: AnomalyCondition = {
  type: 'anomaly',
  sensitivity: 'medium',
  direction: 'up',
  min_audience: 5,
  min_change: 1,
  for_seconds: 120,
  resolve_for_seconds: 120,
};

/** A minute of `viewers` watching 60 s each, `pct` % of it rebuffering. */
const minute = (viewers: number, pct: number): SeriesSums => {
  const zero = Object.fromEntries([...SUMS, 'startupN', 'ticks'].map((k) => [k, 0])) as SeriesSums;
  return {
    ...zero,
    concurrent: viewers,
    ticks: 1,
    watchMs: viewers * 60_000,
    rebufferMs: viewers * 600 * pct,
  };
};

/** `days` previous days around M, each minute's rebuffering from `pctOf(day, minute offset)`. */
function history(days: number, pctOf: (d: number, j: number) => number, viewers = 20) {
  const h = new Map<number, SeriesSums>();
  for (let d = 1; d <= days; d++)
    for (let j = -10; j <= 10; j++) h.set(M - d * DAY + j * MINUTE, minute(viewers, pctOf(d, j)));
  return h;
}

describe('anomaly model', () => {
  it('says no_history below three days, then judges against the median and the spread', () => {
    const noisy = (d: number, j: number) => 1 + ((d * 7 + j * 3) % 5) / 10; // 1.0–1.4 %
    const two = history(2, noisy);
    for (let j = -2; j <= 0; j++) two.set(M + j * MINUTE, minute(20, 9));
    expect(anomalyAt(C, 'current_rebuffering_percentage', two, M)).toMatchObject({
      state: 'no_history',
      days: 2,
      needed: 3,
    });
    const h = history(7, noisy);
    for (let j = -2; j <= 0; j++) h.set(M + j * MINUTE, minute(20, 1.3));
    const normal = anomalyAt(C, 'current_rebuffering_percentage', h, M);
    expect(normal).toMatchObject({ state: 'normal', days: 7 });
    if (normal.state === 'no_history') throw new Error('unreachable');
    expect(normal.baseline).toBeCloseTo(1.2, 5);
    // The spread is small here: the bound is min_change above the median.
    expect(normal.bound).toBeCloseTo(2.2, 5);
    for (let j = -2; j <= 0; j++) h.set(M + j * MINUTE, minute(20, 6.2));
    expect(anomalyAt(C, 'current_rebuffering_percentage', h, M)).toMatchObject({
      state: 'anomalous',
      value: expect.closeTo(6.2, 9),
    });
    // Too small an audience now: normal, whatever the value.
    for (let j = -2; j <= 0; j++) h.set(M + j * MINUTE, minute(4, 50));
    expect(anomalyAt(C, 'current_rebuffering_percentage', h, M).state).toBe('normal');
  });

  it('sees bursts a MAD of 0 would miss, and is not moved by a past incident', () => {
    // A 4 % burst every seventh minute: most 3-minute values 0 (median and MAD 0), the decile 1.33.
    const bursty = history(7, (d, j) => ((d + j) % 7 === 0 ? 4 : 0));
    for (let j = -2; j <= 0; j++) bursty.set(M + j * MINUTE, minute(20, 2));
    const v = anomalyAt(C, 'current_rebuffering_percentage', bursty, M);
    expect(v.state).toBe('normal');
    if (v.state === 'no_history') throw new Error('unreachable');
    expect(v.spread).toBeCloseTo(4 / 3 / 1.2816, 5);
    // Yesterday's incident (30 %) is one day of seven: the baseline stays where it was.
    const calm = history(7, () => 1);
    const withIncident = history(7, (d) => (d === 1 ? 30 : 1));
    for (const h of [calm, withIncident]) for (let j = -2; j <= 0; j++) h.set(M + j * MINUTE, minute(20, 1));
    const a = anomalyAt(C, 'current_rebuffering_percentage', calm, M);
    const b = anomalyAt(C, 'current_rebuffering_percentage', withIncident, M);
    expect(b).toMatchObject({ state: 'normal' });
    if (a.state === 'no_history' || b.state === 'no_history') throw new Error('unreachable');
    expect(b.baseline).toBe(a.baseline);
  });

  it('watches for a fall when the direction is down', () => {
    const viewers = new Map<number, SeriesSums>();
    for (let d = 1; d <= 7; d++)
      for (let j = -10; j <= 10; j++) viewers.set(M - d * DAY + j * MINUTE, minute(100 + ((d + j) % 3), 0));
    for (let j = -2; j <= 0; j++) viewers.set(M + j * MINUTE, minute(40, 0));
    const c: AnomalyCondition = { ...C, direction: 'down', min_change: 0 };
    expect(anomalyAt(c, 'current_concurrent_viewers', viewers, M)).toMatchObject({
      state: 'anomalous',
      value: 40,
      baseline: 101,
    });
    expect(anomalyAt({ ...c, direction: 'up' }, 'current_concurrent_viewers', viewers, M).state).toBe(
      'normal',
    );
  });
});

describe('anomaly condition check', () => {
  const check = (body: Record<string, unknown>) =>
    checkRule({ name: 'r', metric: 'current_rebuffering_percentage', ...body }, async () => true);
  const paths = async (body: Record<string, unknown>) => {
    try {
      await check(body);
    } catch (err) {
      return ((err as { fields: { path: string }[] }).fields ?? []).map((f) => f.path).sort();
    }
    return [];
  };

  it('fills the defaults by metric', async () => {
    expect((await check({ condition: { type: 'anomaly' } })).condition).toEqual({
      type: 'anomaly',
      sensitivity: 'medium',
      direction: 'up',
      min_audience: 1,
      min_change: 1,
      for_seconds: 120,
      resolve_for_seconds: 120,
    });
    const viewers = await check({ metric: 'current_concurrent_viewers', condition: { type: 'anomaly' } });
    expect(viewers.condition).toMatchObject({ direction: 'down', min_change: 0 });
    const startup = await check({ metric: 'video_startup_time', condition: { type: 'anomaly' } });
    expect(startup.measurement).toBe('mean');
  });

  it('names every bad field', async () => {
    expect(
      await paths({
        condition: {
          type: 'anomaly',
          sensitivity: 'extreme',
          min_change: -1,
          for_seconds: -5,
          operator: '>',
        },
      }),
    ).toEqual([
      'condition.for_seconds',
      'condition.min_change',
      'condition.operator',
      'condition.sensitivity',
    ]);
    expect(
      await paths({
        metric: 'rebuffer_percentage',
        window_seconds: 900,
        condition: { type: 'anomaly' },
      }),
    ).toEqual(['condition.type']);
    expect(await paths({ filters: ['cdn:edge-1'], condition: { type: 'anomaly' } })).toEqual(['filters']);
    expect(
      await paths({ metric: 'video_startup_time', measurement: 'p95', condition: { type: 'anomaly' } }),
    ).toEqual(['measurement']);
    // A threshold condition's fields are still named as before.
    expect(
      await paths({ condition: { type: 'threshold', operator: '>', value: 5, for_seconds: -1 } }),
    ).toEqual(['condition.for_seconds']);
  });
});
