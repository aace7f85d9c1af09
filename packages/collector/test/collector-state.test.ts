import { type Beacon, validateBeacon } from '@openqoe/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Collector, type MonitorOptions } from '../src/index.js';
import { type Recorder, recorder } from './helpers.js';

let rec: Recorder;
const make = (o: Partial<MonitorOptions> = {}) => {
  const c = new Collector({
    beaconUrl: 'http://intake/v1/beacon',
    envKey: 'env-key',
    flushIntervalMs: 100,
    send: rec.send,
    data: { videoId: 'v1', videoTitle: 'Title' },
    ...o,
  });
  c.probe = {
    playheadMs: () => 0,
    playerSize: () => [640, 360],
    droppedFrames: () => 0,
    liveLatencyMs: () => 0,
    durationMs: () => 0,
  };
  return c;
};
const flushAll = async (c: Collector) => {
  c.transport.flush();
  await vi.advanceTimersByTimeAsync(200);
};
const states = () => rec.samples().map((s) => [s.state, s.durationMs]);
const types = () => rec.events().map((e) => `${e.type}@${e.state}`);

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
  rec = recorder();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  expect(rec.invalid).toEqual([]);
});

/** A browser's fetchLater: what the page left it, and whether it was withdrawn. */
function deferredFetches() {
  const held: { beacon: Beacon; signal: AbortSignal }[] = [];
  vi.stubGlobal('fetchLater', (_url: string, init: RequestInit) => {
    const v = validateBeacon(JSON.parse(String(init.body)));
    if (!v.ok) throw new Error(`standby body: ${JSON.stringify(v.fields)}`);
    held.push({ beacon: v.value, signal: init.signal! });
  });
  const live = () => held.filter((h) => !h.signal.aborted);
  const seqsOf = (b: Beacon) =>
    [...b.samples, ...b.events].map((i) => i.sequenceNumber).sort((x, y) => x - y);
  return { held, live, seqsOf };
}

describe('collector state machine', () => {
  it('counts every request, but only completed ones with a known first byte in the TTFB sum', async () => {
    const c = make();
    c.ready();
    c.playRequest();
    c.playing();
    c.request({ bytes: 1000, ttfbMs: 40, transferMs: 100 });
    c.request({ bytes: 1000, ttfbMs: 0, transferMs: 10 });
    // Cross-origin without Timing-Allow-Origin: no first byte.
    c.request({ bytes: 1000, transferMs: 300 });
    c.request({ bytes: 0, ttfbMs: 900, transferMs: 0, failed: true });
    await vi.advanceTimersByTimeAsync(100);
    c.destroy();
    await flushAll(c);
    const sum = (k: 'requestCount' | 'requestFailedCount' | 'requestTtfbTotalMs' | 'requestTtfbCount') =>
      rec.samples().reduce((a, s) => a + (s[k] ?? 0), 0);
    expect([
      sum('requestCount'),
      sum('requestFailedCount'),
      sum('requestTtfbTotalMs'),
      sum('requestTtfbCount'),
    ]).toEqual([4, 1, 40, 2]);
  });

  it('startup → playing → rebuffering → playing → paused, one sample per interval with its bucket', async () => {
    const c = make();
    await vi.advanceTimersByTimeAsync(50);
    c.ready();
    c.playRequest();
    await vi.advanceTimersByTimeAsync(400);
    c.playing();
    await vi.advanceTimersByTimeAsync(1000);
    c.waiting();
    await vi.advanceTimersByTimeAsync(2500);
    c.playing();
    await vi.advanceTimersByTimeAsync(700);
    c.pause();
    await vi.advanceTimersByTimeAsync(300);
    c.destroy();
    await flushAll(c);
    expect(states()).toEqual([
      ['setup', 50],
      ['startup', 400],
      ['playing', 1000],
      ['rebuffering', 2500],
      ['playing', 700],
      ['paused', 300],
    ]);
    const s = rec.samples();
    expect(s[1]!.startupMs).toBe(400);
    expect(s[1]!.videoStartupTimeMs).toBe(400);
    expect(s[1]!.playerStartupTimeMs).toBe(50);
    expect(s[2]!.playedMs).toBe(1000);
    expect(s[3]!.bufferedMs).toBe(2500);
    expect(s[3]!.playedMs).toBe(0);
    expect(s[5]!.pausedMs).toBe(300);
    expect(s.every((x) => x.videoId === 'v1' && x.playerWidth === 640)).toBe(true);
    expect(types()).toEqual([
      'viewstart@setup',
      'playrequest@startup',
      'firstframe@playing',
      'rebufferstart@rebuffering',
      'rebufferend@playing',
      'pause@paused',
      'viewend@paused',
    ]);
    // One sequence shared by samples and events, from 0, without gaps.
    const seqs = [...rec.samples(), ...rec.events()].map((x) => x.sequenceNumber).sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('a waiting during a seek is seeking and one before the first frame is startup', async () => {
    const c = make();
    c.playRequest();
    c.waiting();
    c.seeking();
    await vi.advanceTimersByTimeAsync(300);
    c.playing();
    await vi.advanceTimersByTimeAsync(100);
    c.seeking();
    c.waiting();
    await vi.advanceTimersByTimeAsync(600);
    c.seeked(false);
    await vi.advanceTimersByTimeAsync(100);
    c.destroy();
    await flushAll(c);
    expect(states().filter(([s]) => s !== 'setup')).toEqual([
      ['startup', 300],
      ['playing', 100],
      ['seeking', 600],
      ['playing', 100],
    ]);
    expect(types()).not.toContain('rebufferstart@rebuffering');
    expect(types()).toContain('seekstart@seeking');
    expect(types()).toContain('seekend@playing');
  });

  it('leaving during startup ends the view as ebvs, sent through the unload path', async () => {
    const c = make();
    c.playRequest();
    await vi.advanceTimersByTimeAsync(1500);
    c.unload();
    await vi.advanceTimersByTimeAsync(10);
    expect(states().filter(([s]) => s !== 'setup')).toEqual([['startup', 1500]]);
    expect(types().at(-1)).toBe('viewend@ebvs');
  });

  it('leaves the browser a standby end with the next sequence numbers each time a batch leaves, and withdraws it at pagehide', async () => {
    const d = deferredFetches();
    const c = make();
    c.playRequest();
    await vi.advanceTimersByTimeAsync(300);
    c.playing();
    await vi.advanceTimersByTimeAsync(1000);
    // The first frame's batch has left: the standby is the view ended then, numbered after everything recorded.
    expect(d.live()).toHaveLength(1);
    const first = d.live()[0]!.beacon;
    const sentSeqs = [...rec.samples(), ...rec.events()].map((i) => i.sequenceNumber);
    expect(Math.min(...d.seqsOf(first))).toBeGreaterThan(Math.max(...sentSeqs));
    expect(first.events.map((e) => `${e.type}@${e.state}`)).toEqual(['viewend@playing']);

    // Nothing was recorded by it: the view goes on with the same numbers.
    await vi.advanceTimersByTimeAsync(500);
    c.pause();
    await flushAll(c);
    const next = rec.samples().find((x) => x.sequenceNumber === first.events[0]!.sequenceNumber)!;
    expect([next.state, next.durationMs]).toEqual(['playing', 1500]);
    // The next batch replaced it: one standby at a time, again past everything sent.
    expect(d.held.length).toBeGreaterThan(1);
    expect(d.live()).toHaveLength(1);
    const second = d.live()[0]!.beacon;
    expect(second.events.map((e) => `${e.type}@${e.state}`)).toEqual(['viewend@paused']);
    const allSent = [...rec.samples(), ...rec.events()].map((i) => i.sequenceNumber);
    expect(Math.min(...d.seqsOf(second))).toBeGreaterThan(Math.max(...allSent));

    // pagehide sends the real end and leaves the browser nothing to send.
    c.unload();
    await vi.advanceTimersByTimeAsync(10);
    expect(types().at(-1)).toBe('viewend@paused');
    expect(d.live()).toHaveLength(0);
  });

  it('leaves no standby end without consent or when the view is not sampled', async () => {
    const d = deferredFetches();
    const c = make({ consent: false });
    c.playRequest();
    c.playing();
    await vi.advanceTimersByTimeAsync(3000);
    c.transport.flush();
    expect(d.held).toHaveLength(0);
    c.setConsent(true);
    c.pause();
    await vi.advanceTimersByTimeAsync(300);
    expect(d.live()).toHaveLength(1);
    c.setConsent(false);
    expect(d.live()).toHaveLength(0);
    const unsampled = make({ sampleRate: 0 });
    unsampled.playRequest();
    unsampled.playing();
    unsampled.pause();
    await vi.advanceTimersByTimeAsync(3000);
    expect(d.live()).toHaveLength(0);
  });

  it('a stall that never recovers becomes the fatal QOE_REBUFFER_TIMEOUT', async () => {
    const c = make({ rebufferTimeoutMs: 70_000, heartbeatMs: 10_000 });
    c.playRequest();
    c.playing();
    await vi.advanceTimersByTimeAsync(1000);
    c.waiting();
    await vi.advanceTimersByTimeAsync(70_000);
    await flushAll(c);
    const err = rec.events().find((e) => e.type === 'error')!;
    expect(err).toMatchObject({ errorCode: 'QOE_REBUFFER_TIMEOUT', errorFatal: true, state: 'error' });
    // Extra heartbeats at 3, 5, 10, 30 and 60 s of the stall split it, and the pieces add up.
    const stall = rec.samples().filter((s) => s.state === 'rebuffering');
    expect(stall.map((s) => s.durationMs)).toEqual([3000, 2000, 5000, 20_000, 30_000, 10_000]);
  });

  it('a start that shows no frame becomes the fatal QOE_STARTUP_TIMEOUT', async () => {
    const c = make({ startupTimeoutMs: 5000 });
    c.playRequest();
    await vi.advanceTimersByTimeAsync(5000);
    await flushAll(c);
    expect(rec.events().at(-1)).toMatchObject({
      type: 'error',
      errorCode: 'QOE_STARTUP_TIMEOUT',
      errorFatal: true,
    });
  });

  it('autoplay refused by the browser waits for the viewer instead of timing out', async () => {
    const c = make({ startupTimeoutMs: 5000 });
    c.playRequest();
    c.playBlocked();
    await vi.advanceTimersByTimeAsync(10_000);
    c.unload();
    await vi.advanceTimersByTimeAsync(10);
    expect(rec.events().some((e) => e.type === 'error')).toBe(false);
    expect(types().at(-1)).toBe('viewend@ebvs');
  });

  it('heartbeats close the playing interval every heartbeatMs', async () => {
    const c = make({ heartbeatMs: 1000 });
    c.playRequest();
    c.playing();
    await vi.advanceTimersByTimeAsync(3500);
    c.pause();
    await flushAll(c);
    expect(states().filter(([s]) => s === 'playing')).toEqual([
      ['playing', 1000],
      ['playing', 1000],
      ['playing', 1000],
      ['playing', 500],
    ]);
  });

  it('caps identical errors at 5 in a row and quality changes at 50 per hour', async () => {
    const c = make();
    c.playRequest();
    c.playing();
    for (let i = 0; i < 8; i++) c.error(3, 'decode', false);
    c.error(4, 'other', false);
    for (let i = 1; i <= 60; i++) c.setRendition({ bitrateBps: 100_000 * i, width: 100 + i, height: 100 });
    c.destroy();
    await flushAll(c);
    expect(rec.events().filter((e) => e.type === 'error')).toHaveLength(6);
    // The first rendition is the starting point, not a change.
    expect(rec.events().filter((e) => e.type === 'qualitychange')).toHaveLength(50);
  });

  it('a source change ends the view and starts another; a bare loadstart is not one', async () => {
    const c = make();
    c.playRequest();
    c.playing();
    const first = c.viewId;
    c.sourceChange();
    c.playRequest();
    c.playing();
    c.destroy();
    await flushAll(c);
    expect(c.viewId).not.toBe(first);
    const old = rec.events().filter((e) => e.viewId === first);
    expect(old.at(-1)!.type).toBe('sourcechange');
    const next = rec.beacons.flatMap((b) => b.events).filter((e) => e.viewId === c.viewId);
    expect(next.map((e) => e.sequenceNumber)[0]).toBe(0);
    expect(next.map((e) => e.type)).toContain('firstframe');
  });

  it('sends nothing without consent, and starts when consent is given after init', async () => {
    const c = make({ consent: false });
    c.playRequest();
    c.playing();
    await flushAll(c);
    expect(rec.bodies).toHaveLength(0);
    c.setConsent(true);
    c.pause();
    c.destroy();
    await flushAll(c);
    expect(types()).toEqual(['pause@paused', 'viewend@paused']);
  });

  it('sampleRate 0 sends nothing; update() changes data mid-view', async () => {
    const none = make({ sampleRate: 0 });
    none.playRequest();
    none.destroy();
    await flushAll(none);
    expect(rec.bodies).toHaveLength(0);
    const c = make();
    c.playRequest();
    c.playing();
    await vi.advanceTimersByTimeAsync(100);
    c.update({ videoTitle: 'Renamed', customData3: 'x' });
    await vi.advanceTimersByTimeAsync(100);
    c.destroy();
    await flushAll(c);
    const playing = rec.samples().filter((s) => s.state === 'playing');
    expect(playing.map((s) => [s.videoTitle, s.customData3])).toEqual([
      ['Title', ''],
      ['Renamed', 'x'],
    ]);
    expect(types()).toContain('customdatachange@playing');
  });

  it('never throws into the page when the player probe fails', async () => {
    const c = make();
    c.probe.playheadMs = () => {
      throw new Error('player gone');
    };
    expect(() => {
      c.playRequest();
      c.playing();
      c.destroy();
    }).not.toThrow();
    await flushAll(c);
    expect(rec.samples().length).toBeGreaterThan(0);
    expect(c.transport.stats.collectorErrors).toBeGreaterThan(0);
  });

  it('a measured bitrate (WebRTC) moving is not a rendition change; a new frame size is', async () => {
    const c = make();
    c.playRequest();
    c.playing();
    c.setRendition({ bitrateBps: 500_000, width: 320, height: 240 }, true);
    c.setRendition({ bitrateBps: 610_000, width: 320, height: 240 }, true);
    c.setRendition({ bitrateBps: 480_000, width: 320, height: 240 }, true);
    c.setRendition({ bitrateBps: 900_000, width: 640, height: 480 }, true);
    c.destroy();
    await flushAll(c);
    expect(
      rec
        .events()
        .filter((e) => e.type === 'qualitychange')
        .map((e) => e.videoWidth),
    ).toEqual([640]);
  });

  it('respects Do-Not-Track when asked to', async () => {
    vi.stubGlobal('navigator', { doNotTrack: '1' });
    try {
      const c = make({ respectDoNotTrack: true });
      c.playRequest();
      c.playing();
      c.destroy();
      await flushAll(c);
      expect(rec.bodies).toHaveLength(0);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
