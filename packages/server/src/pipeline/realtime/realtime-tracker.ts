/**
 * Real-time numbers from the views in progress, without scanning history.
 *
 * Each view's state, as the view model classifies it (startup, playing,
 * rebuffering, seeking, …), is followed on event time: between two state
 * changes the view is taken to stay in the state it last reported, so
 * "rebuffer time since the last tick ÷ watch time since the last tick" moves
 * as soon as a stall is reported, not when it ends. Time that arrives after
 * its tick has passed is not re-counted (the historical API has it).
 *
 * Every `tickMs` (aligned to epoch multiples) each environment gets a
 * RealtimeTick: the views' parts, outcome events of the trailing attempt
 * window, and the aggregates (all views and every breakdown row). Consumers
 * (the monitoring API's history) subscribe with `onTick`.
 *
 * It follows the pipeline's view events, replayed ones included (so each
 * view's class comes back after a restart), and live batches only (a
 * replayed one would note the last hour's failures as outcomes of now).
 */
import type { PipelineEvents, PipelineStage } from '../pipeline-events.js';
import type { ActiveView, ActiveViews } from '../view-model/active-views.js';
import { type Cls, FOLLOW_EBVS, FOLLOW_FAILURE, FOLLOW_START, Followed } from '../view-model/followed.js';
import { entry } from './map-entry.js';
import { type Outcome, RealtimeAggregate, type ViewTick } from './realtime-aggregate.js';
import { REALTIME_DIMENSIONS } from './realtime-catalog.js';

export interface RealtimeOptions {
  tickMs: number;
  /** Start attempts and failures count over this trailing window. */
  attemptWindowMs: number;
}

const WATCHING: ReadonlySet<Cls> = new Set(['startup', 'playing', 'rebuffering', 'seeking']);

export interface ViewPart {
  view: ActiveView;
  tick: ViewTick;
}

export interface OutcomeEvent {
  atMs: number;
  view: ActiveView;
  outcome: Outcome;
}

/** What every consumer of a tick reads: the aggregates of all views and of every breakdown row. */
export interface RealtimeTotals {
  atMs: number;
  envId: string;
  overall: RealtimeAggregate;
  /** dimension → value → aggregate. */
  dims: Map<string, Map<string, RealtimeAggregate>>;
}

/** A tick as one pipeline computes it: the totals and the views and outcomes they were made of. */
export interface RealtimeTick extends RealtimeTotals {
  views: ViewPart[];
  outcomes: OutcomeEvent[];
}

/** A tick of an environment without views or outcomes. */
export const emptyTick = (envId: string, atMs: number): RealtimeTick => ({
  atMs,
  envId,
  views: [],
  outcomes: [],
  overall: new RealtimeAggregate(),
  dims: new Map(),
});

/** The class a view is in now, by the view model's rules, and since when (event time). */
function classify(view: ActiveView, nowMs: number): { cls: Cls; since: number } {
  const m = view.machine;
  const last = m.lastTimeMs > 0 ? Math.min(m.lastTimeMs, nowMs) : nowMs;
  if (view.status !== 'active') return { cls: 'none', since: last };
  if (m.failed) return { cls: 'failed', since: last };
  const since = Math.min(m.currentStateSinceMs, nowMs);
  if (!m.playRequested && !m.started) return { cls: 'none', since };
  switch (m.currentState) {
    case 'startup':
      return { cls: m.started ? 'playing' : 'startup', since };
    case 'rebuffering':
      if (!m.started) return { cls: 'startup', since };
      return { cls: m.inSeek ? 'seeking' : 'rebuffering', since };
    case 'seeking':
      return { cls: m.started ? 'seeking' : 'startup', since };
    case 'playing':
    case 'ad':
      return { cls: 'playing', since };
    default:
      return { cls: 'none', since };
  }
}

export class RealtimeTracker implements PipelineStage {
  readonly name = 'realtime';
  /** Outcomes of the trailing attempt window, oldest first, as parallel arrays (one entry per start). */
  private outcomeAt: number[] = [];
  private outcomeView: ActiveView[] = [];
  private outcomeKind: Outcome[] = [];
  private windowStartMs: number;
  private readonly listeners: ((t: RealtimeTick) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly envs = new Set<string>();

  constructor(
    private readonly views: ActiveViews,
    private readonly options: RealtimeOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStartMs = now();
  }

  subscribe(events: PipelineEvents): void {
    const advance = (e: { view: ActiveView }) => this.advance(e.view);
    for (const e of ['viewCreated', 'viewState', 'viewReopened', 'viewFinal'] as const) events.on(e, advance);
    events.on('viewCompleted', ({ view }) => {
      this.advance(view);
      const m = view.machine;
      const f = view.realtime;
      if (f && m.playRequested && !m.started && !m.failed && !f.has(FOLLOW_EBVS)) {
        f.set(FOLLOW_EBVS);
        this.outcome(view, 'ebvs');
      }
    });
    events.on('batchApplied', ({ beacons, replay }) => {
      if (!replay) for (const b of beacons) if (b.view) this.advance(b.view);
    });
  }

  onTick(listener: (t: RealtimeTick) => void): void {
    this.listeners.push(listener);
  }

  /** Ticks on epoch multiples of tickMs, like every window in openqoe. */
  start(): void {
    const schedule = () => {
      const t = this.options.tickMs;
      const wait = t - (this.now() % t);
      this.timer = setTimeout(() => {
        this.closeWindow(this.now());
        schedule();
      }, wait);
      this.timer.unref();
    };
    schedule();
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
  }

  private outcome(view: ActiveView, outcome: Outcome): void {
    this.outcomeAt.push(this.now());
    this.outcomeView.push(view);
    this.outcomeKind.push(outcome);
  }

  /**
   * Backfilled history whose last event is older than the attempt window: stored, but none of it
   * is of now (its starts and failures would otherwise count as outcomes at its arrival).
   */
  private past(view: ActiveView, nowMs: number): boolean {
    return view.backfill && view.machine.lastTimeMs < nowMs - this.options.attemptWindowMs;
  }

  /** Credits the time of the class being left, and notes starts and failures. */
  private advance(view: ActiveView): void {
    const nowMs = this.now();
    if (this.past(view, nowMs)) return;
    let f = view.realtime;
    const { cls, since } = classify(view, nowMs);
    if (!f) {
      f = new Followed(cls, since);
      view.realtime = f;
    } else if (cls !== f.cls) {
      this.credit(f, since, nowMs);
      f.cls = cls;
      f.since = since;
    }
    const m = view.machine;
    if (m.started && !f.has(FOLLOW_START)) {
      f.set(FOLLOW_START);
      this.outcome(view, 'started');
    }
    if (m.failed && !f.has(FOLLOW_FAILURE)) {
      f.set(FOLLOW_FAILURE);
      this.outcome(view, m.failedBeforeStart ? 'startup_failed' : 'playback_failed');
    }
  }

  /** Adds the time in the current class from max(since, window start) to `untilMs`. */
  private credit(f: Followed, untilMs: number, nowMs: number): void {
    const from = Math.max(f.since, this.windowStartMs);
    const to = Math.min(untilMs, nowMs);
    if (to <= from) return;
    if (WATCHING.has(f.cls)) f.watchMs += to - from;
    if (f.cls === 'rebuffering') f.rebufferMs += to - from;
  }

  /** Closes the window at `nowMs`: one RealtimeTick per environment. (Not the stage's `tick`: it runs on its own clock.) */
  closeWindow(nowMs: number): RealtimeTick[] {
    const byEnv = new Map<string, RealtimeTick>();
    const envTick = (envId: string) => entry(byEnv, envId, () => emptyTick(envId, nowMs));
    // Views made final are gone from the registry: they were idle for long or ended minutes ago.
    for (const view of this.views.values()) {
      if (this.past(view, nowMs)) {
        // Its environment ticks all the same (with zeros), as one whose viewers left does.
        envTick(view.envId);
        continue;
      }
      this.advance(view);
      const f = view.realtime!;
      this.credit(f, nowMs, nowMs);
      const m = view.machine;
      const concurrent = WATCHING.has(f.cls);
      if (concurrent || f.watchMs > 0) {
        const bitrate = f.cls === 'playing' ? view.dims?.videoBitrateBps || m.currentBitrateBps : 0;
        const tick: ViewTick = {
          concurrent,
          startingUp: f.cls === 'startup',
          watchMs: f.watchMs,
          rebufferMs: f.rebufferMs,
          bitrateBps: bitrate,
          startupMs: concurrent && m.started ? m.videoStartupTimeMs : null,
        };
        envTick(view.envId).views.push({ view, tick });
      }
      f.watchMs = 0;
      f.rebufferMs = 0;
    }
    const oldest = nowMs - this.options.attemptWindowMs;
    let drop = 0;
    while (drop < this.outcomeAt.length && this.outcomeAt[drop]! <= oldest) drop++;
    if (drop > 0) {
      this.outcomeAt = this.outcomeAt.slice(drop);
      this.outcomeView = this.outcomeView.slice(drop);
      this.outcomeKind = this.outcomeKind.slice(drop);
    }
    for (let i = 0; i < this.outcomeAt.length; i++) {
      const view = this.outcomeView[i]!;
      envTick(view.envId).outcomes.push({ atMs: this.outcomeAt[i]!, view, outcome: this.outcomeKind[i]! });
    }
    this.windowStartMs = nowMs;

    const ticks = [...byEnv.values()];
    // Environments that had viewers keep ticking (with zeros) so charts fall to 0, not stop.
    for (const envId of this.envs) if (!byEnv.has(envId)) ticks.push(envTick(envId));
    for (const t of ticks) {
      aggregateInto(t);
      this.envs.add(t.envId);
      for (const l of this.listeners) l(t);
    }
    return ticks;
  }
}

type Keep = (v: ActiveView) => boolean;

/** Adds each of a tick's views and outcomes that pass `keep` to the aggregates `to` names for its view. */
function addTo(t: RealtimeTick, keep: Keep, to: (v: ActiveView) => RealtimeAggregate[]): void {
  for (const { view, tick } of t.views) if (keep(view)) for (const agg of to(view)) agg.addView(tick);
  for (const { view, outcome } of t.outcomes)
    if (keep(view)) for (const agg of to(view)) agg.addOutcome(outcome);
}

/** Fills a tick's overall aggregate and breakdown rows from its views and outcomes. */
function aggregateInto(t: RealtimeTick): void {
  const dimNames = Object.keys(REALTIME_DIMENSIONS);
  const rowOf = (view: ActiveView, d: string) =>
    entry(
      entry(t.dims, d, () => new Map<string, RealtimeAggregate>()),
      REALTIME_DIMENSIONS[d]!.read(view),
      () => new RealtimeAggregate(),
    );
  addTo(
    t,
    () => true,
    (view) => [t.overall, ...dimNames.map((d) => rowOf(view, d))],
  );
}

/** Aggregates a tick's views and outcomes that pass a filter (for filtered queries). */
export function aggregateFiltered(t: RealtimeTick, keep: Keep): RealtimeAggregate {
  const agg = new RealtimeAggregate();
  addTo(t, keep, () => [agg]);
  return agg;
}

/** One row per value of `dimension` among a tick's views and outcomes that pass a filter, and their total. */
export function breakdownFiltered(
  t: RealtimeTick,
  dimension: string,
  keep: Keep,
): { overall: RealtimeAggregate; rows: Map<string, RealtimeAggregate> } {
  const read = REALTIME_DIMENSIONS[dimension]!.read;
  const overall = new RealtimeAggregate();
  const rows = new Map<string, RealtimeAggregate>();
  addTo(t, keep, (view) => [overall, entry(rows, read(view), () => new RealtimeAggregate())]);
  return { overall, rows };
}
