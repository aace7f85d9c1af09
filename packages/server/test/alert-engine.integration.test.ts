/**
 * The alert engine in process, on a real store (DuckDB and chDB), fed
 * real-time ticks the test builds (aggregates per CDN with known viewers and
 * rebuffering) on a controlled clock, with a Notifier that records the
 * batches it is given. Checked: a per-CDN rule opens an incident for the
 * stalling CDN only and resolves it; 50 series opening together are one
 * batch; a silence records the incident and sends nothing; a transition the
 * notifier did not take is sent again by the next engine on the same store
 * (same de-duplication key); an open incident survives a restart without a
 * second trigger; acknowledging; escalation of an unacknowledged incident (once, also
 * when it fell due while the server was down) and none for an acknowledged
 * one; a windowed view-metric rule over stored views.
 */
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AlertEngine } from '../src/alerts/alert-engine.js';
import { AlertRepository } from '../src/alerts/alert-repository.js';
import { checkRule, type Rule } from '../src/alerts/alert-rules.js';
import type { SilenceRecord } from '../src/alerts/silences.js';
import { Registry } from '../src/auth/registry.js';
import type { NotificationBatch, Notifier } from '../src/outputs/notifications/incident-notice.js';
import { RealtimeAggregate } from '../src/pipeline/realtime/realtime-aggregate.js';
import type { RealtimeTotals } from '../src/pipeline/realtime/realtime-tracker.js';
import { ActiveView, type ViewDimensions } from '../src/pipeline/view-model/active-views.js';
import { viewRow } from '../src/pipeline/view-model/view-row.js';
import { embeddedFiltered } from '../src/query/realtime/filtered-realtime.js';
import type { SqlRunner } from '../src/store/live-store.js';
import type { Store } from '../src/store/store.js';
import { removeDir, tempDataDir } from './helpers/server-process.js';
import { openStoreUnderTest, runnableStores } from './helpers/stores.js';
import { client, playing720p, zeroFacts } from './helpers/view-fixtures.js';

const dir = tempDataDir('openqoe-alert-engine-');
afterAll(() => removeDir(dir));

/** Records what the engine hands over; `failing` makes it refuse (a notifier that cannot queue). */
class RecordingNotifier implements Notifier {
  batches: NotificationBatch[] = [];
  failing = false;
  async notify(batch: NotificationBatch): Promise<void> {
    if (this.failing) throw new Error('queue unavailable');
    this.batches.push(batch);
  }
  async hasChannel(_envId: string, id: string): Promise<boolean> {
    return id === 'ops' || id === 'oncall';
  }
  transitions(): string[] {
    return this.batches.flatMap((b) => b.notices.map((n) => `${n.transition} ${n.breakdownValue}`));
  }
}

/** One aggregate: `viewers` watching 5 s each, `stalled` of them rebuffering the whole time. */
function cdnAgg(viewers: number, stalled: number): RealtimeAggregate {
  const agg = new RealtimeAggregate();
  for (let i = 0; i < viewers; i++)
    agg.addView({
      concurrent: true,
      startingUp: false,
      watchMs: 5000,
      rebufferMs: i < stalled ? 5000 : 0,
      bitrateBps: 0,
      startupMs: null,
    });
  return agg;
}

/** A tick of environment `envId` at `atMs` with these CDN rows ([viewers, stalled]). */
function tick(envId: string, atMs: number, cdns: Record<string, [number, number]>): RealtimeTotals {
  const overall = new RealtimeAggregate();
  const rows = new Map<string, RealtimeAggregate>();
  for (const [cdn, [viewers, stalled]] of Object.entries(cdns)) {
    rows.set(cdn, cdnAgg(viewers, stalled));
    overall.merge(cdnAgg(viewers, stalled));
  }
  return { atMs, envId, overall, dims: new Map([['cdn', rows]]) };
}

const T0 = 1_765_000_000_000;
const SECOND = 1000;

for (const kind of runnableStores('alert engine').filter((s) => s.kind !== 'http'))
  describe(`alert engine on ${kind.name}`, () => {
    let store: Store & SqlRunner;
    let registry: Registry;
    let envId: string;
    let n = 0;

    const engineOn = async (notifier: Notifier, rules: Rule[] = [], nowMs = T0) => {
      const repository = new AlertRepository(store);
      for (const r of rules) await repository.saveRule(r);
      const engine = new AlertEngine({
        repository,
        store,
        registry,
        notifier,
        filtered: embeddedFiltered as never,
        configRules: [],
        baseUrl: () => 'https://qoe.example',
        log: { info: () => {}, warn: () => {}, error: () => {} },
        now: () => nowMs,
      });
      await engine.start();
      return { engine, repository };
    };

    const rule = async (body: Record<string, unknown>): Promise<Rule> => ({
      id: `rule-${n++}`,
      envId,
      source: 'api',
      spec: await checkRule(
        {
          name: 'CDN rebuffering',
          metric: 'current_rebuffering_percentage',
          breakdown: 'cdn',
          channel_ids: ['ops'],
          condition: {
            type: 'threshold',
            operator: '>',
            value: 20,
            for_seconds: 10,
            resolve_for_seconds: 10,
            min_audience: 3,
          },
          ...body,
        },
        async (id) => id === 'ops' || id === 'oncall',
      ),
      createdAtMs: T0,
      updatedAtMs: T0,
    });

    // Each test in an environment of its own: the engines of one store load every rule stored in it.
    beforeEach(async () => {
      store ??= (await openStoreUnderTest(kind, join(dir, `${kind.kind}-store`))) as Store & SqlRunner;
      registry ??= await Registry.load(store);
      envId = (await registry.createEnvironment(`prod-${n}`)).id;
    });

    afterAll(async () => {
      await store?.close();
    });

    it('opens an incident for the stalling CDN only, after for_seconds, and resolves it', async () => {
      const notifier = new RecordingNotifier();
      const r = await rule({});
      const { engine, repository } = await engineOn(notifier, [r]);
      // cdn-a: 4 of 10 viewers stall (40 %); cdn-b: none; cdn-c: 2 of 2 stall but is below min_audience.
      const bad = { 'cdn-a': [10, 4], 'cdn-b': [10, 0], 'cdn-c': [2, 2] } as Record<string, [number, number]>;
      const good = { 'cdn-a': [10, 0], 'cdn-b': [10, 0], 'cdn-c': [2, 2] } as Record<
        string,
        [number, number]
      >;
      for (const s of [0, 5]) await engine.onTick(tick(envId, T0 + s * SECOND, bad));
      expect(notifier.batches).toEqual([]);
      await engine.onTick(tick(envId, T0 + 10 * SECOND, bad));
      expect(notifier.transitions()).toEqual(['trigger cdn-a']);
      const batch = notifier.batches[0]!;
      expect(batch).toMatchObject({
        envId,
        envName: registry.environment(envId)!.name,
        channelIds: ['ops'],
        rule: { id: r.id, severity: 'warning' },
      });
      const notice = batch.notices[0]!;
      expect(notice).toMatchObject({
        breakdown: 'cdn',
        breakdownValue: 'cdn-a',
        openValue: 40,
        threshold: 20,
        audience: 10,
      });
      expect(notice.dedupKey).toBe(`${notice.incidentId}:trigger`);
      expect(notice.links.incident).toBe(`https://qoe.example/ui/alerts/incidents/${notice.incidentId}`);
      // Worse, then good for 10 s: resolved, with the worst value kept.
      await engine.onTick(tick(envId, T0 + 15 * SECOND, { ...bad, 'cdn-a': [10, 7] }));
      for (const s of [20, 25]) await engine.onTick(tick(envId, T0 + s * SECOND, good));
      expect(notifier.transitions()).toEqual(['trigger cdn-a']);
      await engine.onTick(tick(envId, T0 + 30 * SECOND, good));
      expect(notifier.transitions()).toEqual(['trigger cdn-a', 'resolve cdn-a']);
      const stored = await repository.incident(notice.incidentId);
      expect(stored).toMatchObject({
        status: 'resolved',
        openValue: 40,
        worstValue: 70,
        resolvedAtMs: T0 + 30 * SECOND,
      });
      expect(
        (await repository.transitions(notice.incidentId)).map((t) => [t.transition, t.delivery]),
      ).toEqual([
        ['trigger', 'queued'],
        ['resolve', 'queued'],
      ]);
      await engine.close();
    });

    it('hands 50 series opening together to the notifier as one batch', async () => {
      const notifier = new RecordingNotifier();
      const { engine } = await engineOn(notifier, [
        await rule({ condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 0 } }),
      ]);
      const cdns = Object.fromEntries(
        Array.from({ length: 50 }, (_, i) => [`edge-${i}`, [4, 2] as [number, number]]),
      );
      await engine.onTick(tick(envId, T0, cdns));
      expect(notifier.batches).toHaveLength(1);
      expect(notifier.batches[0]!.notices).toHaveLength(50);
      await engine.close();
    });

    it('records a silenced incident and sends none of its transitions', async () => {
      const notifier = new RecordingNotifier();
      const r = await rule({
        condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 0, resolve_for_seconds: 0 },
      });
      const { engine, repository } = await engineOn(notifier, [r]);
      const silence: SilenceRecord = {
        id: 'maintenance',
        envId,
        ruleId: r.id,
        breakdown: null,
        breakdownValue: null,
        startsAtMs: T0 - 60 * SECOND,
        endsAtMs: T0 + 5 * SECOND,
        comment: 'CDN maintenance',
        createdAtMs: T0,
      };
      await engine.putSilence(silence);
      await engine.onTick(tick(envId, T0, { 'cdn-a': [10, 9] }));
      // The silence has ended when it resolves: a resolve of a muted trigger is muted too.
      await engine.onTick(tick(envId, T0 + 10 * SECOND, { 'cdn-a': [10, 0] }));
      expect(notifier.batches).toEqual([]);
      const { rows } = await repository.incidents({ envIds: [envId], ruleId: r.id, limit: 10, offset: 0 });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'resolved', muted: true, breakdownValue: 'cdn-a' });
      expect((await repository.transitions(rows[0]!.id)).map((t) => t.delivery)).toEqual(['muted', 'muted']);
      await engine.close();
    });

    it('sends a transition the notifier did not take again from the next engine, with the same key', async () => {
      const notifier = new RecordingNotifier();
      notifier.failing = true;
      const r = await rule({ condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 0 } });
      const first = await engineOn(notifier, [r]);
      await first.engine.onTick(tick(envId, T0, { 'cdn-a': [10, 9] }));
      const [inc] = first.engine.openIncidents(r.id);
      expect((await first.repository.transitions(inc!.id)).map((t) => t.delivery)).toEqual(['pending']);
      // As after a kill: a new engine on the same store.
      await first.engine.close();
      notifier.failing = false;
      const second = await engineOn(notifier, []);
      expect(notifier.batches.flatMap((b) => b.notices.map((x) => x.dedupKey))).toEqual([
        `${inc!.id}:trigger`,
      ]);
      expect((await second.repository.transitions(inc!.id)).map((t) => t.delivery)).toEqual(['queued']);
      await second.engine.close();
    });

    it('resumes an open incident after a restart: no second trigger, the same incident resolves', async () => {
      const notifier = new RecordingNotifier();
      const r = await rule({
        condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 0, resolve_for_seconds: 10 },
      });
      const first = await engineOn(notifier, [r]);
      await first.engine.onTick(tick(envId, T0, { 'cdn-a': [10, 9] }));
      // The resolve timer starts before the restart and carries on after it.
      await first.engine.onTick(tick(envId, T0 + 5 * SECOND, { 'cdn-a': [10, 0] }));
      await first.engine.close();
      const second = await engineOn(notifier, []);
      const [inc] = second.engine.openIncidents(r.id);
      expect(inc).toMatchObject({ status: 'open', breakdownValue: 'cdn-a' });
      await second.engine.onTick(tick(envId, T0 + 10 * SECOND, { 'cdn-a': [10, 0] }));
      await second.engine.onTick(tick(envId, T0 + 15 * SECOND, { 'cdn-a': [10, 0] }));
      expect(notifier.transitions()).toEqual(['trigger cdn-a', 'resolve cdn-a']);
      expect(new Set(notifier.batches.map((b) => b.notices[0]!.incidentId))).toEqual(new Set([inc!.id]));
      await second.engine.close();
    });

    it('acknowledges an open incident once, and refuses a resolved one', async () => {
      const notifier = new RecordingNotifier();
      const r = await rule({
        condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 0, resolve_for_seconds: 0 },
      });
      const { engine, repository } = await engineOn(notifier, [r]);
      await engine.onTick(tick(envId, T0, { 'cdn-a': [10, 9] }));
      const [inc] = engine.openIncidents(r.id);
      await engine.acknowledge(inc!);
      await engine.acknowledge(inc!);
      expect(notifier.transitions()).toEqual(['trigger cdn-a', 'acknowledge cdn-a']);
      expect(await repository.incident(inc!.id)).toMatchObject({
        status: 'acknowledged',
        acknowledgedAtMs: T0,
      });
      await engine.onTick(tick(envId, T0 + 5 * SECOND, { 'cdn-a': [10, 0] }));
      expect(await repository.incident(inc!.id)).toMatchObject({ status: 'resolved' });
      await expect(engine.acknowledge(inc!)).rejects.toMatchObject({ code: 'QOE_ERR_CONFLICT' });
      await engine.close();
    });

    it('escalates an unacknowledged incident once at after_minutes, to its channels; not an acknowledged one', async () => {
      const notifier = new RecordingNotifier();
      const r = await rule({
        condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 0 },
        escalation: { after_minutes: 5, channel_ids: ['oncall'] },
      });
      const { engine, repository } = await engineOn(notifier, [r]);
      const minute = 60 * SECOND;
      const stalling = { 'cdn-a': [10, 9], 'cdn-b': [10, 9] } as Record<string, [number, number]>;
      await engine.onTick(tick(envId, T0, stalling));
      const byCdn = new Map(engine.openIncidents(r.id).map((i) => [i.breakdownValue, i]));
      await engine.acknowledge(byCdn.get('cdn-b')!);
      for (let s = 10; s < 300; s += 10) await engine.onTick(tick(envId, T0 + s * SECOND, stalling));
      expect(notifier.transitions()).toEqual(['trigger cdn-a', 'trigger cdn-b', 'acknowledge cdn-b']);
      for (let s = 300; s <= 900; s += 10) await engine.onTick(tick(envId, T0 + s * SECOND, stalling));
      expect(notifier.transitions()).toEqual([
        'trigger cdn-a',
        'trigger cdn-b',
        'acknowledge cdn-b',
        'repeat cdn-a',
      ]);
      const escalation = notifier.batches.at(-1)!;
      expect(escalation.channelIds).toEqual(['oncall']);
      const incA = byCdn.get('cdn-a')!;
      expect(escalation.notices[0]!.dedupKey).toBe(`${incA.id}:escalate:1`);
      expect(await repository.incident(incA.id)).toMatchObject({
        status: 'open',
        escalatedAtMs: T0 + 5 * minute,
      });
      expect((await repository.transitions(incA.id)).map((t) => [t.transition, t.delivery])).toEqual([
        ['trigger', 'queued'],
        ['repeat', 'queued'],
      ]);
      // A restart does not send it again.
      await engine.close();
      const again = await engineOn(notifier, [], T0 + 20 * minute);
      await again.engine.onTick(tick(envId, T0 + 20 * minute, stalling));
      expect(notifier.transitions().filter((t) => t.startsWith('repeat'))).toEqual(['repeat cdn-a']);
      await again.engine.close();
    });

    it('sends an escalation that fell due while the server was down once, at the next start', async () => {
      const notifier = new RecordingNotifier();
      const r = await rule({
        condition: { type: 'threshold', operator: '>', value: 20, for_seconds: 0 },
        escalation: { after_minutes: 5 },
      });
      const first = await engineOn(notifier, [r]);
      await first.engine.onTick(tick(envId, T0, { 'cdn-a': [10, 9] }));
      await first.engine.close();
      // Down from minute 0 to minute 30; nothing ticks after the start.
      const second = await engineOn(notifier, [], T0 + 30 * 60 * SECOND);
      expect(notifier.transitions()).toEqual(['trigger cdn-a', 'repeat cdn-a']);
      expect(notifier.batches.at(-1)!.channelIds).toEqual(['ops']);
      await second.engine.close();
      const third = await engineOn(notifier, [], T0 + 31 * 60 * SECOND);
      expect(notifier.transitions()).toEqual(['trigger cdn-a', 'repeat cdn-a']);
      await third.engine.close();
    });

    it('evaluates a windowed view metric per CDN over the stored views that ended in its window', async () => {
      // Six views ending 1–6 minutes before the evaluation: three on cdn-a rebuffer 5 s of 20 s watched
      // (25 %), three on cdn-b none; one more on cdn-a ended 20 minutes before (outside the window).
      const now = T0 + 3_600_000;
      const view = (id: string, cdn: string, endMs: number, stallMs: number) => {
        const v = new ActiveView(envId, id, id, 1, 0, client, endMs - 20_000, endMs, { minStallMs: 250 });
        v.dims = { cdnHost: cdn, customData: [] } as unknown as ViewDimensions;
        v.machine.event('playrequest', endMs - 20_000, {} as never);
        v.machine.segment('startup', endMs - 20_000, 1000, zeroFacts);
        v.machine.segment('playing', endMs - 19_000, 14_000 - stallMs + 5000, playing720p);
        if (stallMs) v.machine.segment('rebuffering', endMs - stallMs, stallMs, zeroFacts);
        return viewRow(v, v.machine.metrics(true), now);
      };
      await store.upsertViews([
        ...[1, 2, 3].map((m) => view(`a${m}`, 'cdn-a', now - m * 60_000, 5000)),
        ...[4, 5, 6].map((m) => view(`b${m}`, 'cdn-b', now - m * 60_000, 0)),
        view('old', 'cdn-a', now - 20 * 60_000, 0),
      ]);
      const notifier = new RecordingNotifier();
      const r = await rule({
        metric: 'rebuffer_percentage',
        window_seconds: 900,
        breakdown: 'cdn',
        condition: { type: 'threshold', operator: '>', value: 10, for_seconds: 0, min_audience: 3 },
      });
      const { engine } = await engineOn(notifier, [r], now);
      await engine.evaluateWindow(r.id, now);
      const [inc] = engine.openIncidents(r.id);
      expect(engine.openIncidents(r.id)).toHaveLength(1);
      expect(inc).toMatchObject({ breakdownValue: 'cdn-a', audience: 3, metric: 'rebuffer_percentage' });
      expect(inc!.openValue).toBeCloseTo(25, 5);
      expect([...inc!.exampleViewIds].sort()).toEqual(['a1', 'a2', 'a3']);
      expect(notifier.batches[0]!.notices[0]!.links.series).toContain(
        '/ui/metrics?metric=rebuffer_percentage',
      );
      await engine.close();
    });
  });
