#!/usr/bin/env node
/**
 * `npm run bench:anomaly`: how often anomaly rules page on normal traffic,
 * and how fast they catch a real step, for each sensitivity.
 *
 * Traffic: the generator's daily and weekly shape (shapedMinute: audience
 * peaking at 21:00 UTC and at the weekend, rebuffering a little worse at
 * peak, real stalls as noise) over --cdns CDN hosts, through the real
 * pipeline (native normaliser, view model, a RealtimeTracker ticking once a
 * minute) into the series history of a DuckDB store (in memory), each
 * written minute evaluated by the alert engine, on a simulated clock.
 *
 * Rules: per sensitivity (low, medium, high), one per-CDN rule and one on
 * the whole environment, `current_rebuffering_percentage`, every other
 * setting the default.
 *
 * 1. Warm-up: --warmup days (14) of history; nothing counted.
 * 2. False incidents: the next --normal days (7) of normal traffic; every
 *    incident opened is false. Series-minutes in `no_history` are counted
 *    too: a rule silent for lack of history does not pass.
 * 3. Delay: on the day after, --steps steps of +--step points of
 *    rebuffering on the second CDN host, 30 minutes each, spread over the
 *    day; the delay from the step's start to the per-CDN rule's trigger for
 *    that host (missed: no trigger during the step).
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { shapedMinute } from '@openqoe/generator';

const { values: args } = parseArgs({
  options: {
    peak: { type: 'string', default: '150' },
    cdns: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '14' },
    normal: { type: 'string', default: '7' },
    steps: { type: 'string', default: '8' },
    step: { type: 'string', default: '5' },
    seed: { type: 'string', default: '21' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:anomaly -- [--peak N] [--cdns C] [--warmup D] [--normal D] [--steps S] [--step P] [--seed S]
  --peak    viewers at the weekly peak (default 150; about a fifth at night)
  --cdns    CDN hosts the viewers are spread over (default 3)
  --warmup  days of history before anything is counted (default 14)
  --normal  days of normal traffic whose incidents are counted as false (default 7)
  --steps   injected steps on the day after, evenly spread (default 8)
  --step    the step, in points of rebuffering (default 5)
  --seed    the traffic's seed (default 21)`);
  process.exit(0);
}

const dist = new URL('../dist/', import.meta.url).href;
const load = (path) => import(`${dist}${path}`);
const { AlertEngine } = await load('alerts/alert-engine.js');
const { AlertRepository } = await load('alerts/alert-repository.js');
const { checkRule } = await load('alerts/alert-rules.js');
const { SeriesHistory } = await load('alerts/series-history.js');
const { Registry } = await load('auth/registry.js');
const { PipelineEvents } = await load('pipeline/pipeline-events.js');
const { RealtimeTracker } = await load('pipeline/realtime/realtime-tracker.js');
const { ActiveViews, DEFAULT_TIMERS } = await load('pipeline/view-model/active-views.js');
const { nativeItems } = await load('pipeline/view-model/normalize-native.js');
const { DuckDBStore } = await load('store/duckdb/duckdb-store.js');

const MINUTE = 60_000;
const DAY = 86_400_000;
const WARMUP = Number(args.warmup);
const NORMAL = Number(args.normal);
const STEPS = Number(args.steps);
const STEP_PCT = Number(args.step);
const hosts = Array.from({ length: Number(args.cdns) }, (_, i) => `cdn-${String.fromCharCode(97 + i)}`);
const faulty = hosts[1] ?? hosts[0];
const shape = {
  seed: Number(args.seed),
  envKey: 'bench',
  peakViewers: Number(args.peak),
  cdnHosts: hosts,
  baseRebufferPct: 0.5,
  peakRebufferPct: 1,
};
/** Monday 2026-02-02 00:00 UTC. */
const DAY0 = Date.UTC(2026, 1, 2);
const SENSITIVITIES = ['low', 'medium', 'high'];

const store = await DuckDBStore.open({
  path: ':memory:',
  checkpointThreshold: '16MB',
  memoryLimit: '',
  threads: 1,
});
const registry = await Registry.load(store);
const envId = (await registry.createEnvironment('bench')).id;
const rules = [];
for (const sensitivity of SENSITIVITIES)
  for (const breakdown of ['cdn', null])
    rules.push({
      id: `${sensitivity}-${breakdown ?? 'whole'}`,
      envId,
      source: 'api',
      spec: await checkRule(
        {
          name: `${sensitivity} ${breakdown ?? 'whole'}`,
          metric: 'current_rebuffering_percentage',
          breakdown,
          channel_ids: ['bench'],
          condition: { type: 'anomaly', sensitivity },
        },
        async () => true,
      ),
      createdAtMs: DAY0,
      updatedAtMs: DAY0,
    });
const repository = new AlertRepository(store);
for (const r of rules) await repository.saveRule(r);
/** Triggers as they come: rule, series, when. */
const triggers = [];
const notifier = {
  async notify(batch) {
    for (const n of batch.notices)
      if (n.transition === 'trigger')
        triggers.push({ rule: batch.rule.id, series: n.breakdownValue, atMs: Date.parse(n.startedAt) });
  },
  async hasChannel() {
    return true;
  },
};
let history;
const engine = new AlertEngine({
  repository,
  store,
  registry,
  notifier,
  filtered: { current: async () => null, breakdown: async () => ({ rows: new Map() }) },
  configRules: [],
  baseUrl: () => 'http://bench',
  log: { info: () => {}, warn: console.warn, error: console.error },
  history: { around: (...a) => history.around(...a) },
});
await engine.start();
/** Rule → series-minutes in `no_history` while counted. */
const silent = new Map(rules.map((r) => [r.id, 0]));
let counting = false;
history = new SeriesHistory(store, {
  historyDays: 28,
  valuesPerDimension: 1000,
  log: console,
  onMinute: async (m) => {
    await engine.onMinute(m);
    if (!counting) return;
    for (const r of rules)
      for (const v of engine.verdicts.get(r.id)?.values() ?? [])
        if (v.state === 'no_history') silent.set(r.id, silent.get(r.id) + 1);
  },
});

// The real pipeline on the simulated clock: a minute's beacons arrive at its end, then its tick.
const clock = { now: 0 };
const views = new ActiveViews(DEFAULT_TIMERS, { minStallMs: 250 });
const events = new PipelineEvents(views);
const tracker = new RealtimeTracker(views, { tickMs: MINUTE, attemptWindowMs: MINUTE }, () => clock.now);
tracker.subscribe(events);
let viewMinutes = 0;
async function play(fromMs, toMs, stepPct = {}) {
  for (let m = fromMs; m < toMs; m += MINUTE) {
    clock.now = m + MINUTE;
    const arrival = { envId, receivedAtMs: clock.now, clockOffsetMs: 0, ip: '', userAgent: '' };
    const batch = shapedMinute(shape, m, stepPct).map((b) => {
      const viewId = (b.samples[0] ?? b.events[0]).viewId;
      const items = nativeItems(b.samples, b.events);
      views.apply(arrival, viewId, items);
      return { arrival, sourceViewId: viewId, view: views.get(envId, viewId), items };
    });
    viewMinutes += batch.length;
    await events.deliver({ event: { beacons: batch, replay: false }, accepted: 0 });
    views.tick(clock.now);
    for (const t of tracker.closeWindow(clock.now)) await history.onTick(t);
  }
}

const started = performance.now();
const progress = (what) =>
  console.error(
    `${what}: ${((performance.now() - started) / 1000).toFixed(0)} s, ${viewMinutes} view-minutes`,
  );
for (let d = 0; d < WARMUP; d++) await play(DAY0 + d * DAY, DAY0 + (d + 1) * DAY);
progress(`warm-up (${WARMUP} days)`);
const normalFrom = DAY0 + WARMUP * DAY;
const normalTo = normalFrom + NORMAL * DAY;
counting = true;
for (let d = 0; d < NORMAL; d++) await play(normalFrom + d * DAY, normalFrom + (d + 1) * DAY);
counting = false;
progress(`normal (${NORMAL} days)`);
const falseOf = (ruleId) =>
  triggers.filter((t) => t.rule === ruleId && t.atMs >= normalFrom && t.atMs < normalTo);

// Steps spread over the next day, each 30 minutes then normal until the next.
const stepDay = normalTo;
const steps = Array.from(
  { length: STEPS },
  (_, i) => stepDay + Math.floor((i * DAY) / STEPS / MINUTE) * MINUTE,
);
for (const [i, at] of steps.entries()) {
  await play(i === 0 ? stepDay : steps[i - 1] + 30 * MINUTE, at);
  await play(at, at + 30 * MINUTE, { [faulty]: STEP_PCT });
}
await play(steps.at(-1) + 30 * MINUTE, stepDay + DAY);
progress(`steps (${STEPS} on ${faulty})`);

const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16);
console.log(
  `\nanomaly rules: ${hosts.length} CDN hosts, ${shape.peakViewers} viewers at the weekly peak; ${WARMUP} days of warm-up, ${NORMAL} normal days, ${STEPS} steps of +${STEP_PCT} points on ${faulty}`,
);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`,
);
console.log(
  `simulated ${WARMUP + NORMAL + 1} days (${viewMinutes} view-minutes) in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
);
console.log(
  '| sensitivity | rule | false incidents / day | no-history series-minutes | step delay (min): median, max | missed |',
);
console.log('|---|---|---|---|---|---|');
for (const sensitivity of SENSITIVITIES)
  for (const breakdown of ['cdn', 'whole']) {
    const id = `${sensitivity}-${breakdown}`;
    const fp = falseOf(id).length;
    let delays = '—';
    let missed = '—';
    if (breakdown === 'cdn') {
      const d = steps.map((at) => {
        const t = triggers.find(
          (x) => x.rule === id && x.series === faulty && x.atMs >= at && x.atMs <= at + 30 * MINUTE,
        );
        return t ? (t.atMs - at) / MINUTE : null;
      });
      const caught = d.filter((x) => x !== null).sort((a, b) => a - b);
      delays = caught.length ? `${caught[Math.floor((caught.length - 1) / 2)]}, ${caught.at(-1)}` : '—';
      missed = `${d.length - caught.length} of ${d.length}`;
      console.error(
        `${id}: delays by step start ${steps.map((at, i) => `${hhmm(at)} ${d[i] ?? 'missed'}`).join(', ')}`,
      );
    }
    console.log(
      `| ${sensitivity} | ${breakdown === 'cdn' ? 'per CDN' : 'whole environment'} | ${(fp / NORMAL).toFixed(2)} (${fp}) | ${silent.get(id)} | ${delays} | ${missed} |`,
    );
  }
for (const t of triggers.filter((x) => x.atMs >= normalFrom && x.atMs < normalTo))
  console.error(
    `false: ${t.rule} ${t.series ?? 'whole'} at day ${Math.floor((t.atMs - DAY0) / DAY)} ${hhmm(t.atMs)}`,
  );
await engine.close();
await store.close();
