/**
 * The WebRTC source's mapping of `getStats()` reports to sample fields, with
 * scripted reports standing in for the browser's (the loopback e2e test runs
 * the real thing). Expected values are worked out by hand from the script.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { webrtc } from '../src/adapters/webrtc.js';
import { Collector } from '../src/index.js';
import { type Recorder, recorder } from './helpers.js';

type Report = Record<string, string | number | boolean>;

/** Cumulative counters of one poll, as Chromium reports them (times in seconds). */
const poll = (o: {
  videoLost: number;
  videoReceived: number;
  audioLost: number;
  audioReceived: number;
  fps: number;
  videoJitterS: number;
  audioJitterS: number;
  rttS: number;
}): Report[] => [
  {
    type: 'inbound-rtp',
    kind: 'video',
    bytesReceived: o.videoReceived * 1000,
    packetsLost: o.videoLost,
    packetsReceived: o.videoReceived,
    framesPerSecond: o.fps,
    frameWidth: 320,
    frameHeight: 240,
    framesDropped: 0,
    jitter: o.videoJitterS,
  },
  {
    type: 'inbound-rtp',
    kind: 'audio',
    bytesReceived: o.audioReceived * 100,
    packetsLost: o.audioLost,
    packetsReceived: o.audioReceived,
    jitter: o.audioJitterS,
  },
  { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: o.rttS },
  // A pair that is not in use: its RTT must not be taken.
  { type: 'candidate-pair', nominated: false, state: 'failed', currentRoundTripTime: 9 },
];

const zeroes = { videoLost: 0, videoReceived: 0, audioLost: 0, audioReceived: 0 };
const SCRIPT: Report[][] = [
  // First poll: only the baseline for rates and the loss ratio.
  poll({ ...zeroes, fps: 0, videoJitterS: 0, audioJitterS: 0, rttS: 0 }),
  // Lost 3 + 1 of 300 + 100 sent: ratio 4 ÷ 400 = 0.01; jitter max(12, 4) ms; RTT 25 ms.
  poll({
    videoLost: 3,
    videoReceived: 297,
    audioLost: 1,
    audioReceived: 99,
    fps: 30,
    videoJitterS: 0.012,
    audioJitterS: 0.004,
    rttS: 0.025,
  }),
  // Nothing new lost, 400 more received: ratio 0; the running loss total stays 4.
  poll({
    videoLost: 3,
    videoReceived: 597,
    audioLost: 1,
    audioReceived: 199,
    fps: 25,
    videoJitterS: 0.02,
    audioJitterS: 0.03,
    rttS: 0.031,
  }),
];

let rec: Recorder;
beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
  rec = recorder();
});
afterEach(() => {
  vi.useRealTimers();
  expect(rec.invalid).toEqual([]);
});

describe('WebRTC source', () => {
  it('puts fps, jitter (ms), packets lost, the interval loss ratio and RTT (ms) into the samples', async () => {
    let n = 0;
    const peerConnection = {
      connectionState: 'connected',
      getStats: async () => SCRIPT[Math.min(n++, SCRIPT.length - 1)] ?? [],
    };
    const core = new Collector({
      beaconUrl: 'http://intake/v1/beacon',
      envKey: 'env-key',
      flushIntervalMs: 100,
      send: rec.send,
      data: {},
    });
    const detach = webrtc.attach(core, { peerConnection, intervalMs: 1000 }, {} as never);
    await vi.advanceTimersByTimeAsync(2000); // polls at 0, 1000 and 2000 ms
    core.destroy();
    detach();
    core.transport.flush();
    await vi.advanceTimersByTimeAsync(200);

    const samples = rec.samples();
    const rtc = (s: (typeof samples)[number]) => [
      s.framesPerSecond,
      s.jitterMs,
      s.packetsLost,
      s.packetLossRatio,
      s.roundTripTimeMs,
    ];
    expect(samples.map((s) => [s.state, s.durationMs])).toEqual([
      ['setup', 0],
      ['ready', 1000],
      ['playing', 1000],
    ]);
    // Before any stats: zeros.
    expect(rtc(samples[0]!)).toEqual([0, 0, 0, 0, 0]);
    // The interval closed by the second poll (the connection is playing) carries that poll's figures.
    expect(rtc(samples[1]!)).toEqual([30, 12, 4, 0.01, 25]);
    // The playing interval ends at the third poll and carries its figures: jitter is the larger (audio) one.
    expect(rtc(samples[2]!)).toEqual([25, 30, 4, 0, 31]);
  });

  it('other players send zeros', async () => {
    const core = new Collector({
      beaconUrl: 'http://intake/v1/beacon',
      envKey: 'env-key',
      flushIntervalMs: 100,
      send: rec.send,
      data: {},
    });
    core.ready();
    core.playRequest();
    await vi.advanceTimersByTimeAsync(300);
    core.playing();
    await vi.advanceTimersByTimeAsync(700);
    core.destroy();
    core.transport.flush();
    await vi.advanceTimersByTimeAsync(200);
    const samples = rec.samples();
    expect(samples.length).toBeGreaterThanOrEqual(2);
    for (const s of samples)
      expect([s.framesPerSecond, s.jitterMs, s.packetsLost, s.packetLossRatio, s.roundTripTimeMs]).toEqual([
        0, 0, 0, 0, 0,
      ]);
  });
});
