/**
 * The view model fed with raw native samples and events, as a collector
 * would send them. Every expected number is written out by hand from the
 * script, never computed by the code under test.
 */
import {
  makeEvent,
  makeSample,
  type PlayerEvent,
  type PlayerEventType,
  type PlayerState,
  type Sample,
} from '@openqoe/schema';
import { describe, expect, it } from 'vitest';
import { ActiveViews, DEFAULT_TIMERS, type ViewSnapshot } from '../src/pipeline/view-model/active-views.js';
import { nativeItems } from '../src/pipeline/view-model/normalize-native.js';
import { startupTimeScore } from '../src/pipeline/view-model/scores.js';

const DEVICE_T0 = 1_763_700_000_000;
const SERVER_T0 = 1_763_700_000_500;

/** Writes a view's samples and events in order, on the device clock. */
class Script {
  seq = 0;
  t = DEVICE_T0;
  samples: Sample[] = [];
  events: PlayerEvent[] = [];
  constructor(readonly viewId = 'view-a') {}

  /** The player was in `state` for `ms`. */
  seg(state: PlayerState, ms: number, extra: Partial<Sample> = {}): this {
    this.samples.push(
      makeSample({
        viewId: this.viewId,
        sequenceNumber: this.seq++,
        state,
        timestamp: this.t,
        durationMs: ms,
        viewerTime: this.t + ms,
        requestCount: 0,
        requestBytes: 0,
        requestTtfbTotalMs: 0,
        requestTransferTotalMs: 0,
        ...extra,
      }),
    );
    this.t += ms;
    return this;
  }

  ev(type: PlayerEventType, state: PlayerState, extra: Partial<PlayerEvent> = {}): this {
    this.events.push(
      makeEvent({
        viewId: this.viewId,
        sequenceNumber: this.seq++,
        type,
        state,
        viewerTime: this.t,
        ...extra,
      }),
    );
    return this;
  }

  /** Everything written since the last take, as one beacon's items. */
  take(): { samples: Sample[]; events: PlayerEvent[] } {
    const out = { samples: this.samples, events: this.events };
    this.samples = [];
    this.events = [];
    return out;
  }
}

function newViews(timers = DEFAULT_TIMERS) {
  const views = new ActiveViews(timers, { minStallMs: 250 });
  const stored: ViewSnapshot[] = [];
  return { views, stored };
}

function send(views: ActiveViews, stored: ViewSnapshot[], script: Script, serverMs: number): void {
  const { samples, events } = script.take();
  stored.push(
    ...views.apply(
      { envId: 'env', receivedAtMs: serverMs, clockOffsetMs: 0, ip: '', userAgent: '' },
      script.viewId,
      nativeItems(samples, events),
    ),
  );
}

/** Plays a script as one beacon, then lets 61 s pass so the view completes; returns its stored metrics. */
function run(script: Script) {
  const { views, stored } = newViews();
  send(views, stored, script, SERVER_T0);
  stored.push(...views.tick(SERVER_T0 + 61_000));
  expect(stored).toHaveLength(1);
  return stored[0]!.metrics;
}

describe('view model: startup, rebuffering and seeking', () => {
  it('does not count a 200 ms stall as a rebuffer', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 500)
        .seg('playing', 5000)
        .seg('rebuffering', 200)
        .seg('playing', 5000),
    );
    expect(m.rebufferCount).toBe(0);
    expect(m.rebufferDurationMs).toBe(0);
    expect(m.videoStartupTimeMs).toBe(500);
    expect(m.watchTimeMs).toBe(10_700);
    expect(m.playingTimeMs).toBe(10_200);
  });

  it('counts waiting during a seek as seek time, not a rebuffer', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 300)
        .seg('playing', 3000)
        .ev('seekstart', 'seeking')
        .seg('seeking', 400)
        .seg('rebuffering', 700)
        .ev('seekend', 'playing')
        .seg('playing', 2000),
    );
    expect(m.rebufferCount).toBe(0);
    expect(m.seekCount).toBe(1);
    expect(m.seekLatencyMs).toBe(1100);
    expect(m.watchTimeMs).toBe(6400);
    expect(m.playingTimeMs).toBe(5000);
  });

  it('counts waiting before the first frame as startup', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 400)
        .seg('rebuffering', 600)
        .seg('playing', 4000),
    );
    expect(m.videoStartupTimeMs).toBe(1000);
    expect(m.rebufferCount).toBe(0);
    expect(m.scores.startupTime).toBeCloseTo((100 * 8) / 9, 6);
  });

  it('merges a 3 s stall split by a heartbeat into one rebuffer of 3 s', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 800)
        .seg('playing', 10_000)
        .ev('rebufferstart', 'rebuffering')
        .seg('rebuffering', 1200) // heartbeat closes the interval mid-stall
        .seg('rebuffering', 1800)
        .ev('rebufferend', 'playing')
        .seg('playing', 6000),
    );
    expect(m.rebufferCount).toBe(1);
    expect(m.rebufferDurationMs).toBe(3000);
    expect(m.watchTimeMs).toBe(19_800);
    expect(m.rebufferPercentage).toBeCloseTo((100 * 3000) / 19_800, 9);
    expect(m.rebufferFrequency).toBeCloseTo(1 / (19_800 / 60_000), 9);
    // Smoothness: mean of 100/√(1 + (1/2)²) and 100·e^(−10 · 3000/19800).
    expect(m.scores.smoothness).toBeCloseTo(
      (100 / Math.sqrt(1.25) + 100 * Math.exp((-10 * 3000) / 19_800)) / 2,
      9,
    );
  });

  it('counts a stall cut short by a fatal error, and the playback failure with its code', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 600)
        .seg('playing', 8000)
        .seg('rebuffering', 2000)
        .ev('error', 'error', {
          errorCode: 'MEDIA_ERR_NETWORK',
          errorMessage: 'segment 404',
          errorFatal: true,
        }),
    );
    expect(m.rebufferCount).toBe(1);
    expect(m.rebufferDurationMs).toBe(2000);
    expect(m.playbackFailure).toBe(true);
    expect(m.videoStartupFailure).toBe(false);
    expect(m.errorCode).toBe('MEDIA_ERR_NETWORK');
    expect(m.scores.playbackSuccess).toBe(0);
    expect(m.scores.viewerExperience).toBe(0);
  });

  it('records a fatal error before the first frame as a startup failure, not an exit', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 1500)
        .ev('error', 'error', { errorCode: '27', errorFatal: true }),
    );
    expect(m.videoStartupFailure).toBe(true);
    expect(m.exitedBeforeVideoStart).toBe(false);
    expect(m.videoStartupTimeMs).toBeNull();
  });

  it('treats QOE_REBUFFER_TIMEOUT as a playback failure', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 500)
        .seg('playing', 5000)
        .seg('rebuffering', 120_000)
        .ev('error', 'error', { errorCode: 'QOE_REBUFFER_TIMEOUT', errorFatal: true }),
    );
    expect(m.playbackFailure).toBe(true);
    expect(m.errorCode).toBe('QOE_REBUFFER_TIMEOUT');
    expect(m.rebufferDurationMs).toBe(120_000);
  });

  it('keeps business exceptions apart from failures', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 300)
        .ev('error', 'error', { errorCode: 'GEO_BLOCKED', errorBusiness: true }),
    );
    expect(m.playbackFailure).toBe(false);
    expect(m.businessException).toBe(true);
    expect(m.outcome).toBe('business_exception');
    expect(m.scores.playbackSuccess).toBeNull();
  });
});

describe('view model: exits before video start', () => {
  it('gives no score to an EBVS of 0.5 s', () => {
    const m = run(new Script().ev('playrequest', 'startup').seg('startup', 500).ev('viewend', 'ebvs'));
    expect(m.exitedBeforeVideoStart).toBe(true);
    expect(m.ebvsDurationMs).toBe(500);
    expect(m.scores.playbackSuccess).toBeNull();
    expect(m.scores.viewerExperience).toBeNull();
    expect(m.videoStartupTimeMs).toBeNull();
  });

  it('scores an EBVS of 5 s 50, with no startup, smoothness or quality score', () => {
    const m = run(new Script().ev('playrequest', 'startup').seg('startup', 5000).ev('viewend', 'ebvs'));
    expect(m.exitedBeforeVideoStart).toBe(true);
    expect(m.ebvsDurationMs).toBe(5000);
    expect(m.scores).toEqual({
      playbackSuccess: 50,
      startupTime: null,
      smoothness: null,
      videoQuality: null,
      viewerExperience: 50,
    });
  });

  it('is no view at all without a play request', () => {
    const { views, stored } = newViews();
    const s = new Script()
      .ev('viewstart', 'setup')
      .seg('setup', 300)
      .seg('ready', 2000)
      .ev('viewend', 'ready');
    send(views, stored, s, SERVER_T0);
    stored.push(...views.tick(SERVER_T0 + 61_000));
    expect(stored).toEqual([]);
  });
});

describe('view model: scores', () => {
  it('matches the published startup examples', () => {
    expect(Math.round(startupTimeScore(400))).toBe(95);
    expect(Math.round(startupTimeScore(2000))).toBe(80);
    expect(Math.round(startupTimeScore(8000))).toBe(50);
  });

  it('scores a view that started in 400 ms with no stalls and no upscaling at 95 / 100 / 100', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 400)
        .seg('playing', 30_000, { videoWidth: 1280, videoHeight: 720, playerWidth: 1280, playerHeight: 720 }),
    );
    expect(m.scores.playbackSuccess).toBe(100);
    expect(m.scores.startupTime).toBeCloseTo(95.238, 3);
    expect(m.scores.smoothness).toBe(100);
    expect(m.scores.videoQuality).toBe(100);
    // Ours: weighted geometric mean 0.3/0.4/0.3 of startup, smoothness, quality.
    expect(m.scores.viewerExperience).toBeCloseTo(95.238 ** 0.3 * 100 ** 0.7, 2);
  });

  it('time-weights bitrate and upscaling and counts rendition shifts', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 500)
        .seg('playing', 10_000, {
          videoBitrateBps: 1_000_000,
          videoWidth: 640,
          videoHeight: 360,
          playerWidth: 1280,
          playerHeight: 720,
        })
        .ev('qualitychange', 'playing', { videoBitrateBps: 4_000_000 })
        .seg('playing', 30_000, {
          videoBitrateBps: 4_000_000,
          videoWidth: 1280,
          videoHeight: 720,
          playerWidth: 1280,
          playerHeight: 720,
        })
        .ev('qualitychange', 'playing', { videoBitrateBps: 2_000_000 }),
    );
    expect(m.weightedAverageBitrateBps).toBe((1_000_000 * 10_000 + 4_000_000 * 30_000) / 40_000);
    expect(m.renditionChanges).toBe(2);
    expect(m.upshifts).toBe(1);
    expect(m.downshifts).toBe(1);
    // 640×360 shown at 1280×720 for a quarter of the time: 100 % upscale, mean 25 %.
    expect(m.maxUpscalePercentage).toBe(100);
    expect(m.upscalePercentage).toBe(25);
    expect(m.scores.videoQuality).toBeCloseTo(100 * Math.exp(-0.33 * (0.15 * 1 + 0.85 * 0.25)), 9);
  });
});

describe('view model: WebRTC statistics', () => {
  it('time-weights fps, jitter, loss ratio and RTT over the segments that report them; packets lost is the maximum', () => {
    const m = run(
      new Script()
        .ev('playrequest', 'startup')
        // Before the first stats poll every WebRTC figure is 0: not counted.
        .seg('startup', 1000)
        .seg('playing', 4000, {
          framesPerSecond: 30,
          jitterMs: 10,
          packetsLost: 2,
          packetLossRatio: 0.01,
          roundTripTimeMs: 40,
        })
        .seg('playing', 6000, {
          framesPerSecond: 20,
          jitterMs: 5,
          packetsLost: 7,
          packetLossRatio: 0.02,
          roundTripTimeMs: 0, // not reported in this poll
        })
        // Video frozen (fps 0) but stats still arriving: counts for jitter and loss, not for fps.
        .seg('paused', 10_000, { jitterMs: 2, packetsLost: 7, roundTripTimeMs: 60 }),
    );
    // fps: (30 × 4 s + 20 × 6 s) ÷ 10 s = 24.
    expect(m.webrtcFps).toBe(24);
    // jitter: (10 × 4 + 5 × 6 + 2 × 10) ÷ 20 = 90 ÷ 20 = 4.5 ms.
    expect(m.webrtcJitterMs).toBe(4.5);
    // loss ratio: (0.01 × 4 + 0.02 × 6 + 0 × 10) ÷ 20 = 0.16 ÷ 20 = 0.008.
    expect(m.webrtcPacketLossRatio).toBeCloseTo(0.008, 12);
    // RTT: (40 × 4 + 60 × 10) ÷ 14 = 760 ÷ 14 ms.
    expect(m.webrtcRttMs).toBeCloseTo(760 / 14, 9);
    expect(m.webrtcPacketsLost).toBe(7);
  });

  it('a view without WebRTC stats has no WebRTC figures (null, not 0)', () => {
    const m = run(new Script().ev('playrequest', 'startup').seg('startup', 500).seg('playing', 10_000));
    expect(m.webrtcFps).toBeNull();
    expect(m.webrtcJitterMs).toBeNull();
    expect(m.webrtcPacketsLost).toBeNull();
    expect(m.webrtcPacketLossRatio).toBeNull();
    expect(m.webrtcRttMs).toBeNull();
  });
});

describe('view model: lifecycle', () => {
  it('ends the view on a source change; the next source is another view', () => {
    const { views, stored } = newViews();
    const a = new Script('view-a')
      .ev('playrequest', 'startup')
      .seg('startup', 700)
      .seg('playing', 4000)
      .ev('sourcechange', 'playing');
    send(views, stored, a, SERVER_T0);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.view.completionReason).toBe('explicit_end');
    expect(stored[0]!.metrics.watchTimeMs).toBe(4700);
    const b = new Script('view-b').ev('playrequest', 'startup').seg('startup', 300).seg('playing', 2000);
    send(views, stored, b, SERVER_T0 + 100);
    stored.push(...views.tick(SERVER_T0 + 61_000));
    expect(stored.map((s) => s.view.viewId)).toEqual(['view-a', 'view-b']);
    expect(stored[1]!.metrics.videoStartupTimeMs).toBe(300);
  });

  it('forgets a view that ended explicitly after the retention for late retries, not 60 minutes', () => {
    const { views, stored } = newViews({ ...DEFAULT_TIMERS, endedRetentionMs: 300_000 });
    send(
      views,
      stored,
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 400)
        .seg('playing', 3000)
        .ev('viewend', 'playing'),
      SERVER_T0,
    );
    expect(stored).toHaveLength(1);
    views.tick(SERVER_T0 + 299_000);
    expect(views.size).toBe(1);
    // The final tick stores nothing new: the view was already stored when it ended.
    expect(views.tick(SERVER_T0 + 301_000)).toEqual([]);
    expect(views.size).toBe(0);
  });

  it('keeps a 10 minute pause in the same view: completed after 60 s, reopened, stored again', () => {
    const { views, stored } = newViews();
    const s = new Script()
      .ev('playrequest', 'startup')
      .seg('startup', 500)
      .seg('playing', 20_000)
      .ev('pause', 'paused');
    send(views, stored, s, SERVER_T0);
    stored.push(...views.tick(SERVER_T0 + 61_000));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.view.status).toBe('completed');
    expect(views.get('env', 'view-a')).toBeDefined();

    // Ten minutes later the viewer resumes: the pause interval closes and playback goes on.
    s.seg('paused', 600_000).ev('play', 'playing').seg('playing', 15_000);
    send(views, stored, s, SERVER_T0 + 620_000);
    expect(views.get('env', 'view-a')!.status).toBe('active');
    stored.push(...views.tick(SERVER_T0 + 700_000));
    expect(stored).toHaveLength(2);
    const [first, second] = [stored[0]!.metrics, stored[1]!.metrics];
    expect(stored[1]!.view.viewId).toBe('view-a');
    expect(first.watchTimeMs).toBe(20_500);
    expect(second.watchTimeMs).toBe(35_500);
    expect(second.pausedTimeMs).toBe(600_000);
    expect(second.videoStartupTimeMs).toBe(500);
  });

  it('starts a new view after 61 minutes of silence', () => {
    const { views, stored } = newViews();
    const s = new Script()
      .ev('playrequest', 'startup')
      .seg('startup', 500)
      .seg('playing', 10_000)
      .ev('pause', 'paused');
    send(views, stored, s, SERVER_T0);
    stored.push(...views.tick(SERVER_T0 + 61_000));
    stored.push(...views.tick(SERVER_T0 + 60 * 60_000 + 1000));
    expect(views.get('env', 'view-a')).toBeUndefined();

    s.seg('paused', 61 * 60_000)
      .ev('play', 'playing')
      .seg('playing', 8000);
    send(views, stored, s, SERVER_T0 + 61 * 60_000 + 5000);
    stored.push(...views.tick(SERVER_T0 + 63 * 60_000));
    const ids = stored.map((x) => x.view.viewId);
    expect(ids).toEqual(['view-a', 'view-a~2']);
    const second = stored[1]!.metrics;
    expect(second.watchTimeMs).toBe(8000);
    // The resume is the new view's play request, and playback followed at once.
    expect(second.videoStartupTimeMs).toBe(0);
    expect(stored[0]!.metrics.watchTimeMs).toBe(10_500);
  });

  it('completes a view stuck rebuffering for more than 5 minutes', () => {
    const { views, stored } = newViews();
    const s = new Script()
      .ev('playrequest', 'startup')
      .seg('startup', 500)
      .seg('playing', 5000)
      .ev('rebufferstart', 'rebuffering');
    send(views, stored, s, SERVER_T0);
    // Heartbeats keep arriving during the stall, so the view never goes idle.
    for (let i = 1; i <= 5; i++) {
      s.seg('rebuffering', 60_000);
      send(views, stored, s, SERVER_T0 + i * 60_000);
      stored.push(...views.tick(SERVER_T0 + i * 60_000 + 10));
      expect(stored).toHaveLength(i < 5 ? 0 : 1);
    }
    expect(stored[0]!.view.completionReason).toBe('rebuffer_timeout');
    expect(stored[0]!.metrics.rebufferDurationMs).toBe(300_000);
    // Completion is provisional: a later heartbeat reopens the view and it is stored again, updated.
    s.seg('rebuffering', 60_000);
    send(views, stored, s, SERVER_T0 + 360_000);
    stored.push(...views.tick(SERVER_T0 + 360_010));
    expect(stored).toHaveLength(2);
    expect(stored[1]!.metrics.rebufferDurationMs).toBe(360_000);
  });

  it('gives the same result for out-of-order beacons as for ordered ones', () => {
    const script = () =>
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 900)
        .seg('playing', 10_000)
        .seg('rebuffering', 1500)
        .seg('playing', 10_000)
        .ev('seekstart', 'seeking')
        .seg('seeking', 600)
        .seg('playing', 5000);
    const ordered = run(script());

    const { views, stored } = newViews();
    const s = script();
    const { samples, events } = s.take();
    const all = nativeItems(samples, events).sort((a, b) => a.seq - b.seq);
    const arrival = { envId: 'env', clockOffsetMs: 0, ip: '', userAgent: '' };
    // Second half first, then the first half.
    stored.push(...views.apply({ ...arrival, receivedAtMs: SERVER_T0 }, 'view-a', all.slice(4)));
    stored.push(...views.apply({ ...arrival, receivedAtMs: SERVER_T0 + 200 }, 'view-a', all.slice(0, 4)));
    stored.push(...views.tick(SERVER_T0 + 61_000));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.metrics).toEqual(ordered);
    expect(ordered.rebufferCount).toBe(1);
    expect(ordered.rebufferDurationMs).toBe(1500);
    expect(ordered.seekCount).toBe(1);
  });

  it('skips a gap that never fills after the gap timeout, keeping what arrived', () => {
    const { views, stored } = newViews();
    const s = new Script()
      .ev('playrequest', 'startup')
      .seg('startup', 400)
      .seg('playing', 5000)
      .seg('playing', 5000);
    const { samples, events } = s.take();
    const items = nativeItems(samples, events).filter((i) => i.seq !== 2);
    views.apply(
      { envId: 'env', receivedAtMs: SERVER_T0, clockOffsetMs: 0, ip: '', userAgent: '' },
      'view-a',
      items,
    );
    expect(views.get('env', 'view-a')!.pending).toHaveLength(1);
    stored.push(...views.tick(SERVER_T0 + 5_000));
    expect(views.get('env', 'view-a')!.pending).toBeUndefined();
    stored.push(...views.tick(SERVER_T0 + 66_000));
    expect(stored[0]!.metrics.watchTimeMs).toBe(5400);
  });
});

describe('view model: timeline', () => {
  it('merges consecutive samples of one state and rendition into one span, in sequence order', () => {
    const { views, stored } = newViews();
    const s = new Script()
      .ev('playrequest', 'startup')
      .seg('startup', 800)
      .seg('playing', 10_000)
      .seg('playing', 10_000)
      .seg('rebuffering', 2000)
      .seg('playing', 5000, { videoBitrateBps: 800_000, videoWidth: 640, videoHeight: 360 })
      .ev('ended', 'ended');
    send(views, stored, s, SERVER_T0);
    const view = views.get('env', 'view-a')!;
    const T = DEVICE_T0;
    expect(JSON.parse(view.timeline.toJSON())).toEqual([
      ['e', 0, T, 'startup', 'playrequest', null, null, 0, 0, 0],
      ['s', 1, T, 'startup', 800, 2_500_000, 1280, 720, 1],
      ['s', 2, T + 800, 'playing', 20_000, 2_500_000, 1280, 720, 2],
      ['s', 4, T + 20_800, 'rebuffering', 2000, 2_500_000, 1280, 720, 1],
      ['s', 5, T + 22_800, 'playing', 5000, 800_000, 640, 360, 1],
      ['e', 6, T + 27_800, 'ended', 'ended', null, null, 0, 0, 0],
    ]);
    expect(view.timeline.truncated).toBe(false);
  });

  it('stops at 1000 entries and says the timeline is truncated, metrics unaffected', () => {
    const { views, stored } = newViews();
    const s = new Script();
    for (let i = 0; i < 700; i++) s.seg('playing', 1000).seg('paused', 1000);
    send(views, stored, s, SERVER_T0);
    const view = views.get('env', 'view-a')!;
    expect(JSON.parse(view.timeline.toJSON())).toHaveLength(1000);
    expect(view.timeline.truncated).toBe(true);
    expect(view.machine.metrics(false).playingTimeMs).toBe(700_000);
  });
});

describe('view model: dimensions', () => {
  it('takes dimensions from the latest sample, and keeps the same object while they do not change', () => {
    const { views, stored } = newViews();
    const script = new Script('view-dims');
    script.ev('playrequest', 'startup').seg('startup', 500).seg('playing', 10_000, { cdnHost: 'a.example' });
    send(views, stored, script, SERVER_T0);
    const view = views.get('env', 'view-dims')!;
    const first = view.dims!;
    expect(first.cdnHost).toBe('a.example');

    // Same dimensions (new strings from a new beacon): the object is kept.
    script.seg('playing', 10_000, { cdnHost: 'a.example' });
    send(views, stored, script, SERVER_T0 + 10_000);
    expect(view.dims).toBe(first);

    // Any change, here a custom field or the rendition, gives new dimensions.
    script.seg('playing', 10_000, { cdnHost: 'a.example', customData3: 'x' });
    send(views, stored, script, SERVER_T0 + 20_000);
    expect(view.dims).not.toBe(first);
    expect(view.dims!.customData[2]).toBe('x');
    const second = view.dims!;
    script.seg('playing', 10_000, { cdnHost: 'b.example', customData3: 'x', videoBitrateBps: 4_000_000 });
    send(views, stored, script, SERVER_T0 + 30_000);
    expect(view.dims).not.toBe(second);
    expect([view.dims!.cdnHost, view.dims!.videoBitrateBps]).toEqual(['b.example', 4_000_000]);
  });
});

describe('view model: clocks', () => {
  const SLACK = 300_000;
  /** One beacon of a 10 s view whose device clock says `deviceT0`, received at SERVER_T0 with `offset`. */
  function clockView(deviceT0: number, offset: number, backfill = false) {
    const views = new ActiveViews({ ...DEFAULT_TIMERS, clockSlackMs: SLACK }, { minStallMs: 250 });
    const script = new Script('view-clock');
    script.t = deviceT0;
    script.ev('playrequest', 'startup').seg('startup', 500).seg('playing', 9_500).ev('viewend', 'playing');
    const { samples, events } = script.take();
    const arrival = { envId: 'env', receivedAtMs: SERVER_T0, clockOffsetMs: offset, ip: '', userAgent: '' };
    const [done] = views.apply(
      backfill ? { ...arrival, backfill: true } : arrival,
      'view-clock',
      nativeItems(samples, events),
    );
    return done!;
  }

  it('an honest clock, even far off the server, is corrected by the offset (flagged only when far off)', () => {
    const near = clockView(SERVER_T0 - 10_000, 0);
    expect([near.metrics.playRequestedAtMs, near.view.clockCorrected]).toEqual([SERVER_T0 - 10_000, false]);
    // A device clock an hour slow: sentAt is an hour slow too, so the offset puts the view where it was.
    const slow = clockView(SERVER_T0 - 3_610_000, 3_600_000);
    expect([slow.metrics.playRequestedAtMs, slow.view.clockCorrected]).toEqual([SERVER_T0 - 10_000, true]);
    expect(slow.metrics.watchTimeMs).toBe(10_000);
  });

  it('timestamp 0 (sentAt right) is not a view in 1970: moved to the first receipt − the slack, flagged', () => {
    const done = clockView(0, 0);
    expect(done.metrics.playRequestedAtMs).toBe(SERVER_T0 - SLACK);
    expect(done.view.clockCorrected).toBe(true);
  });

  it('sentAt 0 (offset = now) is not a view in 2083: nothing after the latest receipt', () => {
    const done = clockView(SERVER_T0 - 10_000, SERVER_T0);
    expect(done.metrics.playRequestedAtMs).toBeLessThanOrEqual(SERVER_T0);
    expect(done.metrics.lastTimeMs).toBeLessThanOrEqual(SERVER_T0);
    expect(done.view.clockCorrected).toBe(true);
  });

  it('backfill trusts the device clock: a view on its own past day, not flagged', () => {
    const done = clockView(DEVICE_T0 - 30 * 86_400_000, 0, true);
    expect(done.metrics.playRequestedAtMs).toBe(DEVICE_T0 - 30 * 86_400_000);
    expect(done.view.clockCorrected).toBe(false);
  });
});

describe('view model: media requests', () => {
  it('takes the mean TTFB over the requests a beacon says have one, else over every request', () => {
    const timed = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 300, { requestCount: 3, requestTtfbTotalMs: 80, requestTtfbCount: 2 })
        .seg('playing', 5000, { requestCount: 2, requestTtfbTotalMs: 0, requestTtfbCount: 0 }),
    );
    expect(timed.requestCount).toBe(5);
    // 80 ms over the 2 timed requests; the 3 without a first byte do not pull it to 16 ms.
    expect(timed.requestTtfbMs).toBe(40);
    // A collector that does not say counts every request (its requests all have a TTFB).
    const untold = run(
      new Script()
        .ev('playrequest', 'startup')
        .seg('startup', 300, { requestCount: 2, requestTtfbTotalMs: 60 })
        .seg('playing', 5000),
    );
    expect(untold.requestTtfbMs).toBe(30);
  });
});
