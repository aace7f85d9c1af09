/**
 * Real-time numbers across pipeline workers. Each worker computes its
 * RealtimeTick per environment over its own partitions and publishes, on
 * core NATS (`<prefix>.realtime`; a lost tick is replaced by the next), only
 * mergeable aggregates: all views, every breakdown row, and each filter set
 * the api node tracks (realtime-filters.ts) — counts and sums, and the
 * startup-time DDSketch in its protobuf form. No view travels, so a tick's
 * size does not grow with the number of views.
 * The api node keeps every worker's latest ticks and, on its own clock,
 * merges them into one tick for the monitoring API's history, so no answer
 * depends on one worker's share of the views.
 */
import type { NatsConnection, Subscription } from 'nats';
import { entry } from '../pipeline/realtime/map-entry.js';
import { RealtimeAggregate } from '../pipeline/realtime/realtime-aggregate.js';
import type { RealtimeTick, RealtimeTotals } from '../pipeline/realtime/realtime-tracker.js';
import {
  fromWire,
  mergeRows,
  type Parted,
  PartsAssembler,
  packItems,
  rowItems,
  toWire,
  type WireItem,
} from './realtime-wire.js';

const partitionsOf = (worker: string) => worker.slice(worker.indexOf('@') + 1);

/** A filter set's numbers in a merged tick: all its views, and the dimensions it was broken down by. */
export interface SetAggregates {
  overall: RealtimeAggregate;
  dims: Map<string, Map<string, RealtimeAggregate>>;
}

/** The api node's tick: every worker's aggregates merged, per filter set only when every worker computed it. */
export interface MergedTick extends RealtimeTotals {
  /** filter set key → its aggregates. */
  filtered: Map<string, SetAggregates>;
}

interface WireTickHead {
  worker: string;
  atMs: number;
  /** Length of the worker's window that ended at atMs: time sums are scaled to tickMs when merged. */
  windowMs: number;
  envId: string;
}
type WireTick = WireTickHead & Parted;

/**
 * The messages of one worker's tick of one environment: the aggregates of
 * all views and breakdown rows, then `filtered` (items of the tracked filter
 * sets, from realtime-filters.ts), cut to fit `maxPayload`.
 */
export function encodeTick(
  worker: string,
  t: RealtimeTick,
  windowMs: number,
  filtered: readonly string[],
  maxPayload: number,
): Buffer[] {
  const items = [JSON.stringify({ k: 'o', a: toWire(t.overall) } satisfies WireItem)];
  for (const [d, rows] of t.dims) items.push(...rowItems((r) => ({ k: 'd', d, r }), rows));
  items.push(...filtered);
  const head: WireTickHead = { worker, atMs: t.atMs, windowMs, envId: t.envId };
  return packItems(head, items, maxPayload);
}

/** A worker's tick as received, once every part arrived. */
interface Received {
  atMs: number;
  windowMs: number;
  items: WireItem[];
}

/** Ticks kept per worker: the current window's, and a few before it for a worker running late. */
const KEEP_TICKS = 3;
/** A worker whose newest tick is this many ticks old has stopped (or restarts): it drops out. */
const SILENT_TICKS = 3;

/** Adds a worker's contribution to a filter set of the merged tick, counting who contributed what. */
class SetMerge {
  readonly overall = new RealtimeAggregate();
  overallFrom = 0;
  readonly dims = new Map<string, { rows: Map<string, RealtimeAggregate>; from: Set<number> }>();
}

export class RealtimeMerger {
  /** envId → worker → its latest complete ticks, newest last. */
  private readonly latest = new Map<string, Map<string, Received[]>>();
  /** Ticks still missing parts: `${worker}|${envId}|${atMs}`. */
  private readonly assembling = new PartsAssembler<WireTick>();
  private sub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly tickMs: number,
    private readonly onMerged: (t: MergedTick) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Workers tick on epoch multiples of tickMs; merging half a tick later lets every worker's tick arrive. */
  start(): void {
    this.sub = this.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (!err) this.receive(msg.data);
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

  /** The workers that published a tick of this environment lately: every answer must include them. */
  workers(envId: string): string[] {
    const target = Math.floor(this.now() / this.tickMs);
    return [...(this.latest.get(envId) ?? [])]
      .filter(([, ticks]) => this.bucket(ticks[ticks.length - 1]!.atMs) >= target - SILENT_TICKS)
      .map(([worker]) => worker);
  }

  /** Takes one message a worker published (encodeTick). */
  receive(data: Uint8Array): void {
    const w = JSON.parse(Buffer.from(data).toString('utf8')) as WireTick;
    const parts = this.assembling.add(`${w.worker}|${w.envId}|${w.atMs}`, w);
    if (!parts) return;
    const ofEnv = entry(this.latest, w.envId, () => new Map<string, Received[]>());
    // A worker started again (a new process for the same partitions: names are `pid@partitions`)
    // replaces its previous process at once: the dead one's last ticks would count its views twice
    // until it dropped out, and scatter requests would wait for it in vain.
    const owns = partitionsOf(w.worker);
    for (const other of ofEnv.keys())
      if (other !== w.worker && partitionsOf(other) === owns) ofEnv.delete(other);
    const list = entry(ofEnv, w.worker, () => []);
    list.push({ atMs: w.atMs, windowMs: w.windowMs, items: parts.flatMap((p) => p.items) });
    while (list.length > KEEP_TICKS) list.shift();
    // Parts of older ticks that never completed are dropped once a later tick of the worker is whole.
    const prefix = `${w.worker}|${w.envId}|`;
    this.assembling.drop((k) => k.startsWith(prefix) && Number(k.slice(prefix.length)) < w.atMs);
  }

  /**
   * Merges, per environment, each worker's tick of the window that ended
   * last (or its newest one if it is late), time sums scaled to tickMs so
   * workers whose timers fired a little apart weigh the same. A worker
   * silent for three ticks (stopped, restarting) drops out.
   */
  merge(): MergedTick[] {
    const nowMs = this.now();
    const target = Math.floor(nowMs / this.tickMs);
    const out: MergedTick[] = [];
    for (const [envId, workers] of this.latest) {
      const merged: MergedTick = {
        atMs: target * this.tickMs,
        envId,
        overall: new RealtimeAggregate(),
        dims: new Map(),
        filtered: new Map(),
      };
      const sets = new Map<string, SetMerge>();
      let contributors = 0;
      for (const [worker, ticks] of workers) {
        const newest = ticks[ticks.length - 1]!;
        if (this.bucket(newest.atMs) < target - SILENT_TICKS) {
          workers.delete(worker);
          continue;
        }
        const r = ticks.find((t) => this.bucket(t.atMs) === target) ?? newest;
        this.add(merged, sets, r, contributors++);
      }
      // A filter set (or one of its dimensions) only counts when every worker computed it.
      for (const [key, s] of sets) {
        if (s.overallFrom !== contributors) continue;
        const dims = new Map<string, Map<string, RealtimeAggregate>>();
        for (const [d, m] of s.dims) if (m.from.size === contributors) dims.set(d, m.rows);
        merged.filtered.set(key, { overall: s.overall, dims });
      }
      out.push(merged);
      this.onMerged(merged);
    }
    return out;
  }

  private add(merged: MergedTick, sets: Map<string, SetMerge>, r: Received, worker: number): void {
    const scale = r.windowMs > 0 ? this.tickMs / r.windowMs : 1;
    for (const item of r.items) {
      switch (item.k) {
        case 'o':
          merged.overall.merge(fromWire(item.a, scale));
          break;
        case 'd':
          mergeRows(
            entry(merged.dims, item.d, () => new Map<string, RealtimeAggregate>()),
            item.r,
            scale,
          );
          break;
        case 'fo': {
          const s = entry(sets, item.f, () => new SetMerge());
          s.overall.merge(fromWire(item.a, scale));
          s.overallFrom++;
          break;
        }
        case 'fd': {
          const s = entry(sets, item.f, () => new SetMerge());
          const m = entry(s.dims, item.d, () => ({
            rows: new Map<string, RealtimeAggregate>(),
            from: new Set<number>(),
          }));
          mergeRows(m.rows, item.r, scale);
          m.from.add(worker);
          break;
        }
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.sub?.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
  }
}
