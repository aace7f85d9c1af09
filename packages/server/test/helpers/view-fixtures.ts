/**
 * Fixtures for tests that build stored view rows from a view model in code:
 * one desktop client in Germany and segment facts with nothing measured.
 */
import type { SegmentFacts } from '../../src/pipeline/view-model/view-machine.js';

export const client = {
  browser: 'Chrome',
  browserVersion: '156',
  os: 'Windows',
  osVersion: '11',
  deviceCategory: 'desktop' as const,
  deviceBrand: '',
  deviceModel: '',
  country: 'DE',
  region: 'BE',
  city: 'Berlin',
  asn: 64496,
  asOrg: 'Example',
  ip: '192.0.2.0',
};

export const zeroFacts: SegmentFacts = {
  videoBitrateBps: 0,
  videoWidth: 0,
  videoHeight: 0,
  playerWidth: 0,
  playerHeight: 0,
  droppedFrames: 0,
  liveLatencyMs: 0,
  requestCount: 0,
  requestFailedCount: 0,
  requestBytes: 0,
  requestTtfbTotalMs: 0,
  requestTransferTotalMs: 0,
  playerStartupTimeMs: 0,
  pageLoadTimeMs: 0,
  videoTimeEndMs: 0,
  streamType: '',
  framesPerSecond: 0,
  jitterMs: 0,
  packetsLost: 0,
  packetLossRatio: 0,
  roundTripTimeMs: 0,
};

/** Playing at 2 Mbps, 1280×720, in a player of that size. */
export const playing720p: SegmentFacts = {
  ...zeroFacts,
  videoBitrateBps: 2_000_000,
  videoWidth: 1280,
  videoHeight: 720,
  playerWidth: 1280,
  playerHeight: 720,
};
