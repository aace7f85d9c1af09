/**
 * Point-in-time sources → view items. Mux events and CMCD reports say what
 * happened at an instant (the player entered a state, a request completed),
 * not how long a state lasted. Expanding them needs what came before in the
 * same view: the state held since the previous point, the dimensions sent
 * only when they changed (Mux deltas), the rendition playing. That small
 * state lives on the view (`ActiveView.source`), is applied in sequence
 * order by ActiveViews, and is rebuilt from the log after a restart like
 * everything else — so any pipeline worker owning the view can expand it.
 *
 * Each point closes the span since the previous one as a native-shaped
 * sample (state, start, duration, facts, dimensions) and turns what
 * happened into native-shaped events; the view machine then applies the one
 * set of metric rules. Nothing here computes a metric.
 */
import type { PlayerEvent, PlayerState, Sample } from '@openqoe/schema';
import type { DimensionSource, PointEvent, PointValue, StatePoint, ViewItem } from './view-items.js';

/** What one view remembers between points (kept small: one per active view). */
export interface PointState {
  state: PlayerState;
  sinceMs: number;
  playheadMs: number;
  dims: DimensionSource;
  raw: Record<string, PointValue>;
  videoBitrateBps: number;
  videoWidth: number;
  videoHeight: number;
  playerWidth: number;
  playerHeight: number;
  /** The content's duration as last reported (0: unknown). */
  videoDurationMs: number;
  started: boolean;
  /** A play request was seen (startup state, a play event or a start delay). */
  playRequested: boolean;
  sawRebuffering: boolean;
}

/** Raw attributes kept per view, and their longest value: unknown keys must not grow a view without bound. */
export const RAW_MAX_KEYS = 64;
export const RAW_MAX_VALUE_LENGTH = 256;

const BLANK_DIMS: DimensionSource = {
  viewerId: '',
  sessionId: '',
  playerInstanceId: '',
  videoId: '',
  videoTitle: '',
  assetId: '',
  playbackId: '',
  liveStreamId: '',
  streamType: '',
  streamFormat: '',
  cdnHost: '',
  cdnProvider: '',
  playerName: '',
  playerSoftware: '',
  playerVersion: '',
  pageUrl: '',
  subPropertyId: '',
  experimentName: '',
  viewerUserId: '',
  sdkName: '',
  sdkVersion: '',
  customData1: '',
  customData2: '',
  customData3: '',
  customData4: '',
  customData5: '',
  customData6: '',
  customData7: '',
  customData8: '',
  customData9: '',
  customData10: '',
  videoCodec: '',
  videoBitrateBps: 0,
  videoWidth: 0,
  videoHeight: 0,
};

function mergeRaw(into: Record<string, PointValue>, raw: Record<string, PointValue>): void {
  let size = Object.keys(into).length;
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in into)) {
      if (size >= RAW_MAX_KEYS) continue;
      size++;
    }
    into[k] = typeof v === 'string' && v.length > RAW_MAX_VALUE_LENGTH ? v.slice(0, RAW_MAX_VALUE_LENGTH) : v;
  }
}

function segmentOf(
  viewId: string,
  p: StatePoint,
  st: PointState,
  state: PlayerState,
  startMs: number,
  durationMs: number,
  withFacts: boolean,
): ViewItem {
  const r = withFacts ? p.requests : undefined;
  const bucket = (s: PlayerState) => (state === s ? durationMs : 0);
  const d = st.dims;
  // Written out field by field (no spread): one object shape for every segment keeps this cheap.
  const facts: Sample & { requestTtfbCount: number } = {
    viewId,
    sequenceNumber: p.seq,
    viewerTime: p.deviceTimeMs,
    state,
    viewerId: d.viewerId,
    sessionId: d.sessionId,
    playerInstanceId: d.playerInstanceId,
    timestamp: startMs,
    durationMs,
    playedMs: bucket('playing'),
    pausedMs: bucket('paused'),
    bufferedMs: bucket('rebuffering'),
    seekedMs: bucket('seeking'),
    startupMs: bucket('startup'),
    videoTimeStartMs: st.playheadMs,
    videoTimeEndMs: p.playheadMs,
    videoDurationMs: st.videoDurationMs,
    videoBitrateBps: st.videoBitrateBps,
    videoWidth: st.videoWidth,
    videoHeight: st.videoHeight,
    videoCodec: d.videoCodec,
    audioBitrateBps: 0,
    audioCodec: '',
    playerWidth: st.playerWidth,
    playerHeight: st.playerHeight,
    pageLoadTimeMs: withFacts ? (p.pageLoadTimeMs ?? 0) : 0,
    playerStartupTimeMs: withFacts ? (p.playerStartupTimeMs ?? 0) : 0,
    videoStartupTimeMs: 0,
    videoId: d.videoId,
    videoTitle: d.videoTitle,
    assetId: d.assetId,
    playbackId: d.playbackId,
    liveStreamId: d.liveStreamId,
    streamType: d.streamType,
    streamFormat: d.streamFormat,
    cdnHost: d.cdnHost,
    cdnProvider: d.cdnProvider,
    playerName: d.playerName,
    playerSoftware: d.playerSoftware,
    playerVersion: d.playerVersion,
    pageUrl: d.pageUrl,
    subPropertyId: d.subPropertyId,
    experimentName: d.experimentName,
    viewerUserId: d.viewerUserId,
    sdkName: d.sdkName,
    sdkVersion: d.sdkVersion,
    customData1: d.customData1,
    customData2: d.customData2,
    customData3: d.customData3,
    customData4: d.customData4,
    customData5: d.customData5,
    customData6: d.customData6,
    customData7: d.customData7,
    customData8: d.customData8,
    customData9: d.customData9,
    customData10: d.customData10,
    requestCount: r?.count ?? 0,
    requestFailedCount: r?.failed ?? 0,
    requestBytes: r?.bytes ?? 0,
    requestTtfbTotalMs: r?.ttfbTotalMs ?? 0,
    requestTtfbCount: r?.timed ?? 0,
    requestTransferTotalMs: r?.transferTotalMs ?? 0,
    droppedFrames: withFacts ? (p.droppedFrames ?? 0) : 0,
    liveLatencyMs: withFacts ? (p.liveLatencyMs ?? 0) : 0,
    framesPerSecond: 0,
    jitterMs: 0,
    packetsLost: 0,
    packetLossRatio: 0,
    roundTripTimeMs: 0,
  };
  return { kind: 'segment', seq: p.seq, state, deviceStartMs: startMs, durationMs, facts };
}

function eventOf(viewId: string, p: StatePoint, st: PointState, e: PointEvent, atMs: number): ViewItem {
  const quality = e.type === 'qualitychange';
  const facts: PlayerEvent = {
    viewId,
    sequenceNumber: p.seq,
    viewerTime: atMs,
    state: st.state,
    type: e.type,
    playheadMs: p.playheadMs,
    errorCode: e.errorCode ?? '',
    errorMessage: e.errorMessage ?? '',
    errorFatal: e.errorFatal ?? false,
    errorBusiness: e.errorBusiness ?? false,
    videoBitrateBps: quality ? st.videoBitrateBps : 0,
    videoWidth: quality ? st.videoWidth : 0,
    videoHeight: quality ? st.videoHeight : 0,
    detail: e.detail ?? '',
  };
  return { kind: 'event', seq: p.seq, type: e.type, state: st.state, deviceTimeMs: atMs, facts };
}

/**
 * Expands one point against the view's state (created on the first point)
 * and returns the native items to apply, in order.
 */
export function expandPoint(
  viewId: string,
  prior: PointState | undefined,
  p: StatePoint,
): { state: PointState; items: ViewItem[] } {
  const items: ViewItem[] = [];
  const t = p.deviceTimeMs;
  const st: PointState = prior ?? {
    state: 'setup',
    sinceMs: t,
    playheadMs: p.playheadMs,
    dims: { ...BLANK_DIMS },
    raw: {},
    videoBitrateBps: 0,
    videoWidth: 0,
    videoHeight: 0,
    playerWidth: 0,
    playerHeight: 0,
    videoDurationMs: 0,
    started: false,
    playRequested: false,
    sawRebuffering: false,
  };
  if (p.dims) Object.assign(st.dims, p.dims);
  if (p.raw) mergeRaw(st.raw, p.raw);
  if (p.playerWidth) st.playerWidth = p.playerWidth;
  if (p.playerHeight) st.playerHeight = p.playerHeight;
  if (p.videoDurationMs) st.videoDurationMs = p.videoDurationMs;
  if (p.state === 'rebuffering') st.sawRebuffering = true;

  // Close the span held since the previous point (a device clock that steps back gives an empty span).
  const start = Math.min(st.sinceMs, t);
  const span = t - start;
  const stalled = !st.sawRebuffering && st.state === 'playing' ? Math.min(p.stalledMs ?? 0, span) : 0;
  if (stalled > 0) {
    items.push(segmentOf(viewId, p, st, 'playing', start, span - stalled, false));
    items.push(segmentOf(viewId, p, st, 'rebuffering', t - stalled, stalled, true));
  } else {
    items.push(segmentOf(viewId, p, st, st.state, start, span, true));
  }

  const quality = p.events.some((e) => e.type === 'qualitychange');
  const previousBitrateBps = st.videoBitrateBps;
  if (p.videoBitrateBps) st.videoBitrateBps = p.videoBitrateBps;
  if (p.videoWidth) st.videoWidth = p.videoWidth;
  if (p.videoHeight) st.videoHeight = p.videoHeight;
  if (p.videoBitrateBps || p.videoWidth) {
    st.dims.videoBitrateBps = st.videoBitrateBps;
    st.dims.videoWidth = st.videoWidth;
    st.dims.videoHeight = st.videoHeight;
  }

  // After the first frame a play request is a resume: the state holds until playback runs again.
  const next = p.state === undefined || (p.state === 'startup' && st.started) ? st.state : p.state;
  st.state = next;
  if (p.playRequestedAtMs !== undefined && !st.started)
    items.push(eventOf(viewId, p, st, { type: 'playrequest' }, Math.min(p.playRequestedAtMs, t)));
  for (const e of p.events) items.push(eventOf(viewId, p, st, e, t));
  if (
    p.state === 'startup' ||
    p.playRequestedAtMs !== undefined ||
    p.events.some((e) => e.type === 'play' || e.type === 'playrequest')
  )
    st.playRequested = true;
  // The first time playback runs after a play request is the first frame, whichever source reported
  // it. Without a request seen (data joined mid-view) the playing span alone starts the view, and
  // no startup time is made up.
  if (next === 'playing' && !st.started && st.playRequested)
    items.push(eventOf(viewId, p, st, { type: 'firstframe' }, t));
  if (next === 'playing') st.started = true;
  // A rendition reported without an explicit change event is still a change for the machine.
  if (!quality && p.videoBitrateBps && p.videoBitrateBps !== previousBitrateBps)
    items.push(eventOf(viewId, p, st, { type: 'qualitychange' }, t));
  st.sinceMs = Math.max(st.sinceMs, t);
  st.playheadMs = p.playheadMs;
  return { state: st, items };
}
