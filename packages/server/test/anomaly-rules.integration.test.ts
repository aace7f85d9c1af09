/**
 * Anomaly rules on aggregates the real pipeline computes from generated
 * traffic with a daily and weekly shape (ShapedPipeline: the generator's
 * beacons through the native normaliser, the view model and a
 * RealtimeTracker), written to the series history of a real store (DuckDB
 * and chDB), each written minute evaluated by the alert engine, on a clock
 * the test controls: the evening of nine simulated days (18:40–22:00 UTC)
 * passes in seconds (on chDB, four short evenings). Checked: while a series has fewer than three days of
 * history it says `no_history` in the rule's answer and does not fire; the
 * normal evenings that follow open nothing; a +5 points rebuffering step on
 * one CDN host opens an incident on the per-CDN rule for that host only,
 * within five minutes, and it resolves once the step ends; and the same step
 * in an environment whose history starts that evening fires nothing and
 * says why.
 */
import { join } from 'node:path';
import type { ShapeOptions } from '@openqoe/generator';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertEngine } from '../src/alerts/alert-engine.js';
import { AlertRepository } from '../src/alerts/alert-repository.js';
import { checkRule, type Rule, ruleAnswer } from '../src/alerts/alert-rules.js';
import { backtest } from '../src/alerts/backtest.js';
import { SeriesHistory } from '../src/alerts/series-history.js';
import { Registry } from '../src/auth/registry.js';
import type { NotificationBatch, Notifier } from '../src/outputs/notifications/incident-notice.js';
import { embeddedFiltered } from '../src/query/realtime/filtered-realtime.js';
import type { SqlRunner } from '../src/store/live-store.js';
import type { Store } from '../src/store/store.js';
import { testBudget } from './helpers/patience.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { MINUTE, ShapedPipeline } from './helpers/shaped-pipeline.js';
import { openStoreUnderTest, runnableStores } from './helpers/stores.js';

const dir = tempDataDir('openqoe-anomaly-');
afterAll(() => removeDir(dir));

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Monday 2026-02-02 00:00 UTC: day 8 is a Tuesday. */
const DAY0 = Date.UTC(2026, 1, 2);
/**
 * Per store: the days before the step's, and each day's stretch of minutes. chDB writes a minute
 * about ten times slower, so it gets three short evenings: the same code on its SQL, no history,
 * then the step caught, but not the quiet normal days. A stretch starts at least 30 minutes (a
 * view's length) before what it checks: the views already playing when it starts arrive
 * mid-view, and the view model counts them only from their next view.
 */
const PLANS = {
  duckdb: { days: 8, from: 18 * HOUR + 40 * MINUTE, to: 22 * HOUR },
  chdb: { days: 3, from: 19 * HOUR + 45 * MINUTE, to: 21 * HOUR + 5 * MINUTE },
} as const;
/** The injected step: +5 points of rebuffering on cdn-b, 20:30–21:00 of the last day. */
const STEP_HOUR = 20 * HOUR + 30 * MINUTE;
const SHAPE: ShapeOptions = {
  seed: 21,
  envKey: 'env',
  peakViewers: 60,
  cdnHosts: ['cdn-a', 'cdn-b', 'cdn-c'],
  baseRebufferPct: 0.5,
  peakRebufferPct: 1,
};

class RecordingNotifier implements Notifier {
  batches: NotificationBatch[] = [];
  async notify(batch: NotificationBatch): Promise<void> {
    this.batches.push(batch);
  }
  async hasChannel(): Promise<boolean> {
    return true;
  }
  notices(ruleId: string) {
    return this.batches.filter((b) => b.rule.id === ruleId).flatMap((b) => b.notices);
  }
}

for (const kind of runnableStores('anomaly rules').filter((s) => s.kind !== 'http'))
  describe(`anomaly rules on ${kind.name}`, () => {
    let store: (Store & SqlRunner) | undefined;
    afterAll(async () => {
      await store?.close();
    });

    const { days, from: FROM, to: TO } = PLANS[kind.kind as 'duckdb' | 'chdb'];
    const STEP_AT = DAY0 + days * DAY + STEP_HOUR;
    const STEP_END = STEP_AT + 30 * MINUTE;
    it(
      'learns the evening, stays quiet on normal days, catches a step on one CDN, and says when it cannot',
      async () => {
        store = (await openStoreUnderTest(kind, join(dir, `${kind.kind}-store`))) as Store & SqlRunner;
        const registry = await Registry.load(store);
        const env = (await registry.createEnvironment('shaped')).id;
        const fresh = (await registry.createEnvironment('fresh')).id;
        const rule = async (id: string, envId: string, breakdown: string | null): Promise<Rule> => ({
          id,
          envId,
          source: 'api',
          spec: await checkRule(
            {
              name: id,
              metric: 'current_rebuffering_percentage',
              breakdown,
              channel_ids: ['ops'],
              condition: { type: 'anomaly' },
            },
            async () => true,
          ),
          createdAtMs: DAY0,
          updatedAtMs: DAY0,
        });
        const perCdn = await rule('per-cdn', env, 'cdn');
        const whole = await rule('whole', env, null);
        const freshCdn = await rule('fresh-cdn', fresh, 'cdn');
        expect(perCdn.spec.condition).toMatchObject({ type: 'anomaly', sensitivity: 'medium' });
        const repository = new AlertRepository(store);
        for (const r of [perCdn, whole, freshCdn]) await repository.saveRule(r);
        const notifier = new RecordingNotifier();
        let history: SeriesHistory | undefined;
        const engine = new AlertEngine({
          repository,
          store,
          registry,
          notifier,
          filtered: embeddedFiltered as never,
          configRules: [],
          baseUrl: () => 'https://qoe.example',
          log: { info: () => {}, warn: () => {}, error: (m) => expect.fail(m) },
          history: { around: (...a) => history!.around(...a), sums: (...a) => history!.sums(...a) },
        });
        await engine.start();
        history = new SeriesHistory(store, {
          historyDays: 28,
          valuesPerDimension: 1000,
          log: { error: (m) => expect.fail(m) },
          onMinute: (m) => engine.onMinute(m),
        });
        const pipeline = new ShapedPipeline(env, SHAPE, (t) => history!.onTick(t));
        const freshPipeline = new ShapedPipeline(fresh, { ...SHAPE, seed: 22 }, (t) => history!.onTick(t));
        const states = (r: Rule) =>
          Object.fromEntries(
            (ruleAnswer(r, 0, engine.verdicts.get(r.id)).anomaly_series ?? []).map((s) => [
              s.series,
              s.state,
            ]),
          );

        // Days 0–2: too little history. Each series says so, and nothing fires.
        for (let d = 0; d < 3; d++) await pipeline.play(DAY0 + d * DAY + FROM, DAY0 + d * DAY + TO);
        expect(states(perCdn)).toEqual({
          'cdn-a': 'no_history',
          'cdn-b': 'no_history',
          'cdn-c': 'no_history',
        });
        expect(states(whole)).toEqual({ null: 'no_history' });
        expect(notifier.batches).toEqual([]);

        // Days 3–7, normal: learnt, and quiet.
        for (let d = 3; d < days; d++) await pipeline.play(DAY0 + d * DAY + FROM, DAY0 + d * DAY + TO);
        const answer = ruleAnswer(perCdn, 0, engine.verdicts.get(perCdn.id)).anomaly_series!;
        const learnt = days > 3 ? 'normal' : 'no_history';
        expect(answer.map((s) => s.state)).toEqual([learnt, learnt, learnt]);
        for (const s of days > 3 ? answer : []) {
          // The evening's rebuffering (0.5 + 1 × the audience share: about 1.2 % on a weekday at 21:40).
          expect(s.baseline).toBeGreaterThan(0.5);
          expect(s.baseline).toBeLessThan(2.5);
          expect(s.history_days).toBeGreaterThanOrEqual(5);
        }
        expect(notifier.batches).toEqual([]);

        // Day 8 (chDB: 3): +5 points on cdn-b from 20:30 to 21:00, the same evening in the fresh environment.
        const day8 = DAY0 + days * DAY;
        await pipeline.play(day8 + FROM, STEP_AT);
        await freshPipeline.play(day8 + FROM, STEP_AT);
        await pipeline.play(STEP_AT, STEP_END, { 'cdn-b': 5 });
        await freshPipeline.play(STEP_AT, STEP_END, { 'cdn-b': 5 });
        const opened = notifier.notices(perCdn.id).filter((n) => n.transition === 'trigger');
        expect(opened.map((n) => n.breakdownValue)).toEqual(['cdn-b']);
        const openedAt = Date.parse(opened[0]!.startedAt);
        expect(openedAt - STEP_AT).toBeLessThanOrEqual(5 * MINUTE);
        expect(opened[0]!.openValue).toBeGreaterThan(opened[0]!.threshold);
        expect(states(freshCdn)).toEqual({
          'cdn-a': 'no_history',
          'cdn-b': 'no_history',
          'cdn-c': 'no_history',
        });
        expect(notifier.notices(freshCdn.id)).toEqual([]);

        await pipeline.play(STEP_END, day8 + TO);
        expect(notifier.notices(perCdn.id).map((n) => `${n.transition} ${n.breakdownValue}`)).toEqual([
          'trigger cdn-b',
          'resolve cdn-b',
        ]);
        await engine.close();
        await history.flush();

        // The backtest replays the same minutes to the same incidents (opened at the minute the engine
        // evaluated at its end).
        for (const r of [perCdn, whole]) {
          const replayed = await backtest(r.spec, env, history, DAY0, day8 + DAY);
          const triggers = notifier.notices(r.id).filter((n) => n.transition === 'trigger');
          expect(
            replayed.incidents.map((i) => [i.series, Date.parse(i.opened_at) + MINUTE]),
            r.id,
          ).toEqual(triggers.map((n) => [n.breakdownValue, Date.parse(n.startedAt)]));
        }
      },
      // Nine evenings of minutes through the pipeline, DuckDB and the engine: about 30 s idle.
      testBudget(kind.kind === 'duckdb' ? 60_000 : 120_000),
    );
  });
