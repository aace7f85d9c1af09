/**
 * Backtests on a real store (DuckDB and chDB): the series history is
 * written by the real SeriesHistory from the ticks of a real RealtimeTracker
 * fed native beacons on a clock the test controls, with a scripted fault
 * (both cdn-b viewers rebuffer in three known runs of minutes). Checked: the
 * backtest of a per-CDN rule and of a whole-environment rule finds exactly
 * the incidents the script makes (opened for_seconds after a run starts,
 * resolved resolve_for_seconds after it ends); min_audience holds them
 * back; the real alert engine fed the same ticks opens as many incidents,
 * each within a minute of the backtest's (it evaluates every tick, the
 * backtest every minute), and its whole-environment incident carries a
 * root-cause hint naming cdn-b against the history before the breach; a
 * condition type without a replay, filters and windowed rules are refused
 * naming the field.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertEngine } from '../src/alerts/alert-engine.js';
import { AlertRepository } from '../src/alerts/alert-repository.js';
import { checkRule, type RuleSpec } from '../src/alerts/alert-rules.js';
import { backtest } from '../src/alerts/backtest.js';
import type { IncidentRecord } from '../src/alerts/incident.js';
import { SeriesHistory } from '../src/alerts/series-history.js';
import { Registry } from '../src/auth/registry.js';
import { ApiError } from '../src/http/api-error.js';
import type { NotificationBatch } from '../src/outputs/notifications/incident-notice.js';
import { embeddedFiltered } from '../src/query/realtime/filtered-realtime.js';
import type { SqlRunner } from '../src/store/live-store.js';
import type { Store } from '../src/store/store.js';
import { FIVE_VIEWS, playTicks } from './helpers/played-ticks.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { openStoreUnderTest, runnableStores } from './helpers/stores.js';

const dir = tempDataDir('openqoe-backtest-');
afterAll(() => removeDir(dir));

const MINUTE = 60_000;
const M0 = Math.ceil(1_765_000_000_000 / MINUTE) * MINUTE;
const STEP = 5000;
const MINUTES = 28;
/** Runs of minutes [start, end) in which both cdn-b viewers rebuffer the whole time. */
const FAULTS: [number, number][] = [
  [5, 8],
  [15, 17],
  [22, 24],
];
/** The minute (from M0) step k's data belongs to: its tick closes at M0 + k × STEP. */
const minuteOfStep = (k: number) => Math.floor((k * STEP - 1) / MINUTE);
const faulty = (minute: number) => FAULTS.some(([a, b]) => minute >= a && minute < b);

const iso = (minute: number) => new Date(M0 + minute * MINUTE).toISOString();
/** What the rule makes of the script: open `for` minutes into a run, resolved `resolveFor` minutes after it. */
const expected = (series: string | null, forMin: number, resolveFor: number) =>
  FAULTS.map(([a, b]) => ({ series, opened_at: iso(a + forMin), resolved_at: iso(b + resolveFor) }));

const ruleBody = (body: Record<string, unknown>) =>
  checkRule(
    {
      name: 'rebuffering',
      metric: 'current_rebuffering_percentage',
      channel_ids: ['ops'],
      condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 60, resolve_for_seconds: 60 },
      ...body,
    },
    async () => true,
  );

for (const kind of runnableStores('backtest').filter((s) => s.kind !== 'http'))
  describe(`backtest on ${kind.name}`, () => {
    let store: (Store & SqlRunner) | undefined;
    afterAll(async () => {
      await store?.close();
    });

    it('finds the incidents the scripted faults make, as the engine fed the same ticks does', async () => {
      store = (await openStoreUnderTest(kind, join(dir, `${kind.kind}-store`))) as Store & SqlRunner;
      const registry = await Registry.load(store);
      const envId = (await registry.createEnvironment('prod')).id;
      const history = new SeriesHistory(store, {
        historyDays: 28,
        valuesPerDimension: 1000,
        log: { error: (m) => expect.fail(m) },
      });
      const specs = {
        perCdn: await ruleBody({ breakdown: 'cdn' }),
        whole: await ruleBody({}),
        smallAudience: await ruleBody({
          breakdown: 'cdn',
          condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 60, min_audience: 3 },
        }),
      };
      const opened: NotificationBatch[] = [];
      let clock = M0;
      const repository = new AlertRepository(store);
      const engine = new AlertEngine({
        repository,
        store,
        registry,
        notifier: { notify: async (b) => void opened.push(b), hasChannel: async () => true },
        filtered: embeddedFiltered as never,
        history,
        configRules: Object.entries(specs).map(([id, spec]) => ({
          id,
          envId,
          source: 'config' as const,
          spec,
          createdAtMs: M0,
          updatedAtMs: M0,
        })),
        baseUrl: () => 'https://qoe.example',
        log: { info: () => {}, warn: (m) => expect.fail(m), error: (m) => expect.fail(m) },
        now: () => clock,
      });
      await engine.start();
      const ticks = playTicks(
        FIVE_VIEWS,
        MINUTES * (MINUTE / STEP) + 1,
        M0,
        STEP,
        (i, k) => (i >= 3 && faulty(minuteOfStep(k)) ? 'rebuffering' : 'playing'),
        envId,
      );
      for (const t of ticks) {
        clock = t.atMs;
        await engine.onTick(t);
        await history.onTick(t);
      }
      await history.flush();
      await engine.close();

      const run = (spec: RuleSpec) => backtest(spec, envId, history, M0, M0 + MINUTES * MINUTE);
      const perCdn = await run(specs.perCdn);
      expect(perCdn.minutes_covered).toBe(MINUTES);
      expect(perCdn.series_count).toBe(2);
      expect(perCdn.incidents.map(({ worst: _, ...i }) => i)).toEqual(expected('cdn-b', 1, 1));
      expect(perCdn.count).toBe(3);
      expect(perCdn.per_day).toBeCloseTo((3 / MINUTES) * 1440, 2);
      for (const i of perCdn.incidents) expect(i.worst).toBeCloseTo(100, 0);
      const whole = await run(specs.whole);
      expect(whole.incidents.map(({ worst: _, ...i }) => i)).toEqual(expected(null, 1, 1));
      expect((await run(specs.smallAudience)).count).toBe(0);

      // The engine, every 5 s on the same ticks: as many incidents, each within a minute of the backtest's.
      const incidents = async (ruleId: string) =>
        (await repository.incidents({ envIds: [envId], ruleId, limit: 100, offset: 0 })).rows.sort(
          (a, b) => a.startedAtMs - b.startedAtMs,
        );
      for (const [ruleId, found] of [
        ['perCdn', perCdn],
        ['whole', whole],
      ] as const) {
        const live = await incidents(ruleId);
        expect(live.map((i) => i.breakdownValue)).toEqual(found.incidents.map((i) => i.series));
        for (const [j, inc] of live.entries()) {
          const b = found.incidents[j]!;
          expect(Math.abs(inc.startedAtMs - Date.parse(b.opened_at))).toBeLessThan(MINUTE);
          expect(Math.abs(inc.resolvedAtMs! - Date.parse(b.resolved_at!))).toBeLessThan(MINUTE);
        }
      }
      expect(await incidents('smallAudience')).toEqual([]);

      // The whole environment's incidents name cdn-b, compared with the clean minutes before each breach.
      const hints = (await incidents('whole')).map((i: IncidentRecord) => i.rootCause);
      for (const hint of hints) {
        expect(hint?.baseline).toBe('history');
        expect(hint?.contributors[0]).toMatchObject({ dimension: 'cdn', value: 'cdn-b', share: 1 });
        expect(hint?.contributors[0]?.audience_share).toBeCloseTo(0.4, 9);
        expect(hint?.summary).toBe('100 % of the added rebuffering is on CDN cdn-b (40 % of the audience)');
      }
      const trigger = opened.flatMap((b) => b.notices).find((n) => n.breakdown === null)!;
      expect(trigger.rootCause).toBe(hints[0]!.summary);
      // Series rules carry no hint.
      expect((await incidents('perCdn')).map((i) => i.rootCause ?? null)).toEqual([null, null, null]);
    });

    it('refuses what the history cannot replay, naming the field', async () => {
      const refused = async (spec: RuleSpec) => {
        const err = await backtest(
          spec,
          'env',
          { read: async () => [], dimension: async () => new Map() },
          0,
          1,
        ).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ApiError);
        return (err as ApiError).fields;
      };
      const base = await ruleBody({});
      expect(
        await refused({
          ...base,
          condition: { ...base.condition, type: 'seasonal' } as unknown as RuleSpec['condition'],
        }),
      ).toEqual([{ path: 'condition.type', problem: 'backtest of seasonal rules is not available yet' }]);
      expect((await refused(await ruleBody({ filters: ['cdn:cdn-a'] })))[0]!.path).toBe('filters');
      expect(
        (await refused(await ruleBody({ metric: 'rebuffer_percentage', window_seconds: 300 })))[0]!.path,
      ).toBe('window_seconds');
    });
  });
