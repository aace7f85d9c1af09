/**
 * A pipeline worker's side of filtered real-time numbers: it learns the
 * filter sets the api nodes track (each api node's list, replaced by its
 * next one and forgotten when it stops coming), adds their aggregates over
 * its own views to every tick it publishes, and answers a scatter request
 * for a set not tracked yet from its tick of the asked window.
 */
import type { Msg, NatsConnection, Subscription } from 'nats';
import { entry } from '../pipeline/realtime/map-entry.js';
import { emptyTick, type RealtimeTick } from '../pipeline/realtime/realtime-tracker.js';
import type { RealtimeFilter } from '../query/realtime/monitoring-filters.js';
import {
  type AskReplyHead,
  type AskRequest,
  askSubject,
  type FilterSpec,
  type FiltersHead,
  filtersSubject,
  setItems,
  specFilter,
} from './filter-sets.js';
import { type Parted, PartsAssembler, packItems } from './realtime-wire.js';

/** An api node's list is dropped when it was not re-sent for this many ticks (the api node stopped). */
const API_SILENT_TICKS = 5;
/** Ticks kept per environment to answer scatter requests: the newest and the one before. */
const KEEP_TICKS = 2;

interface ApiList {
  seenMs: number;
  /** envId → key → the set and its filter. */
  sets: Map<string, Map<string, { spec: FilterSpec; filter: RealtimeFilter }>>;
}

export class WorkerFilterSets {
  private readonly apis = new Map<string, ApiList>();
  private readonly assembling = new PartsAssembler<FiltersHead & Parted>();
  private readonly ticks = new Map<string, { t: RealtimeTick; windowMs: number }[]>();
  private readonly subs: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: {
      prefix: string;
      worker: string;
      tickMs: number;
      maxPayload: number;
      onError: (err: Error) => void;
    },
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    const guard = (f: (m: Msg) => void) => (err: Error | null, m: Msg) => {
      if (err) return;
      try {
        f(m);
      } catch (e) {
        this.options.onError(e as Error);
      }
    };
    this.subs.push(
      this.nc.subscribe(filtersSubject(this.options.prefix), { callback: guard((m) => this.onFilters(m)) }),
      this.nc.subscribe(askSubject(this.options.prefix), { callback: guard((m) => this.onAsk(m)) }),
    );
  }

  private onFilters(m: Msg): void {
    const msg = m.json<FiltersHead & Parted>();
    const parts = this.assembling.add(`${msg.api}|${msg.seq}`, msg);
    if (!parts) return;
    const list: ApiList = { seenMs: this.now(), sets: new Map() };
    for (const p of parts)
      for (const spec of p.items as unknown as FilterSpec[]) {
        const filter = specFilter(spec);
        if (filter) entry(list.sets, spec.envId, () => new Map()).set(spec.key, { spec, filter });
      }
    this.apis.set(msg.api, list);
    this.assembling.drop((k) => k.startsWith(`${msg.api}|`) && Number(k.slice(msg.api.length + 1)) < msg.seq);
  }

  /** Keeps the tick for scatter requests. */
  remember(t: RealtimeTick, windowMs: number): void {
    const list = entry(this.ticks, t.envId, () => []);
    list.push({ t, windowMs });
    while (list.length > KEEP_TICKS) list.shift();
  }

  /** Items of every filter set the api nodes track in this tick's environment (union of their lists). */
  itemsFor(t: RealtimeTick): string[] {
    const oldest = this.now() - API_SILENT_TICKS * this.options.tickMs;
    const union = new Map<string, { filter: RealtimeFilter; dims: Set<string> }>();
    for (const [api, list] of this.apis) {
      if (list.seenMs < oldest) {
        this.apis.delete(api);
        continue;
      }
      for (const { spec, filter } of list.sets.get(t.envId)?.values() ?? []) {
        const u = entry(union, spec.key, () => ({ filter, dims: new Set<string>() }));
        for (const d of spec.dims) u.dims.add(d);
      }
    }
    return [...union].flatMap(([key, u]) => setItems(t, key, u.filter, [...u.dims]));
  }

  /** Answers from the tick of the asked window (or the newest): an environment without one answers zeros. */
  private onAsk(m: Msg): void {
    if (!m.reply) return;
    const req = m.json<AskRequest>();
    const filter = specFilter(req.spec);
    if (!filter) return;
    const ticks = this.ticks.get(req.spec.envId) ?? [];
    const bucket = (atMs: number) => Math.round(atMs / this.options.tickMs);
    const found = ticks.find((x) => bucket(x.t.atMs) === bucket(req.atMs)) ?? ticks[ticks.length - 1];
    const t = found?.t ?? emptyTick(req.spec.envId, req.atMs);
    const head: AskReplyHead = {
      worker: this.options.worker,
      atMs: t.atMs,
      windowMs: found?.windowMs ?? this.options.tickMs,
    };
    const items = setItems(t, req.spec.key, filter, req.spec.dims);
    for (const b of packItems(head, items, this.options.maxPayload)) this.nc.publish(m.reply, b);
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}
