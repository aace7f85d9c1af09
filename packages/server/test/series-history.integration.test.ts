/**
 * The per-series minute history on a real store (DuckDB and chDB), written
 * from the ticks of a real RealtimeTracker fed native beacons through the
 * view model on a clock the test controls. Checked: every minute's row of
 * the whole environment and of each CDN re-aggregates to the real-time
 * metric of the same minute (the minute's ticks merged); the cap keeps the
 * most-watched values of the day; retention deletes the days past
 * `historyDays` (hourly, as ticks come) and keeps the rest.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeriesHistory, WHOLE_SERIES } from '../src/alerts/series-history.js';
import { RealtimeAggregate } from '../src/pipeline/realtime/realtime-aggregate.js';
import { REALTIME_METRIC_IDS } from '../src/pipeline/realtime/realtime-catalog.js';
import type { SqlRunner } from '../src/store/live-store.js';
import type { Store } from '../src/store/store.js';
import { FIVE_VIEWS, playTicks } from './helpers/played-ticks.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { openStoreUnderTest, runnableStores } from './helpers/stores.js';

const dir = tempDataDir('openqoe-series-history-');
afterAll(() => removeDir(dir));

const MINUTE = 60_000;
const DAY = 86_400_000;
/** A minute boundary. */
const M0 = Math.ceil(1_765_000_000_000 / MINUTE) * MINUTE;
const STEP = 5000;

/** Three viewers on cdn-a (the first stalls every third step), two on cdn-b. */
const play = (steps: number) =>
  playTicks(FIVE_VIEWS, steps, M0, STEP, (i, k) => (i === 0 && k % 3 === 0 ? 'rebuffering' : 'playing'));

const minuteOf = (atMs: number) => Math.floor((atMs - 1) / MINUTE) * MINUTE;

for (const kind of runnableStores('series history').filter((s) => s.kind !== 'http'))
  describe(`series history on ${kind.name}`, () => {
    let store: (Store & SqlRunner) | undefined;
    const open = async () =>
      (store ??= (await openStoreUnderTest(kind, join(dir, `${kind.kind}-store`))) as Store & SqlRunner);
    const log = { error: (m: string) => expect.fail(m) };
    afterAll(async () => {
      await store?.close();
    });

    it('writes minute rows from real ticks that re-aggregate to the real-time metric of the minute', async () => {
      const history = new SeriesHistory(await open(), { historyDays: 28, valuesPerDimension: 1000, log });
      // Three minutes of ticks and the first of a fourth: minutes 0–2 are written.
      const ticks = play(37);
      for (const t of ticks) await history.onTick(t);
      for (const [dimension, value] of [
        ['', ''],
        ['cdn', 'cdn-a'],
        ['cdn', 'cdn-b'],
      ] as const) {
        const expected = new Map<number, { agg: RealtimeAggregate; ticks: number }>();
        for (const t of ticks) {
          const e = expected.get(minuteOf(t.atMs)) ?? { agg: new RealtimeAggregate(), ticks: 0 };
          const agg = dimension === '' ? t.overall : t.dims.get(dimension)?.get(value);
          if (agg) e.agg.merge(agg);
          e.ticks++;
          expected.set(minuteOf(t.atMs), e);
        }
        for (let m = M0; m < M0 + 3 * MINUTE; m += MINUTE) {
          const e = expected.get(m)!;
          for (const metric of REALTIME_METRIC_IDS) {
            const [row] = await history.values('env', { dimension, value }, metric, m, m + MINUTE);
            expect(row?.minuteMs).toBe(m);
            const want =
              metric === 'current_concurrent_viewers'
                ? e.agg.concurrent / e.ticks
                : metric === 'video_startup_time'
                  ? e.agg.startupSum / e.agg.startupN
                  : e.agg.value(metric);
            if (want === null) expect(row!.value, `${metric} ${value}`).toBeNull();
            else expect(row!.value, `${metric} ${value}`).toBeCloseTo(want, 9);
          }
        }
      }
      // Ground truth the script sets: cdn-a has 3 viewers (one stalling 5 s of every 15 s), cdn-b 2.
      const rebuffering = await history.values(
        'env',
        { dimension: 'cdn', value: 'cdn-a' },
        'current_rebuffering_percentage',
        M0,
        M0 + 3 * MINUTE,
      );
      expect(rebuffering.map((r) => [r.value, r.audience])).toEqual([
        [expect.closeTo(100 / 9, 9), 3],
        [expect.closeTo(100 / 9, 9), 3],
        [expect.closeTo(100 / 9, 9), 3],
      ]);
      const whole = await history.values(
        'env',
        WHOLE_SERIES,
        'current_rebuffering_percentage',
        M0,
        M0 + 3 * MINUTE,
      );
      expect(whole.map((r) => [r.value, r.audience])).toEqual(
        Array(3).fill([expect.closeTo(100 / 15, 9), 5]),
      );
      // The minute still being summed is written at the end.
      expect(await history.read('env', WHOLE_SERIES, M0 + 3 * MINUTE, M0 + 4 * MINUTE)).toEqual([]);
      await history.flush();
      expect(await history.read('env', WHOLE_SERIES, M0 + 3 * MINUTE, M0 + 4 * MINUTE)).toHaveLength(1);
    });

    it('keeps the most-watched values of the day past the cap', async () => {
      const sql = await open();
      const history = new SeriesHistory(sql, { historyDays: 28, valuesPerDimension: 1, log });
      const ticks = play(13).map((t) => ({ ...t, envId: 'capped' }));
      for (const t of ticks) await history.onTick(t);
      const cdn = (value: string) => history.read('capped', { dimension: 'cdn', value }, M0, M0 + MINUTE);
      expect(await cdn('cdn-a')).toHaveLength(1);
      expect(await cdn('cdn-b')).toEqual([]);
      expect(await history.read('capped', WHOLE_SERIES, M0, M0 + MINUTE)).toHaveLength(1);
    });

    it('deletes the days past historyDays and keeps the others', async () => {
      const history = new SeriesHistory(await open(), { historyDays: 2, valuesPerDimension: 1000, log });
      const today = Math.floor(M0 / DAY) * DAY;
      const at = (ms: number) => ({
        atMs: ms,
        envId: 'kept',
        overall: new RealtimeAggregate(),
        dims: new Map(),
      });
      for (const day of [5, 2, 1, 0])
        for (const m of [1, 2]) await history.onTick(at(today - day * DAY + m * MINUTE + 1));
      await history.flush();
      const days = async () =>
        new Set(
          (await history.read('kept', WHOLE_SERIES, today - 10 * DAY, today + DAY)).map((r) =>
            Math.floor((r.minuteMs - today) / DAY),
          ),
        );
      // The hourly purge ran as the ticks of later days came: two days kept, today and yesterday.
      expect(await days()).toEqual(new Set([-1, 0]));
      await history.purge(today + DAY + 12 * 3_600_000);
      expect(await days()).toEqual(new Set([0]));
    });
  });
