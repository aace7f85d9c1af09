/**
 * One view's monitoring windows: splits what the view machine classified
 * (watch time, rebuffers, seeks) into fixed event-time windows aligned on
 * epoch multiples of the interval, and holds the view's instantaneous
 * records until they are emitted. The rules themselves stay in the view
 * machine; this only decides which window each span belongs to.
 */
import type { ActiveView } from '../../pipeline/view-model/active-views.js';
import type { EventFacts, SpanListener } from '../../pipeline/view-model/view-machine.js';

export interface WindowTotals {
  /** Window start, event time. */
  start: number;
  watchMs: number;
  rebufferMs: number;
  rebufferCount: number;
  seekTotalMs: number;
  seekCount: number;
  /** Set in the window where the first frame happened. */
  startLatencyMs: number | undefined;
}

export interface InstantRecord {
  kind: 'playback_error' | 'exit_before_video_start';
  atMs: number;
  valueMs: number;
}

const emptyTotals = (start: number): WindowTotals => ({
  start,
  watchMs: 0,
  rebufferMs: 0,
  rebufferCount: 0,
  seekTotalMs: 0,
  seekCount: 0,
  startLatencyMs: undefined,
});

const NO_WINDOWS: readonly WindowTotals[] = Object.freeze([]);

/** Receives data for windows that were already emitted (counted, not re-emitted). */
export type LateSink = (count: number) => void;

/**
 * Per view, so kept small: a view usually has one or two open windows (an
 * array, not a map) and rarely an instantaneous record (allocated on use).
 */
export class WindowTracker implements SpanListener {
  private windows: readonly WindowTotals[] = NO_WINDOWS;
  private instants: InstantRecord[] | undefined;
  /** The view was made final (forgotten by the registry): dropped once everything is emitted. */
  final = false;
  startReported = false;
  errorReported = false;
  ebvsReported = false;
  /** Playhead last reported by the view (for the exit-before-start value). */
  lastPlayheadMs = 0;
  private openStallStartMs = -1;
  private openStallCreditedMs = 0;

  constructor(
    readonly view: ActiveView,
    /** Partition bucket of the view id. */
    readonly partition: number,
    private readonly intervalMs: number,
    /** Windows starting before this were emitted already. */
    private readonly emittedBefore: () => number,
    private readonly late: LateSink,
  ) {}

  windowOf(timeMs: number): number {
    return Math.floor(timeMs / this.intervalMs) * this.intervalMs;
  }

  private totals(windowStart: number): WindowTotals | undefined {
    if (windowStart < this.emittedBefore()) {
      this.late(1);
      return undefined;
    }
    for (const w of this.windows) if (w.start === windowStart) return w;
    const t = emptyTotals(windowStart);
    // Exact-size arrays: a growing array reserves room for 17 entries, per view.
    this.windows = this.windows.length === 0 ? [t] : this.windows.concat(t);
    return t;
  }

  /** Adds to `field` of each window that [startMs, startMs + durationMs) overlaps its part of the span. */
  private split(startMs: number, durationMs: number, field: 'watchMs' | 'rebufferMs'): void {
    const end = startMs + durationMs;
    let at = startMs;
    while (at < end) {
      const w = this.windowOf(at);
      const upTo = Math.min(end, w + this.intervalMs);
      const t = this.totals(w);
      if (t) t[field] += upTo - at;
      at = upTo;
    }
  }

  /** A stall counts once, in the window where it began. */
  private countRebuffer(startMs: number): void {
    const first = this.totals(this.windowOf(startMs));
    if (first) first.rebufferCount++;
  }

  watched(startMs: number, durationMs: number): void {
    this.split(startMs, durationMs, 'watchMs');
  }

  rebuffered(startMs: number, durationMs: number): void {
    // Part of this stall may have been credited while it was still open (see creditOpenStall).
    const credited = this.openStallStartMs === startMs ? this.openStallCreditedMs : 0;
    this.openStallCreditedMs = 0;
    this.openStallStartMs = -1;
    if (credited === 0) this.countRebuffer(startMs);
    this.split(startMs + credited, durationMs - credited, 'rebufferMs');
  }

  /**
   * A stall still in progress when its window is due: the part known so far
   * is credited now (it already counts as a rebuffer), the rest when it ends.
   */
  creditOpenStall(startMs: number, knownMs: number): void {
    if (this.openStallStartMs !== startMs) {
      this.openStallStartMs = startMs;
      this.openStallCreditedMs = 0;
      this.countRebuffer(startMs);
    }
    if (knownMs <= this.openStallCreditedMs) return;
    this.split(startMs + this.openStallCreditedMs, knownMs - this.openStallCreditedMs, 'rebufferMs');
    this.openStallCreditedMs = knownMs;
  }

  sought(startMs: number, latencyMs: number): void {
    const t = this.totals(this.windowOf(startMs));
    if (!t) return;
    t.seekCount++;
    t.seekTotalMs += latencyMs;
  }

  failed(atMs: number, facts: EventFacts): void {
    if (this.errorReported) return;
    this.errorReported = true;
    const playhead = (facts as EventFacts & { playheadMs?: number }).playheadMs;
    this.instant({ kind: 'playback_error', atMs, valueMs: playhead ?? this.lastPlayheadMs });
  }

  startedAt(firstFrameAtMs: number, startLatencyMs: number): void {
    this.startReported = true;
    const t = this.totals(this.windowOf(firstFrameAtMs));
    if (t) t.startLatencyMs = Math.round(startLatencyMs);
  }

  instant(record: InstantRecord): void {
    // An error's record goes out with its window; once that window is emitted it is late like any data.
    if (record.kind === 'playback_error' && this.windowOf(record.atMs) < this.emittedBefore()) {
      this.late(1);
      return;
    }
    this.instants ??= [];
    this.instants.push(record);
  }

  /** Removes and returns the windows that end at or before `untilMs`, oldest first. */
  takeWindows(untilMs: number): WindowTotals[] {
    if (this.windows.length === 0) return [];
    const due = this.windows.filter((w) => w.start + this.intervalMs <= untilMs);
    if (due.length === 0) return due;
    const open = this.windows.filter((w) => w.start + this.intervalMs > untilMs);
    this.windows = open.length === 1 ? [open[0]!] : open.length ? open.slice() : NO_WINDOWS;
    return due.sort((a, b) => a.start - b.start);
  }

  /** Removes and returns instantaneous records due by `untilMs` (errors wait for their window's emission). */
  takeInstants(untilMs: number): InstantRecord[] {
    const all = this.instants;
    if (!all) return [];
    const isDue = (r: InstantRecord) =>
      r.kind === 'exit_before_video_start' || this.windowOf(r.atMs) + this.intervalMs <= untilMs;
    const due = all.filter(isDue);
    const rest = all.filter((r) => !isDue(r));
    this.instants = rest.length ? rest : undefined;
    return due;
  }

  get empty(): boolean {
    return this.windows.length === 0 && this.instants === undefined;
  }
}
