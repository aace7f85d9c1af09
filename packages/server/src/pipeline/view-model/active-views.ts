/**
 * ActiveViews: the registry of views in progress. It owns each view's state
 * machine, its dimensions and its lifecycle, and it is what real-time
 * consumers (monitoring stream, live counts, dashboard) read. The items it
 * applies, and the sample fields a view's dimensions come from, are in
 * view-items.ts. Its changes go to one hook (`ViewHook`), which the pipeline
 * turns into its events (pipeline/pipeline-events.ts).
 *
 * Lifecycle (server clock, all delays configurable):
 * - items are applied in sequence order; an item ahead of a gap waits up to
 *   `gapTimeoutMs` for the missing ones, then the gap is skipped;
 * - no item for `idleCompleteMs` (60 s), an explicit end (viewend, source
 *   change) or a stall longer than `stuckRebufferMs` (5 min) completes the
 *   view provisionally: its metrics are emitted;
 * - an item for a completed view reopens it; its metrics are emitted again
 *   when it completes again (consumers upsert by view id);
 * - no item for `finalAfterMs` (60 min) makes it final and forgets it; a
 *   later item with the same view id starts a new view, `{viewId}~{n}`. A view
 *   that ended explicitly expects no more data: it is forgotten after
 *   `endedRetentionMs` (5 min, time enough for late retries), which keeps
 *   memory proportional to the views really in progress.
 */

import type { PlayerState } from '@openqoe/schema';
import type { IntakeMeta } from '../../bus/intake-record.js';
import type { Enrichment } from '../enrich/enricher.js';
import type { Followed } from './followed.js';
import { expandPoint, type PointState } from './normalize-points.js';
import { Timeline } from './timeline.js';
import type { DimensionSource, SourceItem, ViewItem } from './view-items.js';
import { type MachineRules, ViewMachine, type ViewMetrics } from './view-machine.js';

export interface ViewTimers {
  idleCompleteMs: number;
  finalAfterMs: number;
  /** How long a view ended explicitly (viewend, source change) stays in memory for late retries. */
  endedRetentionMs: number;
  stuckRebufferMs: number;
  gapTimeoutMs: number;
  /**
   * How long before its first receipt a view may start, on the corrected clock. A device time
   * outside [first receipt − this, latest receipt] is moved to that bound and the view flagged
   * `clock_corrected` (docs/metrics.md "Clocks"). Backfill, which trusts the device clock, is exempt;
   * Infinity applies no bounds.
   */
  clockSlackMs: number;
}

export const DEFAULT_TIMERS: ViewTimers = {
  idleCompleteMs: 60_000,
  finalAfterMs: 60 * 60_000,
  endedRetentionMs: 5 * 60_000,
  stuckRebufferMs: 5 * 60_000,
  gapTimeoutMs: 5_000,
  // The model alone applies no clock bounds (its tests script device times freely); the server's
  // configuration (views.clockSlackMs, 5 min) turns them on.
  clockSlackMs: Number.POSITIVE_INFINITY,
};

/** Dimensions of a view: from its latest sample, plus enrichment of its first beacon's client. */
export interface ViewDimensions {
  viewerId: string;
  sessionId: string;
  playerInstanceId: string;
  videoId: string;
  videoTitle: string;
  assetId: string;
  playbackId: string;
  liveStreamId: string;
  streamType: string;
  streamFormat: string;
  cdnHost: string;
  cdnProvider: string;
  playerName: string;
  playerSoftware: string;
  playerVersion: string;
  pageUrl: string;
  subPropertyId: string;
  experimentName: string;
  viewerUserId: string;
  sdkName: string;
  sdkVersion: string;
  customData: string[];
  videoCodec: string;
  videoBitrateBps: number;
  videoWidth: number;
  videoHeight: number;
}

/** What enrichment derives from a view's client address and user agent. */
export type ClientDimensions = Enrichment;

export type Enrich = (ip: string, userAgent: string) => ClientDimensions;

export const UNKNOWN_CLIENT: ClientDimensions = {
  browser: '',
  browserVersion: '',
  os: '',
  osVersion: '',
  deviceCategory: 'unknown',
  deviceBrand: '',
  deviceModel: '',
  country: '',
  region: '',
  city: '',
  asn: 0,
  asOrg: '',
  ip: '',
};

/**
 * Dimension strings repeat across thousands of views (titles, players,
 * CDNs); interning keeps one copy. The pool is cleared when full rather
 * than tracked per use: losing sharing for a while is cheaper than counting.
 */
const pool = new Map<string, string>();
const POOL_MAX = 200_000;
function intern(s: string): string {
  if (s === '') return '';
  const hit = pool.get(s);
  if (hit !== undefined) return hit;
  if (pool.size >= POOL_MAX) pool.clear();
  pool.set(s, s);
  return s;
}

export function dimensionsOf(d: DimensionSource): ViewDimensions {
  return {
    viewerId: intern(d.viewerId),
    sessionId: intern(d.sessionId),
    playerInstanceId: intern(d.playerInstanceId),
    videoId: intern(d.videoId),
    videoTitle: intern(d.videoTitle),
    assetId: intern(d.assetId),
    playbackId: intern(d.playbackId),
    liveStreamId: intern(d.liveStreamId),
    streamType: intern(d.streamType),
    streamFormat: intern(d.streamFormat),
    cdnHost: intern(d.cdnHost),
    cdnProvider: intern(d.cdnProvider),
    playerName: intern(d.playerName),
    playerSoftware: intern(d.playerSoftware),
    playerVersion: intern(d.playerVersion),
    pageUrl: intern(d.pageUrl),
    subPropertyId: intern(d.subPropertyId),
    experimentName: intern(d.experimentName),
    viewerUserId: intern(d.viewerUserId),
    sdkName: intern(d.sdkName),
    sdkVersion: intern(d.sdkVersion),
    customData: CUSTOM_DATA.map((k) => intern(d[k])),
    videoCodec: intern(d.videoCodec),
    videoBitrateBps: d.videoBitrateBps,
    videoWidth: d.videoWidth,
    videoHeight: d.videoHeight,
  };
}

/** The dimensions that are one field of the same name in a sample (all but `customData`). */
type ScalarDimension = Exclude<keyof ViewDimensions, 'customData'>;
const SCALAR_DIMENSIONS = [
  'viewerId',
  'sessionId',
  'playerInstanceId',
  'videoId',
  'videoTitle',
  'assetId',
  'playbackId',
  'liveStreamId',
  'streamType',
  'streamFormat',
  'cdnHost',
  'cdnProvider',
  'playerName',
  'playerSoftware',
  'playerVersion',
  'pageUrl',
  'subPropertyId',
  'experimentName',
  'viewerUserId',
  'sdkName',
  'sdkVersion',
  'videoCodec',
  'videoBitrateBps',
  'videoWidth',
  'videoHeight',
] as const satisfies readonly ScalarDimension[];
// A dimension added to ViewDimensions but not to the list above fails to compile here.
const everyScalarDimensionListed: Exclude<ScalarDimension, (typeof SCALAR_DIMENSIONS)[number]> extends never
  ? true
  : never = true;
void everyScalarDimensionListed;
const CUSTOM_DATA = [
  'customData1',
  'customData2',
  'customData3',
  'customData4',
  'customData5',
  'customData6',
  'customData7',
  'customData8',
  'customData9',
  'customData10',
] as const;

/** Whether `dimensionsOf(d)` would equal `dims`. */
export function sameDimensions(dims: ViewDimensions, d: DimensionSource): boolean {
  for (const key of SCALAR_DIMENSIONS) if (dims[key] !== d[key]) return false;
  for (let i = 0; i < CUSTOM_DATA.length; i++) if (dims.customData[i] !== d[CUSTOM_DATA[i]!]) return false;
  return true;
}

/** Where and when a beacon arrived: its intake record's header. */
export type Arrival = Omit<IntakeMeta, 'kind'>;

export type CompletionReason = 'idle' | 'explicit_end' | 'rebuffer_timeout' | 'final';

export class ActiveView {
  readonly machine: ViewMachine;
  dims: ViewDimensions | undefined;
  status: 'active' | 'completed' = 'active';
  completionReason: CompletionReason | undefined;
  nextSeq = 0;
  pending: SourceItem[] | undefined;
  pendingSinceMs = 0;
  lateItems = 0;
  /** The last segment applied in the current batch; its dimensions are taken once per batch. */
  latest: DimensionSource | undefined;
  readonly timeline = new Timeline();
  /** The real-time tracker's state of this view (pipeline/realtime). */
  realtime: Followed | undefined = undefined;
  /** What a point-in-time source needs to expand its next point (undefined for native views). */
  source: PointState | undefined;
  /** Earliest event time the view may have (-Infinity for backfill, which trusts the device clock). */
  readonly earliestMs: number;
  /** A device time of the view was moved into its bounds, or its clock is far off the server's. */
  clockCorrected: boolean;

  constructor(
    readonly envId: string,
    readonly viewId: string,
    readonly sourceViewId: string,
    readonly generation: number,
    /** One offset for the whole view, so durations between its items stay on the device's clock. */
    readonly clockOffsetMs: number,
    readonly client: ClientDimensions,
    readonly createdAtMs: number,
    public lastActivityMs: number,
    rules: MachineRules,
    clockSlackMs = Number.POSITIVE_INFINITY,
  ) {
    this.machine = new ViewMachine(rules);
    this.earliestMs = createdAtMs - clockSlackMs;
    this.clockCorrected = Math.abs(clockOffsetMs) > clockSlackMs;
  }

  /** Sent with ?backfill (history with trusted device clocks): stored, but never a view of "now". */
  get backfill(): boolean {
    return this.earliestMs === Number.NEGATIVE_INFINITY;
  }

  /**
   * Event time (server-corrected) of a device time of this view, within its bounds: not before its
   * first receipt − the clock slack, not after its latest receipt (the server's now when it came).
   */
  eventTime(deviceMs: number): number {
    if (this.backfill) return deviceMs + this.clockOffsetMs;
    return Math.max(this.earliestMs, Math.min(deviceMs + this.clockOffsetMs, this.lastActivityMs));
  }

  /**
   * Moves an item whose device time is out of the view's bounds into them (a segment so that it
   * ends by the latest receipt) and flags the view, so the timeline, metrics and outputs agree.
   */
  correctClock(item: ViewItem): void {
    if (this.backfill) return;
    if (item.kind === 'segment') {
      const at = item.deviceStartMs + this.clockOffsetMs;
      const fixed = Math.max(this.earliestMs, Math.min(at, this.lastActivityMs - item.durationMs));
      if (fixed !== at) {
        item.deviceStartMs = fixed - this.clockOffsetMs;
        this.clockCorrected = true;
      }
    } else {
      const at = item.deviceTimeMs + this.clockOffsetMs;
      const fixed = this.eventTime(item.deviceTimeMs);
      if (fixed !== at) {
        item.deviceTimeMs = fixed - this.clockOffsetMs;
        this.clockCorrected = true;
      }
    }
  }
}

export interface ViewSnapshot {
  view: ActiveView;
  metrics: ViewMetrics;
}

/** What the registry tells its one follower as views change (the calls allocate nothing). */
export interface ViewHook {
  /** Before any of the view's items is applied. */
  created(view: ActiveView): void;
  state(view: ActiveView, from: PlayerState, to: PlayerState): void;
  completed(view: ActiveView, reason: CompletionReason): void;
  reopened(view: ActiveView): void;
  final(view: ActiveView): void;
}

const PENDING_MAX = 256;

export class ActiveViews {
  private readonly views = new Map<string, ActiveView>();
  /** Views made final, by key, with how many generations the id has had (for `{viewId}~{n}`). */
  private readonly finalized = new Map<string, { generations: number; atMs: number }>();
  /** The follower of view changes: the pipeline's events (pipeline-events.ts). */
  hook: ViewHook | undefined;

  constructor(
    private readonly timers: ViewTimers = DEFAULT_TIMERS,
    private readonly rules: MachineRules = { minStallMs: 250 },
    private readonly enrich: Enrich = () => UNKNOWN_CLIENT,
  ) {}

  static key(envId: string, viewId: string): string {
    return `${envId}\u0000${viewId}`;
  }

  get size(): number {
    return this.views.size;
  }

  values(): IterableIterator<ActiveView> {
    return this.views.values();
  }

  get(envId: string, viewId: string): ActiveView | undefined {
    return this.views.get(ActiveViews.key(envId, viewId));
  }

  /** Applies one beacon's items of one view (any order); returns views completed by an explicit end. */
  apply(arrival: Arrival, sourceViewId: string, items: SourceItem[]): ViewSnapshot[] {
    const key = ActiveViews.key(arrival.envId, sourceViewId);
    let view = this.views.get(key);
    if (!view) {
      const past = this.finalized.get(key);
      const generation = past ? past.generations + 1 : 1;
      const viewId = generation === 1 ? sourceViewId : `${sourceViewId}~${generation}`;
      view = new ActiveView(
        arrival.envId,
        viewId,
        sourceViewId,
        generation,
        arrival.clockOffsetMs,
        this.enrich(arrival.ip, arrival.userAgent),
        arrival.receivedAtMs,
        arrival.receivedAtMs,
        this.rules,
        arrival.backfill ? Number.POSITIVE_INFINITY : this.timers.clockSlackMs,
      );
      // A new generation continues the old one's sequence numbers.
      if (past) view.nextSeq = Math.min(...items.map((i) => i.seq));
      this.views.set(key, view);
      this.hook?.created(view);
    }
    view.lastActivityMs = Math.max(view.lastActivityMs, arrival.receivedAtMs);
    if (view.status === 'completed') {
      view.status = 'active';
      view.completionReason = undefined;
      this.hook?.reopened(view);
    }
    const sorted = items.length > 1 ? [...items].sort((a, b) => a.seq - b.seq) : items;
    for (const item of sorted) this.accept(view, item, arrival.receivedAtMs);
    this.takeDimensions(view);
    return this.completeIfEnded(view);
  }

  private accept(view: ActiveView, item: SourceItem, nowMs: number): void {
    if (item.seq === view.nextSeq) {
      this.run(view, item);
      view.nextSeq++;
      this.drainPending(view);
    } else if (item.seq < view.nextSeq) {
      // Arrived after its gap was given up on: applied late rather than lost.
      view.lateItems++;
      this.run(view, item);
    } else {
      view.pending ??= [];
      if (view.pending.length === 0) view.pendingSinceMs = nowMs;
      view.pending.push(item);
      view.pending.sort((a, b) => a.seq - b.seq);
      if (view.pending.length > PENDING_MAX) this.skipGap(view);
    }
  }

  private takeDimensions(view: ActiveView): void {
    if (view.latest) {
      // Dimensions rarely change within a view: comparing them costs less than building (and later
      // collecting, from the old generation) a new object for every beacon.
      if (!view.dims || !sameDimensions(view.dims, view.latest)) view.dims = dimensionsOf(view.latest);
      view.latest = undefined;
    }
  }

  private drainPending(view: ActiveView): void {
    const p = view.pending;
    while (p && p.length > 0 && p[0]!.seq === view.nextSeq) {
      this.run(view, p.shift()!);
      view.nextSeq++;
    }
    if (p && p.length === 0) view.pending = undefined;
  }

  /** Gives up waiting for missing sequence numbers: applies what is pending in order. */
  private skipGap(view: ActiveView): void {
    const p = view.pending;
    if (!p || p.length === 0) return;
    view.nextSeq = p[0]!.seq;
    this.drainPending(view);
    if (view.pending?.length) this.skipGap(view);
  }

  private run(view: ActiveView, item: SourceItem): void {
    if (item.kind === 'point') {
      const { state, items } = expandPoint(view.viewId, view.source, item.point);
      view.source = state;
      item.expanded = items;
      for (const expanded of items) this.run(view, expanded);
      return;
    }
    const m = view.machine;
    const before = m.currentState;
    view.correctClock(item);
    view.timeline.add(item);
    if (item.kind === 'segment') {
      view.latest = item.facts;
      m.segment(item.state, view.eventTime(item.deviceStartMs), item.durationMs, item.facts);
    } else {
      m.event(item.type, view.eventTime(item.deviceTimeMs), item.facts);
      // An event carries the state the player is in now.
      if (item.state !== m.currentState && item.type !== 'viewend') {
        m.currentState = item.state;
        m.currentStateSinceMs = view.eventTime(item.deviceTimeMs);
      }
    }
    if (m.currentState !== before) this.hook?.state(view, before, m.currentState);
  }

  private completeIfEnded(view: ActiveView): ViewSnapshot[] {
    if (view.status === 'active' && view.machine.endedExplicitly && !view.pending) {
      return this.complete(view, 'explicit_end');
    }
    return [];
  }

  private complete(view: ActiveView, reason: CompletionReason): ViewSnapshot[] {
    view.status = 'completed';
    view.completionReason = reason;
    this.hook?.completed(view, reason);
    if (!view.machine.isView) return [];
    return [{ view, metrics: view.machine.metrics(true) }];
  }

  /**
   * Runs the timers: gap skips, idle completion, stuck rebuffers, finality.
   * Returns the views whose metrics must be (re)stored.
   */
  tick(nowMs: number): ViewSnapshot[] {
    const out: ViewSnapshot[] = [];
    const t = this.timers;
    for (const [key, view] of this.views) {
      if (view.pending && nowMs - view.pendingSinceMs >= t.gapTimeoutMs) {
        this.skipGap(view);
        this.takeDimensions(view);
        out.push(...this.completeIfEnded(view));
      }
      const idle = nowMs - view.lastActivityMs;
      if (view.status === 'active') {
        if (view.pending) continue;
        if (
          view.machine.currentState === 'rebuffering' &&
          view.machine.openStallMs + idle >= t.stuckRebufferMs
        ) {
          out.push(...this.complete(view, 'rebuffer_timeout'));
        } else if (idle >= t.idleCompleteMs) {
          out.push(...this.complete(view, 'idle'));
        }
      }
      const ended = view.status === 'completed' && view.completionReason === 'explicit_end';
      if (idle >= t.finalAfterMs || (ended && idle >= t.endedRetentionMs)) {
        if (view.pending) this.skipGap(view);
        this.takeDimensions(view);
        this.views.delete(key);
        this.finalized.set(key, { generations: view.generation, atMs: nowMs });
        this.hook?.final(view);
        // Anything applied since the last completion is stored once more as final.
        if (view.status === 'active' && view.machine.isView) {
          view.status = 'completed';
          view.completionReason = 'final';
          out.push({ view, metrics: view.machine.metrics(true) });
        }
      }
    }
    // Generations are only needed while a late item for the id may still come.
    for (const [key, f] of this.finalized) if (nowMs - f.atMs > 24 * 3_600_000) this.finalized.delete(key);
    return out;
  }
}
