/**
 * The collector's public types: what a site passes to `monitor()` and what
 * an adapter tells the core. The wire types come from `@openqoe/schema`
 * (type-only, so nothing of the schema package ends up in the bundle).
 */
import type { PlayerEvent, Sample } from '@openqoe/schema';

export type { PlayerEvent, Sample };
export type StreamType = Sample['streamType'];
export type StreamFormat = Sample['streamFormat'];

/** Identity and content fields a site sets at start and may update mid-view. */
export interface ViewData {
  videoId?: string;
  videoTitle?: string;
  assetId?: string;
  playbackId?: string;
  liveStreamId?: string;
  streamType?: StreamType;
  cdnProvider?: string;
  playerName?: string;
  subPropertyId?: string;
  experimentName?: string;
  viewerUserId?: string;
  customData1?: string;
  customData2?: string;
  customData3?: string;
  customData4?: string;
  customData5?: string;
  customData6?: string;
  customData7?: string;
  customData8?: string;
  customData9?: string;
  customData10?: string;
}

/** The answer of one beacon POST, as the transport needs it. */
export interface SendResult {
  status: number;
  /** Seconds from a `Retry-After` header, if any. */
  retryAfterS?: number;
}

export type SendFn = (url: string, body: string) => Promise<SendResult>;

export interface MonitorOptions {
  /** Full URL of the intake, e.g. `https://qoe.example.com/v1/beacon`. */
  beaconUrl: string;
  /** The environment key printed by `openqoe serve` on first start. */
  envKey: string;
  data?: ViewData;
  /** Interval heartbeat while starting, playing or rebuffering; keep it below the server's allowed lateness. */
  heartbeatMs?: number;
  /** How often queued samples are sent when nothing urgent happens. */
  flushIntervalMs?: number;
  /** A start that has not shown a frame after this long is a startup failure. */
  startupTimeoutMs?: number;
  /** A stall that has not recovered after this long is a playback failure `QOE_REBUFFER_TIMEOUT`. */
  rebufferTimeoutMs?: number;
  /** Fraction of views sent (0–1), decided once per view. */
  sampleRate?: number;
  /** No viewer or session id is kept in storage (both are sent as ""). */
  disableCookies?: boolean;
  /** Send nothing when the browser asks not to be tracked. */
  respectDoNotTrack?: boolean;
  /** Start without consent; `setConsent(true)` later starts sending. Default true. */
  consent?: boolean;
  /** When the player was created (epoch ms); default: when `monitor()` is called. */
  playerInitTimeMs?: number;
  /** Most samples and events kept while the intake is unreachable; the oldest are dropped beyond it. */
  maxQueue?: number;
  /** Replaces `fetch` (custom headers, tests). */
  send?: SendFn;
}

/** What the page can ask of a monitored player. */
export interface MonitorHandle {
  /** Changes view data mid-view (a `customdatachange`). */
  update(data: ViewData): void;
  /** Grants or withdraws consent; withdrawing drops anything not yet sent. */
  setConsent(granted: boolean): void;
  /** Sends what is queued now. */
  flush(): void;
  /** Ends the view (sent at once) and detaches from the player. */
  destroy(): void;
  /** The current view id. */
  readonly viewId: string;
  /** The collector's own counters: beacons sent, retried, dropped items. */
  stats(): TransportStats;
}

export interface TransportStats {
  beaconsSent: number;
  beaconsFailed: number;
  retries: number;
  itemsDropped: number;
  collectorErrors: number;
}

/** The current rendition, as the player reports it. */
export interface Rendition {
  bitrateBps?: number;
  width?: number;
  height?: number;
  codec?: string;
  audioBitrateBps?: number;
  audioCodec?: string;
}

/** One finished media request (segment or manifest). */
export interface MediaRequest {
  bytes: number;
  /** Undefined when unknown: such a request counts, but not in the mean time to first byte. */
  ttfbMs?: number | undefined;
  transferMs: number;
  failed?: boolean;
  /** Host serving the request: a CDN header value or the URL host. */
  cdnHost?: string;
}

/** What the core reads from the player when it closes an interval; O(1) each. */
export interface PlayerProbe {
  playheadMs(): number;
  playerSize(): [number, number];
  /** Total dropped frames since the element loaded (the core sends deltas). */
  droppedFrames(): number;
  /** Wall clock − program date time of the playhead, 0 if unknown. */
  liveLatencyMs(): number;
  /** The content's duration, 0 if unknown or not finite (live). */
  durationMs(): number;
}

/** A WebRTC source's receive statistics as of its last `getStats()` poll; 0 when unknown. */
export type RtcFigures = Pick<
  Sample,
  'framesPerSecond' | 'jitterMs' | 'packetsLost' | 'packetLossRatio' | 'roundTripTimeMs'
>;

/** Player software facts an adapter sets once. */
export interface PlayerContext {
  playerSoftware?: string;
  playerVersion?: string;
  streamFormat?: StreamFormat;
  streamType?: StreamType;
  cdnHost?: string;
}
