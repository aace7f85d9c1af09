/**
 * What a view machine keeps while it applies the rules: flags, running sums
 * and counts. The machine (view-machine.ts) extends this class and moves the
 * numbers; the metric catalog (view-metrics.ts) reads them. It is a class of
 * its own so the catalog can read them without importing the machine, which
 * imports the catalog. Fields are plain numbers and booleans: an active view
 * must stay small (≤ 2 KB).
 */

export type ViewOutcome = 'success' | 'failure' | 'ebvs' | 'business_exception' | 'in_progress';

/** Sums of a WebRTC view's receive statistics, each weighted by the time it covered. */
export interface WebRtcSums {
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

export class MachineTotals {
  playRequested = false;
  playRequestedAtMs = 0;
  /** The play request was an explicit event, so a start with no startup segment still measured 0 ms. */
  playRequestedByEvent = false;
  /** A play request was seen as such (a play request event or a startup segment): the view is a play. */
  playRequestSeen = false;
  started = false;
  firstFrameAtMs = 0;
  endedExplicitly = false;
  failed = false;
  failedBeforeStart = false;
  businessException = false;
  errorCode = '';
  errorMessage = '';
  lastTimeMs = 0;

  startupMs = 0;
  watchMs = 0;
  playingMs = 0;
  pausedMs = 0;
  adMs = 0;
  rebufferCount = 0;
  rebufferMs = 0;
  seekCount = 0;
  seekTotalMs = 0;
  bitrateWeighted = 0;
  bitrateMs = 0;
  upscaleWeighted = 0;
  downscaleWeighted = 0;
  scaleMs = 0;
  maxUpscale = 0;
  maxDownscale = 0;
  renditionChanges = 0;
  upshifts = 0;
  downshifts = 0;
  droppedFrames = 0;
  liveLatencySum = 0;
  liveLatencyCount = 0;
  requestCount = 0;
  requestFailedCount = 0;
  requestBytes = 0;
  requestTtfbTotalMs = 0;
  /** The requests the TTFB sum covers: a request may come without one (failed, or its first byte unknown). */
  requestTtfbCount = 0;
  requestTransferTotalMs = 0;
  playerStartupTimeMs = 0;
  pageLoadTimeMs = 0;
  /** The content's duration as last reported (0: unknown), the furthest playhead reached playing, live. */
  contentDurationMs = 0;
  furthestPlayheadMs = 0;
  live = false;
  /** Only WebRTC views have one, so other views stay small. */
  rtc: WebRtcSums | undefined;
}
