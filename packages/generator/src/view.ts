/**
 * One synthetic view: a complete native beacon drawn from the distribution
 * of distribution.ts with the draws of random.ts.
 *
 * A view is a function of (seed, index) only: every random draw comes from a
 * seeded PRNG whose seed mixes the run's seed with the view's index, so the
 * same seed gives the same beacons however many requests are in flight. The
 * view is built on its own timeline from 0 and only then placed in the
 * requested time window.
 *
 * The views follow the metric rules of docs/metrics.md: a `playrequest`, a
 * `startup` segment, heartbeat-sized segments (≤ 10 s), stalls (some shorter
 * than the 250 ms minimum), seeks, pauses, rendition changes, fatal errors,
 * exits before video start, and always a final `viewend` so the server
 * completes the view at once.
 */
import {
  type Beacon,
  makeEvent,
  makeSample,
  type PlayerEvent,
  type PlayerEventType,
  type PlayerState,
  type Sample,
  SCHEMA_VERSION,
} from '@openqoe/schema';
import {
  AGGRESSIVE,
  CATALOGUE,
  CDNS,
  type CdnProfile,
  COUNTRIES,
  catalogueEntry,
  countryAddress,
  DEVICES,
  EVENTS,
  EXPERIMENTS,
  HEARTBEAT_MS,
  LADDER,
  MAX_SAMPLES,
  OUTCOMES,
  PLAYBACK_ERRORS,
  PLAYER_VERSIONS,
  SEGMENT_MS,
  STARTUP_ERRORS,
  STREAM_TYPE_MIX,
  SUB_PROPERTIES,
  TIMES,
  VIEWERS,
} from './distribution.js';
import { Draw, mulberry32, viewSeed, zipfCumulative } from './random.js';

/** Popularity of the catalogue's ranks (Zipf), cumulative for Draw.zipf. */
const VOD_POPULARITY = zipfCumulative(CATALOGUE.vodTitles, CATALOGUE.zipfExponent);
const LIVE_POPULARITY = zipfCumulative(CATALOGUE.liveChannels, CATALOGUE.zipfExponent);

export type ViewKind = 'played' | 'ebvs' | 'startup_failure' | 'playback_failure';

export interface ViewRequest {
  seed: number;
  index: number;
  envKey: string;
  /** The view is placed so it starts at a uniform time in [fromMs, toMs] and ends by toMs. */
  fromMs: number;
  toMs: number;
}

export interface SyntheticView {
  beacon: Beacon;
  /** Send as the `user-agent` header. */
  userAgent: string;
  /** Send as the `x-forwarded-for` header (used only by a server with trustProxy). */
  forwardedFor: string;
  /** The viewer's country (ISO code), whose network `forwardedFor` is in. */
  country: string;
  /** What the view was drawn to be, for reports and tests. */
  kind: ViewKind;
  startMs: number;
  endMs: number;
}

type Rendition = (typeof LADDER)[number];

/** Builds one view's items on its own timeline (t = 0 at the play request), numbering them in order. */
class Timeline {
  t = 0;
  playheadMs = 0;
  seq = 0;
  rung: number;
  readonly samples: Sample[] = [];
  readonly events: PlayerEvent[] = [];
  private first = true;

  constructor(
    private readonly template: Sample,
    private readonly draw: Draw,
    private readonly cdn: CdnProfile,
    startRung: number,
    private readonly firstSample: { playerStartupTimeMs: number; pageLoadTimeMs: number },
    private readonly liveLatencyMs: number,
  ) {
    this.rung = startRung;
  }

  get rendition(): Rendition {
    return LADDER[this.rung]!;
  }

  get full(): boolean {
    return this.samples.length >= MAX_SAMPLES;
  }

  event(type: PlayerEventType, state: PlayerState, facts: Partial<PlayerEvent> = {}): void {
    this.events.push(
      makeEvent({
        viewId: this.template.viewId,
        sequenceNumber: this.seq++,
        viewerTime: this.t,
        state,
        type,
        playheadMs: this.playheadMs,
        ...facts,
      }),
    );
  }

  /** A state held for `totalMs`, as heartbeat-sized samples (≤ 10 s each). */
  segment(state: PlayerState, totalMs: number, extra: Partial<Sample> = {}): void {
    let left = Math.max(0, Math.round(totalMs));
    do {
      const d = Math.min(HEARTBEAT_MS, left);
      left -= d;
      this.sample(state, d, extra);
    } while (left > 0 && !this.full);
  }

  private sample(state: PlayerState, d: number, extra: Partial<Sample>): void {
    const r = this.rendition;
    const playing = state === 'playing';
    const start = this.playheadMs;
    if (playing) this.playheadMs += d;
    const requests = playing ? Math.max(1, Math.ceil(d / SEGMENT_MS)) : state === 'rebuffering' ? 1 : 0;
    const bytes = playing ? Math.round((r.bitrateBps * d) / 8000) : 0;
    const s: Sample = {
      ...this.template,
      sequenceNumber: this.seq++,
      viewerTime: this.t + d,
      state,
      timestamp: this.t,
      durationMs: d,
      playedMs: playing ? d : 0,
      pausedMs: state === 'paused' ? d : 0,
      bufferedMs: state === 'rebuffering' ? d : 0,
      seekedMs: state === 'seeking' ? d : 0,
      startupMs: state === 'startup' ? d : 0,
      videoTimeStartMs: start,
      videoTimeEndMs: this.playheadMs,
      videoBitrateBps: state === 'startup' ? 0 : r.bitrateBps,
      videoWidth: state === 'startup' ? 0 : r.width,
      videoHeight: state === 'startup' ? 0 : r.height,
      requestCount: requests,
      requestFailedCount: requests > 0 && this.draw.chance(0.01) ? 1 : 0,
      requestBytes: bytes,
      requestTtfbTotalMs:
        requests > 0
          ? requests * this.draw.logNormal({ median: this.cdn.ttfbMs, sigma: 0.4, min: 5, max: 5000 })
          : 0,
      // Throughput 2–6× the bitrate: a segment downloads in a sixth to a half of its length.
      requestTransferTotalMs: playing ? Math.round(d / this.draw.uniform(2, 6)) : 0,
      droppedFrames: playing && this.draw.chance(0.05) ? 1 + this.draw.int(30) : 0,
      liveLatencyMs:
        playing && this.liveLatencyMs > 0 ? Math.round(this.liveLatencyMs * this.draw.uniform(0.9, 1.1)) : 0,
      ...(this.first ? this.firstSample : {}),
      ...extra,
    };
    this.first = false;
    this.t += d;
    this.samples.push(s);
  }

  /** Switches one rung up or down (when there is one) and says so with a `qualitychange`. */
  shift(up: boolean): void {
    const next = up ? this.rung + 1 : this.rung - 1;
    if (next < 0 || next >= LADDER.length) return;
    this.rung = next;
    const r = this.rendition;
    this.event('qualitychange', 'playing', {
      videoBitrateBps: r.bitrateBps,
      videoWidth: r.width,
      videoHeight: r.height,
    });
  }
}

/** What interrupts playing, at a position in the intended playing time. */
type Interruption =
  | { at: number; kind: 'stall'; ms: number }
  | { at: number; kind: 'seek'; ms: number; jumpMs: number }
  | { at: number; kind: 'pause'; ms: number }
  | { at: number; kind: 'failure' };

export function syntheticView(req: ViewRequest): SyntheticView {
  const drawn = drawView(req);
  // A uniform start in the window, moved earlier if it would end after the window.
  let startMs = Math.round(drawn.draw.uniform(req.fromMs, req.toMs));
  if (startMs + drawn.durationMs > req.toMs) startMs = req.toMs - drawn.durationMs;
  return place(drawn, startMs);
}

/**
 * The same view as `syntheticView` for (seed, index), starting at `startMs`
 * rather than placed in a window: the live mode plays it from there on the
 * wall clock (live.ts).
 */
export function viewStartingAt(
  req: Omit<ViewRequest, 'fromMs' | 'toMs'> & { startMs: number },
): SyntheticView {
  return place(drawView(req), req.startMs);
}

interface DrawnView {
  tl: Timeline;
  draw: Draw;
  envKey: string;
  userAgent: string;
  forwardedFor: string;
  country: string;
  kind: ViewKind;
  durationMs: number;
}

/** Moves a view drawn on its own timeline (t = 0 at the play request) to start at `startMs`. */
function place(v: DrawnView, startMs: number): SyntheticView {
  for (const s of v.tl.samples) {
    s.timestamp += startMs;
    s.viewerTime += startMs;
  }
  for (const e of v.tl.events) e.viewerTime += startMs;
  const endMs = startMs + v.durationMs;
  return {
    beacon: {
      envKey: v.envKey,
      schemaVersion: SCHEMA_VERSION,
      sentAt: endMs,
      samples: v.tl.samples,
      events: v.tl.events,
    },
    userAgent: v.userAgent,
    forwardedFor: v.forwardedFor,
    country: v.country,
    kind: v.kind,
    startMs,
    endMs,
  };
}

/** The view of (seed, index) on its own timeline; its draw is left where the placement continues it. */
function drawView(req: { seed: number; index: number; envKey: string }): DrawnView {
  const draw = new Draw(mulberry32(viewSeed(req.seed, req.index)));
  const device = draw.pick(DEVICES);
  const player = draw.pick(device.players);
  const cdn = draw.pick(CDNS);
  const country = draw.pick(COUNTRIES);
  const countryPos = COUNTRIES.findIndex(([c]) => c === country);
  const streamType = draw.pick(STREAM_TYPE_MIX);
  const rank = draw.zipf(streamType === 'vod' ? VOD_POPULARITY : LIVE_POPULARITY);
  const video = catalogueEntry(streamType, rank);
  const experiment = draw.pick(EXPERIMENTS);
  const aggressive = experiment === 'abr-aggressive';
  const viewer = `viewer-${draw.int(VIEWERS)}`;
  const viewId = [draw.hex(8), draw.hex(4), `4${draw.hex(3)}`, `a${draw.hex(3)}`, draw.hex(12)].join('-');
  const forwardedFor = countryAddress(countryPos, draw.int(256), draw.int(256));
  const format =
    player === 'dash.js' ? 'dash' : player === 'shaka' ? (draw.chance(0.5) ? 'dash' : 'hls') : 'hls';

  const section = draw.pick(SUB_PROPERTIES);
  const template = makeSample({
    viewId,
    viewerId: viewer,
    sessionId: `${viewer}-s${draw.int(1000)}`,
    playerInstanceId: draw.hex(16),
    videoCodec: 'avc1.640028',
    audioCodec: 'mp4a.40.2',
    playerWidth: device.playerWidth,
    playerHeight: device.playerHeight,
    pageLoadTimeMs: 0,
    playerStartupTimeMs: 0,
    videoStartupTimeMs: 0,
    videoId: video.id,
    videoTitle: video.title,
    streamType,
    streamFormat: format,
    cdnHost: cdn.hosts[draw.int(cdn.hosts.length)]!,
    cdnProvider: cdn.provider,
    // A site section has its own player.
    playerName: `${section} player`,
    playerSoftware: player,
    playerVersion: player === 'html5' ? device.html5Version : PLAYER_VERSIONS[player],
    pageUrl: `https://www.example.com/watch/${video.id}`,
    subPropertyId: section,
    experimentName: experiment,
    sdkName: 'openqoe-generate',
    sdkVersion: '1',
  });

  const startupFactor = cdn.startupFactor * (aggressive ? AGGRESSIVE.startupFactor : 1);
  const firstSample = {
    playerStartupTimeMs: draw.logNormal(TIMES.playerStartupMs),
    pageLoadTimeMs: draw.chance(TIMES.pageLoadShare) ? draw.logNormal(TIMES.pageLoadMs) : 0,
  };
  const liveLatency = streamType === 'live' ? draw.logNormal(TIMES.liveLatencyMs) : 0;
  const tl = new Timeline(template, draw, cdn, device.startRung, firstSample, liveLatency);

  const roll = draw.next();
  const kind: ViewKind =
    roll < OUTCOMES.startupFailure
      ? 'startup_failure'
      : roll < OUTCOMES.startupFailure + OUTCOMES.playbackFailure
        ? 'playback_failure'
        : roll < OUTCOMES.startupFailure + OUTCOMES.playbackFailure + OUTCOMES.ebvs
          ? 'ebvs'
          : 'played';

  tl.event('playrequest', 'startup');
  if (kind === 'ebvs') {
    tl.segment('startup', draw.logNormal(TIMES.ebvsWaitMs));
    tl.event('viewend', 'startup');
  } else if (kind === 'startup_failure') {
    tl.segment('startup', draw.logNormal(TIMES.failedStartupMs));
    const [code, message] = STARTUP_ERRORS[draw.int(STARTUP_ERRORS.length)]!;
    tl.event('error', 'error', { errorCode: code, errorMessage: message, errorFatal: true });
    tl.event('viewend', 'error');
  } else {
    const startup = draw.logNormal(TIMES.videoStartupMs, startupFactor);
    tl.segment('startup', startup, { videoStartupTimeMs: startup });
    play(tl, draw, streamType, {
      watchMs: draw.logNormal(TIMES.watchMs),
      stallsPerMinute: cdn.stallsPerMinute * (aggressive ? AGGRESSIVE.stallFactor : 1),
      switchChance: EVENTS.switchPerHeartbeat * (aggressive ? AGGRESSIVE.switchFactor : 1),
      seek: streamType === 'vod' && draw.chance(EVENTS.seekShare),
      pause: draw.chance(EVENTS.pauseShare),
      fail: kind === 'playback_failure',
    });
  }

  // A VOD title's content length (a function of its rank, so every view of it agrees), never
  // shorter than what this viewer played: the views' completion spreads as watch times do.
  if (streamType === 'vod') {
    const durationMs = Math.max(contentLengthMs(rank), Math.ceil(tl.playheadMs / 1000) * 1000);
    for (const s of tl.samples) s.videoDurationMs = durationMs;
  }

  return {
    tl,
    draw,
    envKey: req.envKey,
    userAgent: device.userAgent,
    forwardedFor,
    country,
    kind,
    durationMs: tl.t,
  };
}

/** 5 to 60 minutes, spread over the catalogue's ranks. */
function contentLengthMs(rank: number): number {
  return (5 + ((rank * 37) % 56)) * 60_000;
}

interface PlayPlan {
  watchMs: number;
  stallsPerMinute: number;
  switchChance: number;
  seek: boolean;
  pause: boolean;
  fail: boolean;
}

/** From the first frame to the end: playing heartbeats with the view's interruptions in between. */
function play(tl: Timeline, draw: Draw, streamType: 'vod' | 'live', plan: PlayPlan): void {
  const interruptions: Interruption[] = [];
  // From 1 s on, so every interruption comes after the first frame (before it, it would be startup time).
  const at = () => Math.round(draw.uniform(1000, plan.watchMs));
  const stalls = draw.poisson((plan.stallsPerMinute * plan.watchMs) / 60_000);
  for (let i = 0; i < stalls; i++) {
    const ms = draw.chance(TIMES.shortStallShare) ? 50 + draw.int(200) : draw.logNormal(TIMES.stallMs);
    interruptions.push({ at: at(), kind: 'stall', ms });
  }
  if (plan.seek) {
    interruptions.push({
      at: at(),
      kind: 'seek',
      ms: draw.logNormal(TIMES.seekLatencyMs),
      jumpMs: 10_000 + draw.int(110_000),
    });
  }
  if (plan.pause) interruptions.push({ at: at(), kind: 'pause', ms: draw.logNormal(TIMES.pauseMs) });
  let endAt = plan.watchMs;
  if (plan.fail) {
    endAt = at();
    interruptions.push({ at: endAt, kind: 'failure' });
  }
  interruptions.sort((a, b) => a.at - b.at);

  let played = 0;
  let heartbeat = 0;
  const playUntil = (target: number) => {
    while (played < target && !tl.full) {
      // A rendition switch happens on a heartbeat, before the next playing sample.
      if (heartbeat > 0 && draw.chance(plan.switchChance)) tl.shift(draw.chance(0.6));
      const d = Math.min(HEARTBEAT_MS, target - played);
      tl.segment('playing', d);
      played += d;
      heartbeat++;
    }
  };

  for (const it of interruptions) {
    playUntil(Math.min(it.at, endAt));
    if (tl.full) break;
    if (it.kind === 'failure') {
      const [code, message] = PLAYBACK_ERRORS[draw.int(PLAYBACK_ERRORS.length)]!;
      tl.event('error', 'error', { errorCode: code, errorMessage: message, errorFatal: true });
      tl.event('viewend', 'error');
      return;
    }
    if (it.kind === 'stall') {
      tl.segment('rebuffering', it.ms);
      if (draw.chance(EVENTS.downshiftAfterStall)) tl.shift(false);
    } else if (it.kind === 'seek') {
      tl.event('seekstart', 'seeking');
      tl.playheadMs += it.jumpMs;
      tl.segment('seeking', it.ms, {
        videoTimeStartMs: tl.playheadMs - it.jumpMs,
        videoTimeEndMs: tl.playheadMs,
      });
      tl.event('seekend', 'playing');
    } else {
      tl.event('pause', 'paused');
      tl.segment('paused', it.ms);
      tl.event('play', 'playing');
    }
  }
  playUntil(endAt);
  // A VOD viewer reaches the end or leaves; a live viewer can only leave.
  if (streamType === 'vod') {
    tl.event('ended', 'ended');
    tl.event('viewend', 'ended');
  } else tl.event('viewend', 'playing');
}
