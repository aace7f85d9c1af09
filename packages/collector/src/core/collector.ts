/**
 * The core: one view's state machine and interval samples. Adapters call the
 * player-event methods (`playRequest`, `playing`, `waiting`, …); every time
 * the machine leaves a state it closes the interval and queues one sample
 * with every field of the schema. Heartbeats close long intervals, timers
 * turn stuck starts and stalls into failures, and a source change ends the
 * view and starts another. No method throws into the page.
 */
import type { PlayerEventType, PlayerState } from '@openqoe/schema';
import { sessionId, uuid, viewerId } from './identity.js';
import { Transport } from './transport.js';
import type {
  MediaRequest,
  MonitorOptions,
  PlayerContext,
  PlayerEvent,
  PlayerProbe,
  Rendition,
  RtcFigures,
  Sample,
  ViewData,
} from './types.js';

export const SDK_NAME = 'openqoe-collector';
export const SDK_VERSION = '0.1.0';
/** Extra heartbeats during a long stall, ms after it began. */
const STALL_BEATS_MS = [3000, 5000, 10_000, 30_000, 60_000];
const QUALITY_CAP_PER_HOUR = 50;
const SAME_ERROR_CAP = 5;
const WATCHED: PlayerState[] = ['startup', 'playing', 'rebuffering', 'seeking', 'ad'];

type Timer = ReturnType<typeof setTimeout> | undefined;
const clip = (v: unknown, max = 256): string => (v == null ? '' : String(v).slice(0, max));
const int = (v: number, max = 100_000): number => Math.min(max, Math.max(0, Math.round(v || 0)));

let pageHadView = false;

const NO_PROBE: PlayerProbe = {
  playheadMs: () => 0,
  playerSize: () => [0, 0],
  droppedFrames: () => 0,
  liveLatencyMs: () => 0,
  durationMs: () => 0,
};

export class Collector {
  readonly transport: Transport;
  private readonly opts: MonitorOptions;
  private data: ViewData;
  private ctx: PlayerContext = {};
  probe: PlayerProbe = NO_PROBE;
  /** Set by the WebRTC source after each stats poll; every sample carries the latest (0 for other players). */
  rtc: RtcFigures = {
    framesPerSecond: 0,
    jitterMs: 0,
    packetsLost: 0,
    packetLossRatio: 0,
    roundTripTimeMs: 0,
  };
  private readonly playerInstanceId = uuid();
  private readonly playerInitMs: number;
  private readonly pageLoadMs: number;
  private playerStartupMs = 0;

  viewId = '';
  state: PlayerState = 'setup';
  private seq = 0;
  private since = 0;
  private playheadAtSince = 0;
  private sampled = true;
  /** The first frame was shown. */
  started = false;
  private playRequestMs = 0;
  private videoStartupMs = 0;
  private firstSampleSent = false;
  private pausedBeforeSeek = false;
  private rendition: Rendition = {};
  private req = { count: 0, failed: 0, bytes: 0, ttfb: 0, timed: 0, transfer: 0 };
  private droppedAtSince = 0;
  private qualityTimes: number[] = [];
  private lastError = '';
  private sameErrors = 0;
  private beat: Timer;
  private watchdog: Timer;
  private destroyed = false;
  /** While set, samples and events are collected here instead of queued (the standby end). */
  private held: (Sample | PlayerEvent)[] | undefined;

  constructor(options: MonitorOptions) {
    this.opts = options;
    this.data = { ...options.data };
    this.playerInitMs = options.playerInitTimeMs ?? Date.now();
    // Page load time counts for the first view on a page only.
    const origin = typeof performance !== 'undefined' ? performance.timeOrigin : 0;
    this.pageLoadMs = !pageHadView && origin > 0 ? Math.max(0, this.playerInitMs - origin) : 0;
    pageHadView = true;
    const dnt =
      options.respectDoNotTrack &&
      typeof navigator !== 'undefined' &&
      (navigator.doNotTrack === '1' || (globalThis as { doNotTrack?: string }).doNotTrack === '1');
    this.transport = new Transport({
      url: options.beaconUrl,
      envKey: options.envKey,
      flushIntervalMs: options.flushIntervalMs ?? 5000,
      maxQueue: options.maxQueue ?? 1000,
      send: options.send,
    });
    this.transport.enabled = !dnt && options.consent !== false;
    this.transport.standbyItems = () => this.standbyEnd();
    this.newView();
  }

  // ─── adapter-facing: player events ───────────────────────────────────────

  /** The player is ready to take commands (player startup time ends). */
  ready(): void {
    this.guard(() => {
      if (this.playerStartupMs === 0) this.playerStartupMs = Math.max(1, Date.now() - this.playerInitMs);
      if (this.state === 'setup') this.go('ready');
    });
  }

  /** Play was requested (user or autoplay). */
  playRequest(): void {
    this.guard(() => {
      if (this.state === 'setup' || this.state === 'ready') {
        this.playRequestMs = Date.now();
        this.go('startup', 'playrequest');
        this.arm(
          this.opts.startupTimeoutMs ?? 60_000,
          'QOE_STARTUP_TIMEOUT',
          'no frame after the startup timeout',
        );
      } else if (this.state === 'ended') this.go('playing', 'play');
    });
  }

  /** The browser refused to play (autoplay policy): the start waits for the viewer, without a timeout. */
  playBlocked(): void {
    if (this.state === 'startup' && this.watchdog) clearTimeout(this.watchdog);
  }

  /** Frames are being shown with the playhead moving (since `atMs` if the adapter knows it). */
  playing(atMs?: number): void {
    this.guard(() => {
      const s = this.state;
      if (s === 'playing' || s === 'error' || s === 'ebvs') return;
      if (!this.started) {
        if (s === 'setup' || s === 'ready') this.playRequest();
        this.started = true;
        const at = Math.round(Math.min(Date.now(), Math.max(this.playRequestMs, atMs ?? Date.now())));
        this.videoStartupMs = at - this.playRequestMs;
        this.go('playing', 'firstframe', true, {}, at);
        return;
      }
      this.go(
        'playing',
        s === 'rebuffering' ? 'rebufferend' : s === 'seeking' ? 'seekend' : 'play',
        false,
        {},
        atMs,
      );
    });
  }

  pause(): void {
    this.guard(() => {
      if (this.state === 'playing' || this.state === 'rebuffering') this.go('paused', 'pause');
    });
  }

  seeking(): void {
    this.guard(() => {
      // Before the first frame a seek is part of startup.
      if (!this.started || this.state === 'seeking') return;
      if (this.state !== 'playing' && this.state !== 'paused' && this.state !== 'rebuffering') return;
      this.pausedBeforeSeek = this.state === 'paused';
      this.go('seeking', 'seekstart');
    });
  }

  seeked(paused: boolean): void {
    this.guard(() => {
      if (this.state !== 'seeking') return;
      if (paused || this.pausedBeforeSeek) this.go('paused', 'seekend');
      else this.go('playing', 'seekend');
    });
  }

  /**
   * The player ran out of data. Only a stall while playing is a rebuffer.
   * `sinceMs`: when frames actually stopped, if the adapter knows it better
   * than the moment the player said so.
   */
  waiting(sinceMs?: number): void {
    this.guard(() => {
      if (this.state !== 'playing') return;
      this.go('rebuffering', 'rebufferstart', false, {}, sinceMs);
      this.arm(
        this.opts.rebufferTimeoutMs ?? 120_000,
        'QOE_REBUFFER_TIMEOUT',
        'stalled past the rebuffer timeout',
      );
    });
  }

  ended(): void {
    this.guard(() => {
      if (this.started && this.state !== 'ended' && this.state !== 'error') this.go('ended', 'ended', true);
    });
  }

  /** A player error; fatal ones end playback (and are sent at once). */
  error(code: string | number, message: string, fatal: boolean, detail = ''): void {
    this.guard(() => {
      const key = `${code}|${message}|${fatal}`;
      this.sameErrors = key === this.lastError ? this.sameErrors + 1 : 1;
      this.lastError = key;
      if (this.sameErrors > SAME_ERROR_CAP || this.state === 'error') return;
      const fields = {
        errorCode: clip(code),
        errorMessage: clip(message, 1024),
        errorFatal: fatal,
        detail: clip(detail, 1024),
      };
      if (fatal) this.go('error', 'error', true, fields);
      else this.event('error', fields, false);
    });
  }

  /**
   * The rendition playing changed (instant transition: closes the interval).
   * `measured`: the bitrate is a measured rate (WebRTC), so only a new frame size is a change.
   */
  setRendition(r: Rendition, measured = false): void {
    this.guard(() => {
      const old = this.rendition;
      const next = { ...old, ...r };
      const same = next.width === old.width && next.height === old.height;
      if (same && (measured || next.bitrateBps === old.bitrateBps)) {
        this.rendition = next;
        return;
      }
      const now = Date.now();
      this.qualityTimes = this.qualityTimes.filter((t) => now - t < 3_600_000);
      const first = !old.bitrateBps && !old.width;
      if (first || this.qualityTimes.length >= QUALITY_CAP_PER_HOUR) {
        this.rendition = next;
        return;
      }
      this.qualityTimes.push(now);
      this.close();
      this.rendition = next;
      this.event('qualitychange', {
        videoBitrateBps: int(next.bitrateBps ?? 0, 1e12),
        videoWidth: int(next.width ?? 0),
        videoHeight: int(next.height ?? 0),
      });
    });
  }

  request(r: MediaRequest): void {
    this.guard(() => {
      const q = this.req;
      q.count++;
      if (r.failed) q.failed++;
      q.bytes += Math.max(0, r.bytes || 0);
      // Only a completed request with a known first byte is in the TTFB mean.
      if (!r.failed && r.ttfbMs !== undefined && r.ttfbMs >= 0) {
        q.ttfb += r.ttfbMs;
        q.timed++;
      }
      q.transfer += Math.max(0, r.transferMs || 0);
      if (r.cdnHost) this.ctx.cdnHost = r.cdnHost;
    });
  }

  /** Closes the interval now and sends it (sources that sample on their own clock, e.g. WebRTC stats). */
  tick(): void {
    this.guard(() => {
      this.close();
      this.transport.flush();
    });
  }

  setContext(c: PlayerContext): void {
    Object.assign(this.ctx, c);
  }

  /** A new source in the same player: ends this view and starts another (a bare `loadstart` does not). */
  sourceChange(): void {
    this.guard(() => {
      if (this.state === 'setup' || this.state === 'ready') return;
      this.endView('sourcechange');
      this.newView();
      this.go('ready');
    });
  }

  // ─── page-facing ─────────────────────────────────────────────────────────

  update(data: ViewData): void {
    this.guard(() => {
      this.close();
      Object.assign(this.data, data);
      this.event('customdatachange', { detail: clip(Object.keys(data).join(','), 1024) });
    });
  }

  setConsent(granted: boolean): void {
    if (!granted) this.transport.clear();
    this.transport.enabled = granted;
  }

  /** The page is hidden: send what we have, the view goes on. */
  hidden(): void {
    this.guard(() => {
      this.close();
      this.transport.flushUnload();
    });
  }

  /**
   * The page is going away: the last interval and the view end leave with
   * `sendBeacon`. Nothing is recorded after it (the `visibilitychange` that
   * follows `pagehide` would otherwise add an interval to an ended view).
   */
  unload(): void {
    this.guard(() => {
      this.endView('viewend', true);
      // Before the flush: the real end leaves now, so the standby end is withdrawn, not renewed.
      this.destroyed = true;
      this.transport.flushUnload();
    });
  }

  destroy(): void {
    this.guard(() => {
      this.endView('viewend');
      this.destroyed = true;
    });
  }

  // ─── internals ───────────────────────────────────────────────────────────

  private newView(): void {
    this.viewId = uuid();
    this.seq = 0;
    this.state = this.playerStartupMs > 0 ? 'ready' : 'setup';
    this.since = Date.now();
    this.playheadAtSince = 0;
    this.sampled = Math.random() < (this.opts.sampleRate ?? 1);
    this.started = false;
    this.playRequestMs = 0;
    this.videoStartupMs = 0;
    this.firstSampleSent = false;
    this.qualityTimes = [];
    this.droppedAtSince = this.safeProbe(() => this.probe.droppedFrames());
    this.event('viewstart', {}, false);
  }

  /**
   * What ending the view now would send (its last interval and a `viewend`),
   * without recording it: the state is put back as it was. Null after the
   * collector stopped.
   */
  private standbyEnd(): (Sample | PlayerEvent)[] | null {
    if (this.destroyed || !this.sampled) return null;
    const saved = [this.seq, this.since, this.playheadAtSince, this.req, this.droppedAtSince] as const;
    const [state, first] = [this.state, this.firstSampleSent];
    const out: (Sample | PlayerEvent)[] = [];
    this.held = out;
    try {
      this.close();
      if (this.state === 'startup') this.state = 'ebvs';
      this.event('viewend', {});
    } finally {
      this.held = undefined;
      [this.seq, this.since, this.playheadAtSince, this.req, this.droppedAtSince] = saved;
      [this.state, this.firstSampleSent] = [state, first];
    }
    return out;
  }

  private endView(type: PlayerEventType, unloading = false): void {
    if (this.destroyed) return;
    // Leaving before the first frame (and without a fatal error) is an exit before video start.
    const end: PlayerState = this.state === 'startup' ? 'ebvs' : this.state;
    this.go(end, type, !unloading);
    this.clearTimers();
  }

  /** Leaves the current state: closes its interval and, if given, records the event in the new state. */
  private go(
    next: PlayerState,
    type?: PlayerEventType,
    urgent = false,
    fields: Partial<PlayerEvent> = {},
    atMs?: number,
  ): void {
    this.close(atMs);
    const prev = this.state;
    this.state = next;
    if (prev !== next) this.clearTimers();
    if (type) this.event(type, fields, urgent);
    this.scheduleBeat(0);
  }

  /** Closes the interval in progress as one sample; the state goes on from now. */
  private close(atMs?: number): void {
    const now = Math.round(Math.min(Date.now(), Math.max(this.since, atMs ?? Date.now())));
    const d = now - this.since;
    const playhead = this.safeProbe(() => this.probe.playheadMs());
    if (d <= 0 && this.firstSampleSent) {
      this.playheadAtSince = playhead;
      return;
    }
    const dropped = this.safeProbe(() => this.probe.droppedFrames());
    const streamType = this.data.streamType ?? this.ctx.streamType ?? '';
    // VOD only: a live stream's duration is the window so far (or a large placeholder), not the content's.
    const duration = streamType === 'live' ? 0 : this.safeProbe(() => this.probe.durationMs());
    const [pw, ph] = this.probe === NO_PROBE ? [0, 0] : this.probe.playerSize();
    const s = this.state;
    const bucket = (st: PlayerState) => (s === st ? d : 0);
    const r = this.rendition;
    const data = this.data;
    const ctx = this.ctx;
    const first = !this.firstSampleSent;
    const sample: Sample = {
      ...this.envelope(now),
      viewerId: viewerId(!!this.opts.disableCookies),
      sessionId: sessionId(!!this.opts.disableCookies, now),
      playerInstanceId: this.playerInstanceId,
      timestamp: this.since,
      durationMs: Math.max(0, d),
      playedMs: bucket('playing'),
      pausedMs: bucket('paused'),
      bufferedMs: bucket('rebuffering'),
      seekedMs: bucket('seeking'),
      startupMs: bucket('startup'),
      videoTimeStartMs: Math.max(0, Math.round(this.playheadAtSince)),
      videoTimeEndMs: Math.max(0, Math.round(playhead)),
      videoBitrateBps: int(r.bitrateBps ?? 0, 1e12),
      videoWidth: int(r.width ?? 0),
      videoHeight: int(r.height ?? 0),
      videoCodec: clip(r.codec),
      audioBitrateBps: int(r.audioBitrateBps ?? 0, 1e12),
      audioCodec: clip(r.audioCodec),
      playerWidth: int(pw),
      playerHeight: int(ph),
      pageLoadTimeMs: first ? int(this.pageLoadMs, 86_400_000) : 0,
      playerStartupTimeMs: first || s === 'startup' ? int(this.playerStartupMs, 86_400_000) : 0,
      videoStartupTimeMs: s === 'startup' && this.started ? int(this.videoStartupMs, 86_400_000) : 0,
      videoId: clip(data.videoId, 128),
      videoTitle: clip(data.videoTitle, 1024),
      assetId: clip(data.assetId, 128),
      playbackId: clip(data.playbackId, 128),
      liveStreamId: clip(data.liveStreamId, 128),
      streamType,
      streamFormat: ctx.streamFormat ?? '',
      cdnHost: clip(ctx.cdnHost),
      cdnProvider: clip(data.cdnProvider),
      playerName: clip(data.playerName),
      playerSoftware: clip(ctx.playerSoftware),
      playerVersion: clip(ctx.playerVersion),
      pageUrl: typeof location !== 'undefined' ? clip(location.href, 2048) : '',
      subPropertyId: clip(data.subPropertyId, 128),
      experimentName: clip(data.experimentName),
      viewerUserId: clip(data.viewerUserId, 128),
      sdkName: SDK_NAME,
      sdkVersion: SDK_VERSION,
      customData1: clip(data.customData1),
      customData2: clip(data.customData2),
      customData3: clip(data.customData3),
      customData4: clip(data.customData4),
      customData5: clip(data.customData5),
      customData6: clip(data.customData6),
      customData7: clip(data.customData7),
      customData8: clip(data.customData8),
      customData9: clip(data.customData9),
      customData10: clip(data.customData10),
      requestCount: this.req.count,
      requestFailedCount: this.req.failed,
      requestBytes: this.req.bytes,
      requestTtfbTotalMs: this.req.ttfb,
      requestTtfbCount: this.req.timed,
      requestTransferTotalMs: this.req.transfer,
      droppedFrames: int(dropped - this.droppedAtSince, 1e9),
      liveLatencyMs: Math.max(
        0,
        this.safeProbe(() => this.probe.liveLatencyMs()),
      ),
      ...this.rtc,
      ...(duration > 0 && { videoDurationMs: Math.min(Math.round(duration), 31_536_000_000) }),
    };
    this.req = { count: 0, failed: 0, bytes: 0, ttfb: 0, timed: 0, transfer: 0 };
    this.droppedAtSince = dropped;
    this.since = now;
    this.playheadAtSince = playhead;
    this.firstSampleSent = true;
    this.emit(sample, false);
  }

  private envelope(now: number) {
    return { viewId: this.viewId, sequenceNumber: this.seq++, viewerTime: now, state: this.state };
  }

  private event(type: PlayerEventType, fields: Partial<PlayerEvent>, urgent = false): void {
    const r = this.rendition;
    const e: PlayerEvent = {
      ...this.envelope(Date.now()),
      type,
      playheadMs: Math.max(0, Math.round(this.safeProbe(() => this.probe.playheadMs()))),
      errorCode: '',
      errorMessage: '',
      errorFatal: false,
      errorBusiness: false,
      videoBitrateBps: int(r.bitrateBps ?? 0, 1e12),
      videoWidth: int(r.width ?? 0),
      videoHeight: int(r.height ?? 0),
      detail: '',
      ...fields,
    };
    this.emit(e, urgent);
  }

  private emit(item: Sample | PlayerEvent, urgent: boolean): void {
    if (!this.sampled) return;
    if (this.held) this.held.push(item);
    else this.transport.push(item, urgent);
  }

  /** Heartbeats close long intervals so the server sees progress; stalls get extra early ones. */
  private scheduleBeat(n: number): void {
    if (this.beat) clearTimeout(this.beat);
    this.beat = undefined;
    if (!WATCHED.includes(this.state)) return;
    const hb = this.opts.heartbeatMs ?? 10_000;
    const stall = this.state === 'rebuffering';
    const delay = stall && n < STALL_BEATS_MS.length ? STALL_BEATS_MS[n]! - (STALL_BEATS_MS[n - 1] ?? 0) : hb;
    this.beat = setTimeout(() => {
      this.guard(() => {
        this.close();
        this.transport.flush();
        this.scheduleBeat(n + 1);
      });
    }, delay);
  }

  /** One watchdog per state: a start or stall that outlives it is a fatal error. */
  private arm(ms: number, code: string, message: string): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    const state = this.state;
    this.watchdog = setTimeout(() => {
      if (this.state === state) this.error(code, message, true);
    }, ms);
  }

  private clearTimers(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.beat) clearTimeout(this.beat);
    this.watchdog = this.beat = undefined;
  }

  private safeProbe(read: () => number): number {
    try {
      return read() || 0;
    } catch {
      this.transport.stats.collectorErrors++;
      return 0;
    }
  }

  /** Player callbacks never throw into the page; the collector's own failures are counted. */
  private guard(fn: () => void): void {
    if (this.destroyed) return;
    try {
      fn();
    } catch {
      this.transport.stats.collectorErrors++;
    }
  }
}
