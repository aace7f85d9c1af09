/**
 * The api node's filtered real-time numbers in a cluster (FilteredRealtime
 * over merged ticks). The views live on the workers, so:
 * - the filter sets being asked for are sent to every worker on
 *   `<prefix>.realtime.filters` when they change and again every tick (a
 *   restarted worker learns them within a tick); each worker adds their
 *   aggregates over its own views to its ticks, and a merged tick holds a
 *   set only when every worker computed it;
 * - a set the last tick does not hold (asked for the first time) is asked
 *   of every worker at once (scatter-gather over request/reply, from their
 *   tick of the same window). Every worker whose ticks the api node has seen
 *   lately must answer within `cluster.realtimeReplyTimeoutMs`, or the answer
 *   is refused (QOE_ERR_REALTIME_INCOMPLETE) rather than given from part of
 *   the views; the set is tracked all the same, so the next tick has it.
 */
import { createInbox, type NatsConnection } from 'nats';
import { ApiError } from '../http/api-error.js';
import { entry } from '../pipeline/realtime/map-entry.js';
import { RealtimeAggregate } from '../pipeline/realtime/realtime-aggregate.js';
import type { FilteredBreakdown, FilteredRealtime } from '../query/realtime/filtered-realtime.js';
import type { RealtimeFilter } from '../query/realtime/monitoring-filters.js';
import {
  type AskReplyHead,
  type AskRequest,
  askSubject,
  type FilterSpec,
  type FiltersHead,
  filterStrings,
  filtersSubject,
} from './filter-sets.js';
import type { MergedTick, SetAggregates } from './realtime-share.js';
import { fromWire, mergeRows, type Parted, PartsAssembler, packItems } from './realtime-wire.js';

/** A breakdown dimension nobody asked for in this long stops being computed (as tracked timeseries). */
const DIM_IDLE_MS = 10 * 60_000;
/** The history asks for its tracked sets every tick: a set it stopped asking for goes after a few. */
const SET_IDLE_TICKS = 3;
/**
 * Sets per environment the workers compute at most (the least recently asked
 * goes first): the history's 100 tracked timeseries and as many breakdowns.
 */
const SETS_MAX = 200;

interface Tracked {
  filter: RealtimeFilter;
  usedMs: number;
  dims: Map<string, number>;
}

export interface ClusterFilteredOptions {
  prefix: string;
  /** This api node's name, so workers keep several api nodes' lists apart. */
  api: string;
  tickMs: number;
  replyTimeoutMs: number;
  maxPayload: number;
}

export class ClusterFilteredRealtime implements FilteredRealtime<MergedTick> {
  private readonly sets = new Map<string, Map<string, Tracked>>();
  private seq = 0;
  private publishedMs = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: ClusterFilteredOptions,
    /** The workers whose ticks of an environment were seen lately (RealtimeMerger.workers). */
    private readonly workers: (envId: string) => string[],
    private readonly now: () => number = Date.now,
  ) {}

  atTick(t: MergedTick, filter: RealtimeFilter): RealtimeAggregate | undefined {
    this.use(t.envId, filter);
    return t.filtered.get(filter.key)?.overall;
  }

  async current(t: MergedTick, filter: RealtimeFilter): Promise<RealtimeAggregate> {
    this.use(t.envId, filter);
    return (t.filtered.get(filter.key) ?? (await this.ask(t, filter, []))).overall;
  }

  async breakdown(t: MergedTick, dimension: string, filter: RealtimeFilter): Promise<FilteredBreakdown> {
    this.use(t.envId, filter, dimension);
    const got = t.filtered.get(filter.key);
    const rows = got?.dims.get(dimension);
    if (got && rows) return { overall: got.overall, rows };
    const asked = await this.ask(t, filter, [dimension]);
    return { overall: asked.overall, rows: asked.dims.get(dimension)! };
  }

  /** Notes a set (and a dimension of it) as asked for; a new one is sent to the workers at once. */
  private use(envId: string, filter: RealtimeFilter, dimension?: string): void {
    const nowMs = this.now();
    const sets = entry(this.sets, envId, () => new Map<string, Tracked>());
    let tracked = sets.get(filter.key);
    let changed = false;
    if (!tracked) {
      if (sets.size >= SETS_MAX) {
        const idlest = [...sets].sort((a, b) => a[1].usedMs - b[1].usedMs)[0]!;
        sets.delete(idlest[0]);
      }
      tracked = { filter, usedMs: nowMs, dims: new Map() };
      sets.set(filter.key, tracked);
      changed = true;
    }
    tracked.usedMs = nowMs;
    if (dimension !== undefined) {
      changed ||= !tracked.dims.has(dimension);
      tracked.dims.set(dimension, nowMs);
    }
    if (changed) this.publish();
  }

  /** After every merged tick (of each environment): forgets what is no longer asked for and sends the list again. */
  onTick(): void {
    const nowMs = this.now();
    for (const [envId, sets] of this.sets) {
      for (const [key, s] of sets) {
        for (const [d, at] of s.dims) if (nowMs - at > DIM_IDLE_MS) s.dims.delete(d);
        if (s.dims.size === 0 && nowMs - s.usedMs > SET_IDLE_TICKS * this.options.tickMs) sets.delete(key);
      }
      if (sets.size === 0) this.sets.delete(envId);
    }
    // Once per tick, however many environments were merged.
    if (nowMs - this.publishedMs >= this.options.tickMs / 2) this.publish();
  }

  private publish(): void {
    const items: string[] = [];
    for (const [envId, sets] of this.sets)
      for (const [key, s] of sets) {
        const spec: FilterSpec = { envId, key, filters: filterStrings(s.filter), dims: [...s.dims.keys()] };
        items.push(JSON.stringify(spec));
      }
    this.publishedMs = this.now();
    const head: FiltersHead = { api: this.options.api, seq: ++this.seq };
    for (const b of packItems(head, items, this.options.maxPayload))
      this.nc.publish(filtersSubject(this.options.prefix), b);
  }

  /** Scatter-gather: every known worker's aggregates of the set at the tick's window, merged. */
  private ask(t: MergedTick, filter: RealtimeFilter, dims: string[]): Promise<SetAggregates> {
    const expected = this.workers(t.envId);
    const result: SetAggregates = {
      overall: new RealtimeAggregate(),
      dims: new Map(dims.map((d) => [d, new Map<string, RealtimeAggregate>()])),
    };
    if (expected.length === 0) return Promise.resolve(result);
    const { tickMs, replyTimeoutMs, prefix } = this.options;
    const answered = new Set<string>();
    const parts = new PartsAssembler<AskReplyHead & Parted>();
    const inbox = createInbox();
    return new Promise<SetAggregates>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        sub.unsubscribe();
        const missing = expected.filter((w) => !answered.has(w));
        if (missing.length === 0) return resolve(result);
        reject(
          new ApiError('QOE_ERR_REALTIME_INCOMPLETE', [
            `The real-time numbers are incomplete: pipeline worker${missing.length > 1 ? 's' : ''} ${missing.join(', ')} did not answer within ${replyTimeoutMs} ms (cluster.realtimeReplyTimeoutMs); these filters are computed from the next tick on, retry shortly`,
          ]),
        );
      };
      const sub = this.nc.subscribe(inbox, {
        callback: (err, m) => {
          if (err) return;
          const msg = m.json<AskReplyHead & Parted>();
          const whole = parts.add(msg.worker, msg);
          if (!whole || answered.has(msg.worker)) return;
          answered.add(msg.worker);
          const scale = msg.windowMs > 0 ? tickMs / msg.windowMs : 1;
          for (const item of whole.flatMap((p) => p.items)) {
            if (item.k === 'fo') result.overall.merge(fromWire(item.a, scale));
            else if (item.k === 'fd')
              mergeRows(
                entry(result.dims, item.d, () => new Map()),
                item.r,
                scale,
              );
          }
          if (expected.every((w) => answered.has(w))) finish();
        },
      });
      const timer = setTimeout(finish, replyTimeoutMs);
      const request: AskRequest = {
        atMs: t.atMs,
        spec: { envId: t.envId, key: filter.key, filters: filterStrings(filter), dims },
      };
      this.nc.publish(askSubject(prefix), JSON.stringify(request), { reply: inbox });
    });
  }
}
