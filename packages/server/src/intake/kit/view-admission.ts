/**
 * Admission of new views, before the intake answers: each view in memory
 * costs the pipeline about 6 KB, so a public environment key sending beacons
 * of 1 000 new view ids must be refused before its 202, never by dropping
 * what was acknowledged. Three caps (docs/architecture.md "Failure modes"):
 * views in progress per environment, new views per second per environment
 * (token bucket), and views in memory overall, sized from the machine unless
 * set. A beacon that would pass one is refused whole (429, Retry-After, the
 * cap named); admin backfill is registered but never refused.
 *
 * The register mirrors the pipeline's lifecycle (views.finalAfterMs idle, or
 * views.endedRetentionMs after an explicit end), so it counts at least the
 * views the pipeline holds for this node's traffic. In the embedded server it
 * also asks the pipeline (`inPipeline`) whether an id it does not know is a
 * view already in memory (rebuilt from the log after a restart), so a
 * continuing view is never taken for a new one.
 */

import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../../config/config-schema.js';
import { ApiError } from '../../http/api-error.js';
import type { Metrics } from '../../observability/metrics.js';
import { RateLimiter } from './rate-limiter.js';

/** What one view in memory costs, with headroom over the ~5.7 KB measured (docs/benchmarks.md). */
export const BYTES_PER_VIEW = 8192;

/** The overall budget when `intake.views.maxInMemory` is 0: a quarter of RAM or half the heap limit, whichever is less. */
export function machineViewBudget(): number {
  const bytes = Math.min(totalmem() / 4, getHeapStatistics().heap_size_limit / 2);
  return Math.max(1000, Math.floor(bytes / BYTES_PER_VIEW));
}

interface Known {
  lastMs: number;
  ended: boolean;
}

export interface ViewRef {
  viewId: string;
  /** The beacon ends the view explicitly (viewend, sourcechange): it leaves memory sooner. */
  ended: boolean;
}

/** Event types that end a view in the pipeline (it then leaves memory after views.endedRetentionMs). */
const ENDING = new Set(['viewend', 'sourcechange']);

/** The views of one request: each id once, ended when any of its events ends it. */
export function viewRefs(items: Iterable<{ viewId: string; event?: string | undefined }>): ViewRef[] {
  const refs = new Map<string, ViewRef>();
  for (const { viewId, event } of items) {
    const ref = refs.get(viewId) ?? { viewId, ended: false };
    if (event !== undefined && ENDING.has(event)) ref.ended = true;
    refs.set(viewId, ref);
  }
  return [...refs.values()];
}

type AdmissionConfig = Config['intake']['views'];
type Lifecycle = Pick<Config['views'], 'finalAfterMs' | 'endedRetentionMs'>;

export class ViewAdmission {
  private readonly byEnv = new Map<string, Map<string, Known>>();
  private total = 0;
  private readonly newViews: RateLimiter;
  readonly budget: number;
  private lastSweepMs = 0;

  constructor(
    private readonly caps: AdmissionConfig,
    private readonly lifecycle: Lifecycle,
    metrics: Metrics,
    /** Embedded server: whether the pipeline holds this view in memory now. */
    private readonly inPipeline: (envId: string, viewId: string) => boolean = () => false,
  ) {
    this.budget = caps.maxInMemory > 0 ? caps.maxInMemory : machineViewBudget();
    this.newViews = new RateLimiter(caps.newPerSecondPerEnv, caps.newBurstPerEnv);
    const registers = [metrics.registry];
    const capGauge = new Gauge({
      name: 'openqoe_intake_view_caps',
      help: 'The caps on views (intake.views): max_in_memory (sized from the machine unless set), max_in_progress_per_env, new_per_second_per_env',
      labelNames: ['cap'],
      registers,
    });
    capGauge.labels('max_in_memory').set(this.budget);
    capGauge.labels('max_in_progress_per_env').set(caps.maxInProgressPerEnv);
    capGauge.labels('new_per_second_per_env').set(caps.newPerSecondPerEnv);
    this.refusals = new Counter({
      name: 'openqoe_intake_view_cap_refusals_total',
      help: 'Requests refused (429, before their 202) because their new views would pass a cap',
      labelNames: ['cap'],
      registers,
    });
    this.added = new Counter({
      name: 'openqoe_intake_new_views_total',
      help: 'New views admitted per environment; its rate is held against openqoe_intake_view_caps{cap="new_per_second_per_env"}',
      labelNames: ['env_id'],
      registers,
    });
    // Usage is read when /metrics is scraped, not kept up to date on the hot path. The total is
    // registered first, so its collect fills the per-environment gauge before that one is read.
    const total: Gauge = new Gauge({
      name: 'openqoe_intake_views_in_progress',
      help: 'Views in progress the intake has admitted (held in memory by the pipeline), against openqoe_intake_view_caps{cap="max_in_memory"}',
      registers,
      collect: () => {
        this.sweep(Date.now());
        total.set(this.total);
        perEnv.reset();
        for (const [env, views] of this.byEnv) perEnv.labels(env).set(views.size);
      },
    });
    const perEnv = new Gauge({
      name: 'openqoe_intake_env_views_in_progress',
      help: 'Views in progress per environment, against openqoe_intake_view_caps{cap="max_in_progress_per_env"}',
      labelNames: ['env_id'],
      registers,
    });
  }

  private readonly refusals: Counter;
  private readonly added: Counter;

  /**
   * Admits the views of one request of environment `envId`: throws 429 when
   * its new views would pass a cap (nothing registered then); else registers
   * them and returns a release that takes the new ones back (for a request
   * that then fails to publish). `exempt`: admin backfill, registered only.
   */
  admit(envId: string, views: readonly ViewRef[], exempt: boolean, nowMs = Date.now()): () => void {
    if (nowMs - this.lastSweepMs >= 1000) this.sweep(nowMs);
    let env = this.byEnv.get(envId);
    const fresh: ViewRef[] = [];
    for (const v of views) {
      const k = env?.get(v.viewId);
      if (k) {
        k.lastMs = nowMs;
        k.ended ||= v.ended;
      } else if (!fresh.some((f) => f.viewId === v.viewId)) fresh.push(v);
    }
    if (fresh.length === 0) return () => {};
    // Ids the register does not know but the pipeline holds (rebuilt after a restart) are not new views.
    const added = fresh.filter((v) => !this.inPipeline(envId, v.viewId));
    if (!exempt && added.length > 0) this.check(envId, env?.size ?? 0, added.length, nowMs);
    if (!env) {
      env = new Map();
      this.byEnv.set(envId, env);
    }
    for (const v of fresh) env.set(v.viewId, { lastMs: nowMs, ended: v.ended });
    this.total += fresh.length;
    if (added.length > 0) this.added.labels(envId).inc(added.length);
    return () => {
      for (const v of added) if (env.delete(v.viewId)) this.total--;
    };
  }

  private check(envId: string, inEnv: number, n: number, nowMs: number): void {
    const c = this.caps;
    if (c.maxInProgressPerEnv > 0 && inEnv + n > c.maxInProgressPerEnv)
      this.refuse('max_in_progress_per_env', 60, [
        `This environment has ${inEnv} views in progress; ${n} more would pass intake.views.maxInProgressPerEnv (${c.maxInProgressPerEnv})`,
      ]);
    if (this.total + n > this.budget)
      this.refuse('max_in_memory', 60, [
        `The server holds ${this.total} views in memory; ${n} more would pass intake.views.maxInMemory (${this.budget})`,
      ]);
    // Last, so a beacon refused by another cap spends none of the rate.
    const wait = this.newViews.take(envId, nowMs, n);
    if (wait > 0)
      this.refuse('new_per_second_per_env', wait, [
        `${n} new views would pass intake.views.newPerSecondPerEnv (${c.newPerSecondPerEnv}/s, burst ${c.newBurstPerEnv}) for this environment`,
      ]);
  }

  private refuse(cap: string, retryAfterS: number, messages: string[]): never {
    this.refusals.labels(cap).inc();
    throw new ApiError('QOE_ERR_RATE_LIMITED', messages, [], { 'retry-after': String(retryAfterS) });
  }

  /** Forgets views the pipeline has let go of by now: idle past finality, or ended and past retention. */
  private sweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    const { finalAfterMs, endedRetentionMs } = this.lifecycle;
    for (const [envId, views] of this.byEnv) {
      for (const [id, k] of views) {
        const idle = nowMs - k.lastMs;
        if (idle >= finalAfterMs || (k.ended && idle >= endedRetentionMs)) {
          views.delete(id);
          this.total--;
        }
      }
      if (views.size === 0) this.byEnv.delete(envId);
    }
  }
}
