/**
 * One view's state machine: the single place where the metric rules of
 * docs/metrics.md are applied. Every source is normalised into two calls,
 * in sequence order:
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
import { computeScores, type Scores } from './scores.js';

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
  requestTransferTotalMs: number;
  playerStartupTimeMs: number;
  pageLoadTimeMs: number;
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

export type ViewOutcome = 'success' | 'failure' | 'ebvs' | 'business_exception' | 'in_progress';

export interface ViewMetrics {
  outcome: ViewOutcome;
  playRequestedAtMs: number | null;
  firstFrameAtMs: number | null;
  lastTimeMs: number | null;
  videoStartupTimeMs: number | null;
  playerStartupTimeMs: number | null;
  pageLoadTimeMs: number | null;
  aggregateStartupTimeMs: number | null;
  watchTimeMs: number;
  playingTimeMs: number;
  pausedTimeMs: number;
  adTimeMs: number;
  rebufferCount: number;
  rebufferDurationMs: number;
  rebufferPercentage: number | null;
  rebufferFrequency: number | null;
  seekCount: number;
  seekLatencyMs: number | null;
  exitedBeforeVideoStart: boolean;
  ebvsDurationMs: number | null;
  videoStartupFailure: boolean;
  playbackFailure: boolean;
  businessException: boolean;
  errorCode: string;
  errorMessage: string;
  weightedAverageBitrateBps: number | null;
  renditionChanges: number;
  upshifts: number;
  downshifts: number;
  upscalePercentage: number | null;
  maxUpscalePercentage: number | null;
  downscalePercentage: number | null;
  maxDownscalePercentage: number | null;
  droppedFrames: number;
  liveLatencyMs: number | null;
  requestCount: number;
  requestFailedCount: number;
  requestTtfbMs: number | null;
  requestThroughputBps: number | null;
  /** WebRTC aggregates (time-weighted over the segments that reported each figure); null without WebRTC stats. */
  webrtcFps: number | null;
  webrtcJitterMs: number | null;
  webrtcPacketsLost: number | null;
  webrtcPacketLossRatio: number | null;
  webrtcRttMs: number | null;
  scores: Scores;
}

interface WebRtcSums {
  fpsWeighted: number;
  fpsMs: number;
  jitterWeighted: number;
  lossRatioWeighted: number;
  /** Time covered by segments with WebRTC stats: the weight of jitter and loss ratio. */
  statsMs: number;
  rttWeighted: number;
  rttMs: number;
  maxPacketsLost: number;
}

/** Σ(value × ms) ÷ Σms, or null when no time carried the value. */
const weighted = (sum: number, ms: number): number | null => (ms > 0 ? sum / ms : null);

const WATCHED: ReadonlySet<PlayerState> = new Set(['startup', 'playing', 'rebuffering', 'seeking', 'ad']);

export class ViewMachine {
  // Fields are plain numbers and booleans: an active view must stay small (≤ 2 KB).
  playRequested = false;
  playRequestedAtMs = 0;
  /** The play request was an explicit event, so a start with no startup segment still measured 0 ms. */
  playRequestedByEvent = false;
  started = false;
  firstFrameAtMs = 0;
  endedExplicitly = false;
  failed = false;
  failedBeforeStart = false;
  businessException = false;
  errorCode = '';
  errorMessage = '';
  lastTimeMs = 0;
  currentState: PlayerState = 'setup';
  currentStateSinceMs = 0;

  private stallOpen = false;
  private stallMs = 0;
  private stallStartMs = 0;
  private seekOpen = false;
  private seekMs = 0;
  private seekStartMs = 0;
  /** Set by outputs that split metrics by time (see SpanListener). */
  spans: SpanListener | undefined;

  startupMs = 0;
  watchMs = 0;
  playingMs = 0;
  pausedMs = 0;
  adMs = 0;
  rebufferCount = 0;
  rebufferMs = 0;
  seekCount = 0;
  seekTotalMs = 0;
  private bitrateWeighted = 0;
  private bitrateMs = 0;
  private upscaleWeighted = 0;
  private downscaleWeighted = 0;
  private scaleMs = 0;
  private maxUpscale = 0;
  private maxDownscale = 0;
  private lastBitrateBps = 0;
  renditionChanges = 0;
  upshifts = 0;
  downshifts = 0;
  droppedFrames = 0;
  private liveLatencySum = 0;
  private liveLatencyCount = 0;
  requestCount = 0;
  requestFailedCount = 0;
  private requestBytes = 0;
  private requestTtfbTotalMs = 0;
  private requestTransferTotalMs = 0;
  playerStartupTimeMs = 0;
  pageLoadTimeMs = 0;
  /** Only WebRTC views have one, so other views stay small. */
  private rtc: WebRtcSums | undefined;

  constructor(private readonly rules: MachineRules = DEFAULT_RULES) {}

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
    this.requestTransferTotalMs += f.requestTransferTotalMs;
    if (this.playerStartupTimeMs === 0 && f.playerStartupTimeMs > 0)
      this.playerStartupTimeMs = f.playerStartupTimeMs;
    if (this.pageLoadTimeMs === 0 && f.pageLoadTimeMs > 0) this.pageLoadTimeMs = f.pageLoadTimeMs;
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
          // Before the first frame every kind of waiting is startup.
          this.markPlayRequest(startMs, false);
          this.startupMs += d;
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
   * video start or still starting.
   */
  metrics(complete: boolean): ViewMetrics {
    let rebufferCount = this.rebufferCount;
    let rebufferMs = this.rebufferMs;
    let playingMs = this.playingMs;
    if (this.stallOpen) {
      if (this.stallMs >= this.rules.minStallMs) {
        rebufferCount++;
        rebufferMs += this.stallMs;
      } else playingMs += this.stallMs;
    }
    const seekCount = this.seekCount + (this.seekOpen ? 1 : 0);
    const seekTotal = this.seekTotalMs + (this.seekOpen ? this.seekMs : 0);

    let outcome: ViewOutcome;
    if (this.failed) outcome = 'failure';
    else if (this.businessException) outcome = 'business_exception';
    else if (this.started) outcome = 'success';
    else if (complete && this.playRequested) outcome = 'ebvs';
    else outcome = 'in_progress';

    const ebvs = outcome === 'ebvs';
    const ebvsDurationMs = ebvs ? Math.max(0, this.lastTimeMs - this.playRequestedAtMs) : null;
    const videoStartupTimeMs = this.videoStartupTimeMs;
    const pageLoad = this.pageLoadTimeMs > 0 ? this.pageLoadTimeMs : null;
    const playerStartup = this.playerStartupTimeMs > 0 ? this.playerStartupTimeMs : null;
    const watch = this.watchMs;
    const meanUp = this.scaleMs > 0 ? this.upscaleWeighted / this.scaleMs : 0;
    const rebufferFraction = watch > 0 ? rebufferMs / watch : 0;
    const rtc = this.rtc;

    return {
      outcome,
      playRequestedAtMs: this.playRequested ? this.playRequestedAtMs : null,
      firstFrameAtMs: this.started ? this.firstFrameAtMs : null,
      lastTimeMs: this.lastTimeMs || null,
      videoStartupTimeMs,
      playerStartupTimeMs: playerStartup,
      pageLoadTimeMs: pageLoad,
      aggregateStartupTimeMs:
        pageLoad !== null && playerStartup !== null && videoStartupTimeMs !== null
          ? pageLoad + playerStartup + videoStartupTimeMs
          : null,
      watchTimeMs: watch,
      playingTimeMs: playingMs,
      pausedTimeMs: this.pausedMs,
      adTimeMs: this.adMs,
      rebufferCount,
      rebufferDurationMs: rebufferMs,
      rebufferPercentage: watch > 0 ? (100 * rebufferMs) / watch : null,
      rebufferFrequency: watch > 0 ? rebufferCount / (watch / 60_000) : null,
      seekCount,
      seekLatencyMs: seekCount > 0 ? seekTotal / seekCount : null,
      exitedBeforeVideoStart: ebvs,
      ebvsDurationMs,
      videoStartupFailure: this.failed && this.failedBeforeStart,
      playbackFailure: this.failed,
      businessException: this.businessException,
      errorCode: this.errorCode,
      errorMessage: this.errorMessage,
      weightedAverageBitrateBps: this.bitrateMs > 0 ? this.bitrateWeighted / this.bitrateMs : null,
      renditionChanges: this.renditionChanges,
      upshifts: this.upshifts,
      downshifts: this.downshifts,
      upscalePercentage: this.scaleMs > 0 ? 100 * meanUp : null,
      maxUpscalePercentage: this.scaleMs > 0 ? 100 * this.maxUpscale : null,
      downscalePercentage: this.scaleMs > 0 ? (100 * this.downscaleWeighted) / this.scaleMs : null,
      maxDownscalePercentage: this.scaleMs > 0 ? 100 * this.maxDownscale : null,
      droppedFrames: this.droppedFrames,
      liveLatencyMs: this.liveLatencyCount > 0 ? this.liveLatencySum / this.liveLatencyCount : null,
      requestCount: this.requestCount,
      requestFailedCount: this.requestFailedCount,
      requestTtfbMs: this.requestCount > 0 ? this.requestTtfbTotalMs / this.requestCount : null,
      requestThroughputBps:
        this.requestTransferTotalMs > 0 ? (this.requestBytes * 8 * 1000) / this.requestTransferTotalMs : null,
      webrtcFps: rtc ? weighted(rtc.fpsWeighted, rtc.fpsMs) : null,
      webrtcJitterMs: rtc ? weighted(rtc.jitterWeighted, rtc.statsMs) : null,
      webrtcPacketsLost: rtc ? rtc.maxPacketsLost : null,
      webrtcPacketLossRatio: rtc ? weighted(rtc.lossRatioWeighted, rtc.statsMs) : null,
      webrtcRttMs: rtc ? weighted(rtc.rttWeighted, rtc.rttMs) : null,
      scores: computeScores({
        outcome: outcome === 'in_progress' ? 'success' : outcome,
        ebvsDurationMs: ebvsDurationMs ?? 0,
        videoStartupTimeMs,
        rebufferCount,
        rebufferFraction,
        meanUpscale: meanUp,
        maxUpscale: this.maxUpscale,
        started: this.started,
      }),
    };
  }
}
