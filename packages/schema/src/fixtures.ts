/**
 * Complete, valid samples and events with every field set, for tests,
 * benchmarks and the synthetic generator. Override what matters to a case.
 */
import { type Beacon, type PlayerEvent, type Sample, SCHEMA_VERSION } from './beacon.js';

export function makeSample(overrides: Partial<Sample> = {}): Sample {
  const now = overrides.viewerTime ?? Date.now();
  return {
    viewId: 'view-1',
    sequenceNumber: 0,
    viewerTime: now,
    state: 'playing',
    viewerId: 'viewer-1',
    sessionId: 'session-1',
    playerInstanceId: 'player-1',
    timestamp: now - 10_000,
    durationMs: 10_000,
    playedMs: 10_000,
    pausedMs: 0,
    bufferedMs: 0,
    seekedMs: 0,
    startupMs: 0,
    videoTimeStartMs: 0,
    videoTimeEndMs: 10_000,
    videoBitrateBps: 2_500_000,
    videoWidth: 1280,
    videoHeight: 720,
    videoCodec: 'avc1.64001f',
    audioBitrateBps: 128_000,
    audioCodec: 'mp4a.40.2',
    playerWidth: 1280,
    playerHeight: 720,
    pageLoadTimeMs: 0,
    playerStartupTimeMs: 0,
    videoStartupTimeMs: 0,
    videoId: 'video-1',
    videoTitle: 'Big Buck Bunny',
    assetId: '',
    playbackId: '',
    liveStreamId: '',
    streamType: 'vod',
    streamFormat: 'hls',
    cdnHost: 'cdn.example.com',
    cdnProvider: 'example-cdn',
    playerName: 'main player',
    playerSoftware: 'hls.js',
    playerVersion: '1.6.0',
    pageUrl: 'https://www.example.com/watch/1',
    subPropertyId: '',
    experimentName: '',
    viewerUserId: '',
    sdkName: 'openqoe-collector',
    sdkVersion: '0.1.0',
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
    requestCount: 3,
    requestFailedCount: 0,
    requestBytes: 3_125_000,
    requestTtfbTotalMs: 120,
    requestTransferTotalMs: 900,
    droppedFrames: 0,
    liveLatencyMs: 0,
    framesPerSecond: 0,
    jitterMs: 0,
    packetsLost: 0,
    packetLossRatio: 0,
    roundTripTimeMs: 0,
    ...overrides,
  };
}

export function makeEvent(overrides: Partial<PlayerEvent> = {}): PlayerEvent {
  return {
    viewId: 'view-1',
    sequenceNumber: 0,
    viewerTime: Date.now(),
    state: 'playing',
    type: 'play',
    playheadMs: 0,
    errorCode: '',
    errorMessage: '',
    errorFatal: false,
    errorBusiness: false,
    videoBitrateBps: 0,
    videoWidth: 0,
    videoHeight: 0,
    detail: '',
    ...overrides,
  };
}

export function makeBeacon(overrides: Partial<Beacon> = {}): Beacon {
  return { schemaVersion: SCHEMA_VERSION, sentAt: Date.now(), samples: [], events: [], ...overrides };
}

/** A beacon of `count` consecutive samples of one view, starting at `firstSeq`. */
export function makeViewBeacon(
  envKey: string,
  viewId: string,
  firstSeq: number,
  count: number,
  nowMs = Date.now(),
): Beacon {
  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(
      makeSample({ viewId, sequenceNumber: firstSeq + i, viewerTime: nowMs - (count - i) * 1000 }),
    );
  }
  return makeBeacon({ envKey, sentAt: nowMs, samples });
}
