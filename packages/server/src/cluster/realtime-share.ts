/**
 * Real-time numbers across pipeline workers. Each worker computes its
 * RealtimeTick per environment over its own partitions and publishes it on
 * core NATS (`<prefix>.realtime`; a lost tick is replaced by the next): the
 * mergeable aggregates — counts and sums, and the startup-time DDSketch in
 * its protobuf form — for all views and every breakdown row, plus each
 * view's dimensions and part, which filtered queries aggregate on demand.
 * The api node keeps every worker's latest tick and, on its own clock,
 * merges them into one tick for the monitoring API's history, so no answer
 * depends on one worker's share of the views.
 */
import { DDSketch } from '@datadog/sketches-js';
import type { NatsConnection, Subscription } from 'nats';
import { entry } from '../pipeline/realtime/map-entry.js';
import { type Outcome, RealtimeAggregate, type ViewTick } from '../pipeline/realtime/realtime-aggregate.js';
import type { RealtimeTick } from '../pipeline/realtime/realtime-tracker.js';
import type { ActiveView } from '../pipeline/view-model/active-views.js';

/** Views (or outcomes) per message: about 400 bytes each stays under the 1 MB default max_payload. */
const VIEWS_PER_MESSAGE = 1000;

const COUNTERS = [
  'concurrent',
  'startingUp',
  'watchMs',
  'rebufferMs',
  'bitrateSum',
  'bitrateN',
  'started',
  'startupFailed',
  'ebvs',
  'playbackFailed',
  'startupSum',
] as const;

interface WireAggregate {
  n: number[];
  /** The startup sketch (DDSketch protobuf, base64); empty when it holds nothing. */
  s: string;
  h: number[];
}

/** What the monitoring API reads of a view: its latest dimensions and its client. */
type WireView = Pick<ActiveView, 'dims' | 'client'>;

interface WireTick {
  worker: string;
  atMs: number;
  /** Length of the worker's window that ended at atMs: time sums are scaled to tickMs when merged. */
  windowMs: number;
  envId: string;
  part: number;
  parts: number;
  overall?: WireAggregate;
  dims?: [string, [string, WireAggregate][]][];
  views: { v: WireView; t: ViewTick }[];
  outcomes: { atMs: number; outcome: Outcome; v: WireView }[];
}

function toWire(a: RealtimeAggregate): WireAggregate {
  return {
    n: COUNTERS.map((k) => a[k]),
    s: a.startupCount > 0 ? Buffer.from(a.startupSketch().toProto()).toString('base64') : '',
    h: [...a.histogram],
  };
}

/** Counters that are time sums over the window: scaled to a common window length when merged. */
const TIME_SUMS: ReadonlySet<string> = new Set(['watchMs', 'rebufferMs']);

function fromWire(w: WireAggregate, scale: number): RealtimeAggregate {
  const a = new RealtimeAggregate();
  COUNTERS.forEach((k, i) => {
    a[k] = (w.n[i] ?? 0) * (TIME_SUMS.has(k) ? scale : 1);
  });
  if (w.s) {
    a.mergeSketch(DDSketch.fromProto(Buffer.from(w.s, 'base64')));
    // The protobuf form carries the bins, not the sum: the sum travels with the counters.
    a.startupSum = w.n[COUNTERS.indexOf('startupSum')] ?? 0;
  }
  w.h.forEach((n, i) => {
    a.histogram[i] = n;
  });
  return a;
}

const wireView = (v: ActiveView): WireView => ({ dims: v.dims, client: v.client });

/** The messages of one worker's tick of one environment (the aggregates ride in the first). */
export function encodeTick(worker: string, t: RealtimeTick, windowMs: number): Buffer[] {
  const views = t.views.map(({ view, tick }) => ({ v: wireView(view), t: tick }));
  const outcomes = t.outcomes.map((o) => ({ atMs: o.atMs, outcome: o.outcome, v: wireView(o.view) }));
  const parts = Math.max(
    1,
    Math.ceil(views.length / VIEWS_PER_MESSAGE),
    Math.ceil(outcomes.length / VIEWS_PER_MESSAGE),
  );
  const out: Buffer[] = [];
  for (let part = 0; part < parts; part++) {
    const msg: WireTick = {
      worker,
      atMs: t.atMs,
      windowMs,
      envId: t.envId,
      part,
      parts,
      views: views.slice(part * VIEWS_PER_MESSAGE, (part + 1) * VIEWS_PER_MESSAGE),
      outcomes: outcomes.slice(part * VIEWS_PER_MESSAGE, (part + 1) * VIEWS_PER_MESSAGE),
    };
    if (part === 0) {
      msg.overall = toWire(t.overall);
      msg.dims = [...t.dims].map(([d, rows]) => [d, [...rows].map(([v, a]) => [v, toWire(a)])]);
    }
    out.push(Buffer.from(JSON.stringify(msg)));
  }
  return out;
}

/** A worker's tick as received, complete once every part arrived. */
interface Received {
  atMs: number;
  parts: WireTick[];
  expected: number;
}

/** Ticks kept per worker: the current window's, and a few before it for a worker running late. */
const KEEP_TICKS = 3;

export class RealtimeMerger {
  /** envId → worker → its latest complete ticks, newest last. */
  private readonly latest = new Map<string, Map<string, Received[]>>();
  /** Ticks still missing parts: `${worker}|${envId}|${atMs}`. */
  private readonly assembling = new Map<string, Received>();
  private sub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly tickMs: number,
    private readonly onMerged: (t: RealtimeTick) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Workers tick on epoch multiples of tickMs; merging half a tick later lets every worker's tick arrive. */
  start(): void {
    this.sub = this.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (!err) this.receive(JSON.parse(Buffer.from(msg.data).toString('utf8')) as WireTick);
      },
    });
    const schedule = () => {
      if (this.stopped) return;
      const t = this.tickMs;
      const wait = t - ((this.now() - t / 2) % t);
      this.timer = setTimeout(() => {
        this.merge();
        schedule();
      }, wait);
      this.timer.unref();
    };
    schedule();
  }

  private bucket(atMs: number): number {
    return Math.round(atMs / this.tickMs);
  }

  private receive(w: WireTick): void {
    const key = `${w.worker}|${w.envId}|${w.atMs}`;
    const r = entry(this.assembling, key, () => ({
      atMs: w.atMs,
      parts: [] as WireTick[],
      expected: w.parts,
    }));
    r.parts.push(w);
    if (r.parts.length < r.expected) return;
    this.assembling.delete(key);
    const list = entry(
      entry(this.latest, w.envId, () => new Map<string, Received[]>()),
      w.worker,
      () => [],
    );
    list.push(r);
    while (list.length > KEEP_TICKS) list.shift();
    // Parts of older ticks that never completed are dropped once a later tick of the worker is whole.
    for (const [k, a] of this.assembling)
      if (k.startsWith(`${w.worker}|${w.envId}|`) && a.atMs < w.atMs) this.assembling.delete(k);
  }

  /**
   * Merges, per environment, each worker's tick of the window that ended
   * last (or its newest one if it is late), time sums scaled to tickMs so
   * workers whose timers fired a little apart weigh the same. A worker
   * silent for three ticks (stopped, restarting) drops out.
   */
  merge(): RealtimeTick[] {
    const nowMs = this.now();
    const target = Math.floor(nowMs / this.tickMs);
    const out: RealtimeTick[] = [];
    for (const [envId, workers] of this.latest) {
      const merged: RealtimeTick = {
        atMs: target * this.tickMs,
        envId,
        views: [],
        outcomes: [],
        overall: new RealtimeAggregate(),
        dims: new Map(),
      };
      for (const [worker, ticks] of workers) {
        const newest = ticks[ticks.length - 1]!;
        if (this.bucket(newest.atMs) < target - 3) {
          workers.delete(worker);
          continue;
        }
        const r = ticks.find((t) => this.bucket(t.atMs) === target) ?? newest;
        for (const p of r.parts) this.add(merged, p);
      }
      out.push(merged);
      this.onMerged(merged);
    }
    return out;
  }

  private add(merged: RealtimeTick, p: WireTick): void {
    const scale = p.windowMs > 0 ? this.tickMs / p.windowMs : 1;
    if (p.overall) merged.overall.merge(fromWire(p.overall, scale));
    for (const [d, rows] of p.dims ?? []) {
      const m = entry(merged.dims, d, () => new Map<string, RealtimeAggregate>());
      for (const [value, a] of rows) entry(m, value, () => new RealtimeAggregate()).merge(fromWire(a, scale));
    }
    for (const { v, t } of p.views)
      merged.views.push({
        view: v as ActiveView,
        tick: { ...t, watchMs: t.watchMs * scale, rebufferMs: t.rebufferMs * scale },
      });
    for (const o of p.outcomes)
      merged.outcomes.push({ atMs: o.atMs, outcome: o.outcome, view: o.v as ActiveView });
  }

  stop(): void {
    this.stopped = true;
    this.sub?.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
  }
}
