/**
 * One view's state machine: the single place where the metric rules of
 * docs/metrics.md are applied, into the running totals it keeps
 * (machine-totals.ts) that the metric catalog (view-metrics.ts) reports
 * from. Every source is normalised into two calls, in sequence order:
 *
 * - `segment(state, startMs, durationMs, …)`: the player was in a reported
 *   state for a time (a native interval sample, or the span between two
 *   transitions of an event-based source);
 * - `event(type, timeMs, …)`: something happened at a point in time.
 *
 * The reported state is only a claim; the machine decides what it counts as:
 * `rebuffering` before the first frame is startup, `rebuffering` inside a
 * seek is seek time, consecutive `rebuffering` segments (split by
 * heartbeats) are one stall, and a stall shorter than the minimum is playing
 * time, not a rebuffer.
 */
import type { PlayerEventType, PlayerState } from '@openqoe/schema';
import { MachineTotals, type ViewOutcome } from './machine-totals.js';
import { computeScores } from './scores.js';
import {
  computeMetrics,
  type MetricCatalog,
  VIEW_METRICS,
  type ViewMetrics,
  type ViewState,
} from './view-metrics.js';

export type { ViewMetrics } from './view-metrics.js';

export interface MachineRules {
  /** A stall shorter than this is not a rebuffer (reference: 250 ms). */
  minStallMs: number;
}

export const DEFAULT_RULES: MachineRules = { minStallMs: 250 };

/**
 * Told of time spans as the machine classifies them, so time-windowed
 * outputs (the monitoring stream) split the same numbers by event time
 * without applying the rules a second time.
 */
export interface SpanListener {
  /** Watch time (startup, playing, rebuffering, seeking, ad) over [startMs, startMs + durationMs). */
  watched(startMs: number, durationMs: number): void;
  /** A stall that counted as a rebuffer, once it ended: contiguous from startMs. */
  rebuffered(startMs: number, durationMs: number): void;
  /** A seek that ended (playback resumed), with its latency. */
  sought(startMs: number, latencyMs: number): void;
  /** The view's first fatal error (not a business exception), with the event's facts. */
  failed(atMs: number, facts: EventFacts): void;
}

/** What a segment carries besides its state and span. All optional facts are 0 when unknown. */
export interface SegmentFacts {
  videoBitrateBps: number;
  videoWidth: number;
  videoHeight: number;
  playerWidth: number;
  playerHeight: number;
  droppedFrames: number;
  liveLatencyMs: number;
  requestCount: number;
  requestFailedCount: number;
  requestBytes: number;
  requestTtfbTotalMs: number;
  /** Requests whose time to first byte is known; when absent, every request's is (native beacons). */
  requestTtfbCount?: number;
  requestTransferTotalMs: number;
  playerStartupTimeMs: number;
  pageLoadTimeMs: number;
  /** Playhead at the segment's end, the content's duration when known (VOD), and live or VOD. */
  videoTimeEndMs: number;
  videoDurationMs?: number | undefined;
  streamType: string;
  /** WebRTC receive statistics as of the segment's end; 0 when unknown or not WebRTC. */
  framesPerSecond: number;
  jitterMs: number;
  /** Cumulative since the connection began. */
  packetsLost: number;
  packetLossRatio: number;
  roundTripTimeMs: number;
}

export interface EventFacts {
  errorCode: string;
  errorMessage: string;
  errorFatal: boolean;
  errorBusiness: boolean;
  videoBitrateBps: number;
  /** For a quality change, the new rendition's size; else 0. */
  videoWidth: number;
  videoHeight: number;
}

const WATCHED: ReadonlySet<PlayerState> = new Set(['startup', 'playing', 'rebuffering', 'seeking', 'ad']);

export class ViewMachine extends MachineTotals {
  currentState: PlayerState = 'setup';
  currentStateSinceMs = 0;

  private stallOpen = false;
  private stallMs = 0;
  private stallStartMs = 0;
  private seekOpen = false;
  private seekMs = 0;
  private seekStartMs = 0;
  private lastBitrateBps = 0;
  /** Set by outputs that split metrics by time (see SpanListener). */
  spans: SpanListener | undefined;

  constructor(private readonly rules: MachineRules = DEFAULT_RULES) {
    super();
  }

  /** Rebuffering time of the stall in progress (for the stuck-rebuffer rule). */
  get openStallMs(): number {
    return this.stallOpen ? this.stallMs : 0;
  }

  /** Event time at which the stall in progress began (meaningful while `openStallMs` > 0). */
  get openStallStartMs(): number {
    return this.stallStartMs;
  }

  private markPlayRequest(atMs: number, byEvent: boolean): void {
    if (this.playRequested || this.started) return;
    this.playRequested = true;
    this.playRequestedAtMs = atMs;
    this.playRequestedByEvent = byEvent;
  }

  private markFirstFrame(atMs: number): void {
    if (this.started) return;
    this.started = true;
    this.firstFrameAtMs = atMs;
  }

  private closeStall(): void {
    if (!this.stallOpen) return;
    if (this.stallMs >= this.rules.minStallMs) {
      this.rebufferCount++;
      this.rebufferMs += this.stallMs;
      this.spans?.rebuffered(this.stallStartMs, this.stallMs);
    } else {
      // Too short to be felt as a stall: the time is counted as playing.
      this.playingMs += this.stallMs;
    }
    this.stallOpen = false;
    this.stallMs = 0;
  }

  private closeSeek(): void {
    if (!this.seekOpen) return;
    this.seekCount++;
    this.seekTotalMs += this.seekMs;
    this.spans?.sought(this.seekStartMs, this.seekMs);
    this.seekOpen = false;
    this.seekMs = 0;
  }

  segment(state: PlayerState, startMs: number, durationMs: number, f: SegmentFacts): void {
    const d = Math.max(0, durationMs);
    this.lastTimeMs = Math.max(this.lastTimeMs, startMs + d);
    if (state !== this.currentState) {
      this.currentState = state;
      this.currentStateSinceMs = startMs;
    }
    this.droppedFrames += f.droppedFrames;
    if (f.liveLatencyMs > 0) {
      this.liveLatencySum += f.liveLatencyMs;
      this.liveLatencyCount++;
    }
    this.requestCount += f.requestCount;
    this.requestFailedCount += f.requestFailedCount;
    this.requestBytes += f.requestBytes;
    this.requestTtfbTotalMs += f.requestTtfbTotalMs;
    this.requestTtfbCount += f.requestTtfbCount ?? f.requestCount;
    this.requestTransferTotalMs += f.requestTransferTotalMs;
    if (this.playerStartupTimeMs === 0 && f.playerStartupTimeMs > 0)
      this.playerStartupTimeMs = f.playerStartupTimeMs;
    if (this.pageLoadTimeMs === 0 && f.pageLoadTimeMs > 0) this.pageLoadTimeMs = f.pageLoadTimeMs;
    if (f.videoDurationMs) this.contentDurationMs = f.videoDurationMs;
    if (f.streamType === 'live') this.live = true;
    if (state === 'startup') this.playRequestSeen = true;
    if (f.framesPerSecond > 0 || f.jitterMs > 0 || f.roundTripTimeMs > 0 || f.packetsLost > 0)
      this.accountWebRtc(d, f);
    if (WATCHED.has(state)) {
      this.watchMs += d;
      this.spans?.watched(startMs, d);
    }

    switch (state) {
      case 'startup':
      case 'rebuffering':
      case 'seeking':
        if (!this.started) {
          // Waiting before the first frame means a play was asked for (the view counts), and it
          // is startup once the request itself was seen: a startup state or a play-request event.
          // A stall or seek alone (a view whose first events were lost) makes no startup time.
          this.markPlayRequest(startMs, false);
          if (this.playRequestSeen) this.startupMs += d;
        } else if (state === 'seeking' || this.seekOpen) {
          this.closeStall();
          if (!this.seekOpen) this.seekStartMs = startMs;
          this.seekOpen = true;
          this.seekMs += d;
        } else {
          if (!this.stallOpen) this.stallStartMs = startMs;
          this.stallOpen = true;
          this.stallMs += d;
        }
        break;
      case 'playing':
      case 'ad':
        // A pre-roll's first frame ends video startup, as the content's would.
        this.markPlayRequest(startMs, false);
        this.markFirstFrame(startMs);
        this.closeStall();
        this.closeSeek();
        if (state === 'ad') this.adMs += d;
        else {
          this.playingMs += d;
          if (f.videoTimeEndMs > this.furthestPlayheadMs) this.furthestPlayheadMs = f.videoTimeEndMs;
          this.accountRendition(d, f);
        }
        break;
      case 'paused':
        this.closeStall();
        this.closeSeek();
        this.pausedMs += d;
        break;
      default:
        // setup, ready: before the view; error, ended, ebvs: after it. None is watch time.
        this.closeStall();
        this.closeSeek();
    }
  }

  private accountRendition(d: number, f: SegmentFacts): void {
    if (f.videoBitrateBps > 0) {
      this.bitrateWeighted += f.videoBitrateBps * d;
      this.bitrateMs += d;
      if (this.lastBitrateBps === 0) this.lastBitrateBps = f.videoBitrateBps;
    }
    if (f.videoWidth > 0 && f.playerWidth > 0 && d > 0) {
      // Scale factor on the limiting axis: 320×240 shown in 640×480 is 100 % upscale.
      const scale = Math.min(
        f.playerWidth / f.videoWidth,
        f.videoHeight > 0 && f.playerHeight > 0 ? f.playerHeight / f.videoHeight : Number.POSITIVE_INFINITY,
      );
      const up = Math.max(0, scale - 1);
      const down = Math.max(0, 1 - scale);
      this.upscaleWeighted += up * d;
      this.downscaleWeighted += down * d;
      this.scaleMs += d;
      if (up > this.maxUpscale) this.maxUpscale = up;
      if (down > this.maxDownscale) this.maxDownscale = down;
    }
  }

  /**
   * A segment with WebRTC stats: each figure is weighted by the segment's
   * length. Fps and RTT count only where reported (> 0); jitter and loss
   * ratio count in every segment that carried stats, since 0 is a real value
   * for them. The sums exist only for WebRTC views, keeping others small.
   */
  private accountWebRtc(d: number, f: SegmentFacts): void {
    this.rtc ??= {
      fpsWeighted: 0,
      fpsMs: 0,
      jitterWeighted: 0,
      lossRatioWeighted: 0,
      statsMs: 0,
      rttWeighted: 0,
      rttMs: 0,
      maxPacketsLost: 0,
    };
    const r = this.rtc;
    if (f.framesPerSecond > 0) {
      r.fpsWeighted += f.framesPerSecond * d;
      r.fpsMs += d;
    }
    r.jitterWeighted += f.jitterMs * d;
    r.lossRatioWeighted += f.packetLossRatio * d;
    r.statsMs += d;
    if (f.roundTripTimeMs > 0) {
      r.rttWeighted += f.roundTripTimeMs * d;
      r.rttMs += d;
    }
    r.maxPacketsLost = Math.max(r.maxPacketsLost, f.packetsLost);
  }

  event(type: PlayerEventType, timeMs: number, f: EventFacts): void {
    this.lastTimeMs = Math.max(this.lastTimeMs, timeMs);
    switch (type) {
      case 'playrequest':
      case 'play':
      case 'adstart':
        this.playRequestSeen = true;
        this.markPlayRequest(timeMs, true);
        break;
      case 'firstframe':
        this.markPlayRequest(timeMs, true);
        this.markFirstFrame(timeMs);
        break;
      case 'seekstart':
        if (this.started) {
          this.closeStall();
          if (!this.seekOpen) this.seekStartMs = timeMs;
          this.seekOpen = true;
        }
        break;
      case 'rebufferend':
        this.closeStall();
        break;
      case 'error':
        this.closeStall();
        this.closeSeek();
        if (f.errorBusiness) this.businessException = true;
        else if (f.errorFatal && !this.failed) {
          this.failed = true;
          this.failedBeforeStart = !this.started;
          this.errorCode = f.errorCode;
          this.errorMessage = f.errorMessage;
          this.spans?.failed(timeMs, f);
        }
        if (!this.errorCode && (f.errorFatal || f.errorBusiness)) {
          this.errorCode = f.errorCode;
          this.errorMessage = f.errorMessage;
        }
        break;
      case 'ended':
        this.closeStall();
        this.closeSeek();
        break;
      case 'viewend':
      case 'sourcechange':
        this.closeStall();
        this.closeSeek();
        this.endedExplicitly = true;
        break;
      case 'qualitychange':
        if (f.videoBitrateBps > 0) {
          if (this.lastBitrateBps > 0 && f.videoBitrateBps !== this.lastBitrateBps) {
            this.renditionChanges++;
            if (f.videoBitrateBps > this.lastBitrateBps) this.upshifts++;
            else this.downshifts++;
          }
          this.lastBitrateBps = f.videoBitrateBps;
        }
        break;
      default:
        break;
    }
  }

  /** True once the view counts as a view: a play was requested (or playback began). */
  get isView(): boolean {
    return this.playRequested || this.started;
  }

  /** Startup time once the first frame came and the play request is known; else null. */
  get videoStartupTimeMs(): number | null {
    const measured = this.started && this.playRequested && (this.startupMs > 0 || this.playRequestedByEvent);
    if (!measured) return null;
    return Math.max(
      this.startupMs,
      this.playRequestedByEvent ? this.firstFrameAtMs - this.playRequestedAtMs : 0,
    );
  }

  /** Inside a seek: waiting there is seek time, not rebuffering. */
  get inSeek(): boolean {
    return this.seekOpen;
  }

  /** Indicated bitrate of the rendition playing now (0 when unknown). */
  get currentBitrateBps(): number {
    return this.lastBitrateBps;
  }

  /**
   * The metrics as they stand, treating open stalls and seeks as closed, so
   * the machine itself is not changed (more data may reopen the view).
   * `complete` decides whether a view that never started is an exit before
   * video start or still starting. Each metric is computed by its catalog
   * entry (view-metrics.ts) from the state this gathers.
   */
  metrics(complete: boolean, catalog: MetricCatalog = VIEW_METRICS): ViewMetrics {
    let rebufferCount = this.rebufferCount;
    let rebufferMs = this.rebufferMs;
    let playingMs = this.playingMs;
    if (this.stallOpen) {
      if (this.stallMs >= this.rules.minStallMs) {
        rebufferCount++;
        rebufferMs += this.stallMs;
      } else playingMs += this.stallMs;
    }
    let outcome: ViewOutcome;
    if (this.failed) outcome = 'failure';
    else if (this.businessException) outcome = 'business_exception';
    else if (this.started) outcome = 'success';
    else if (complete && this.playRequested) outcome = 'ebvs';
    else outcome = 'in_progress';
    const ebvsDurationMs = outcome === 'ebvs' ? Math.max(0, this.lastTimeMs - this.playRequestedAtMs) : null;
    const videoStartupTimeMs = this.videoStartupTimeMs;
    const scores = computeScores({
      outcome: outcome === 'in_progress' ? 'success' : outcome,
      ebvsDurationMs: ebvsDurationMs ?? 0,
      videoStartupTimeMs,
      rebufferCount,
      rebufferFraction: this.watchMs > 0 ? rebufferMs / this.watchMs : 0,
      meanUpscale: this.scaleMs > 0 ? this.upscaleWeighted / this.scaleMs : 0,
      maxUpscale: this.maxUpscale,
      started: this.started,
    });
    const state: ViewState = {
      m: this,
      outcome,
      rebufferCount,
      rebufferMs,
      playingMs,
      seekCount: this.seekCount + (this.seekOpen ? 1 : 0),
      seekTotalMs: this.seekTotalMs + (this.seekOpen ? this.seekMs : 0),
      videoStartupTimeMs,
      ebvsDurationMs,
      scores,
    };
    const times = {
      playRequestedAtMs: this.playRequested ? this.playRequestedAtMs : null,
      firstFrameAtMs: this.started ? this.firstFrameAtMs : null,
      lastTimeMs: this.lastTimeMs || null,
      scores,
    };
    return computeMetrics(catalog, state, times) as ViewMetrics;
  }
}
