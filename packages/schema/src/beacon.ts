/**
 * The native beacon: what the browser collector sends to `POST /v1/beacon`.
 *
 * One TypeBox definition gives the JSON schema (served in the OpenAPI docs),
 * the TypeScript types and the compiled runtime validator. Every sample has
 * the same fields every time (fields that do not apply are 0 or ""), so a
 * wrong or missing field is always a client bug and is refused by name.
 */
import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox';

/**
 * Bumped only on an incompatible change; the intake refuses other versions. A
 * new optional field (videoDurationMs) is compatible: beacons of older
 * collectors, which lack it, stay valid version 1 beacons.
 */
export const SCHEMA_VERSION = 1;

/** Bounds that keep one beacon cheap to validate and store. */
export const BEACON_LIMITS = {
  maxSamples: 1000,
  maxEvents: 1000,
  idMaxLength: 128,
  shortTextMaxLength: 256,
  textMaxLength: 1024,
  urlMaxLength: 2048,
  customDataFields: 10,
  /** 2^31 − 1: the store keeps sequence numbers as 32-bit integers. */
  maxSequenceNumber: 2_147_483_647,
  /** Epoch ms before year 2286; anything larger is a unit mistake (µs or ns). */
  maxEpochMs: 9_999_999_999_999,
  /** One interval never spans more than a day. */
  maxIntervalMs: 86_400_000,
  maxBitrateBps: 1_000_000_000_000,
  maxPixels: 100_000,
  /** A year: a longer content duration is a unit mistake (µs). */
  maxContentDurationMs: 31_536_000_000,
  /**
   * A playhead position: not bounded by a day (a 24/7 live stream runs for months), but by the
   * epoch bound, because live DASH players report media time since availabilityStartTime, which
   * may be 1970. A larger value (1e308) is a unit mistake and refused.
   */
  maxPositionMs: 9_999_999_999_999,
} as const;

export const PLAYER_STATES = [
  'setup',
  'ready',
  'startup',
  'playing',
  'paused',
  'seeking',
  'rebuffering',
  'error',
  'ended',
  'ebvs',
  'ad',
] as const;
export type PlayerState = (typeof PLAYER_STATES)[number];

export const EVENT_TYPES = [
  'viewstart',
  'playrequest',
  'playerready',
  'firstframe',
  'play',
  'pause',
  'seekstart',
  'seekend',
  'rebufferstart',
  'rebufferend',
  'error',
  'ended',
  'viewend',
  'sourcechange',
  'qualitychange',
  'audiochange',
  'subtitlechange',
  'customdatachange',
  'adstart',
  'adend',
] as const;
export type PlayerEventType = (typeof EVENT_TYPES)[number];

export const STREAM_TYPES = ['', 'vod', 'live'] as const;
export const STREAM_FORMATS = ['', 'hls', 'dash', 'progressive', 'webrtc', 'other'] as const;

const L = BEACON_LIMITS;
/** A union of string literals whose static type stays the literal union (not `string`). */
const union = <T extends readonly string[]>(values: T) =>
  Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<TLiteral<T[number]>[]>;
const id = (description: string) => Type.String({ minLength: 1, maxLength: L.idMaxLength, description });
const optionalId = (description: string) => Type.String({ maxLength: L.idMaxLength, description });
const text = (description: string, maxLength: number = L.textMaxLength) =>
  Type.String({ maxLength, description });
const epochMs = (description: string) => Type.Number({ minimum: 0, maximum: L.maxEpochMs, description });
const durationMs = (description: string) =>
  Type.Number({ minimum: 0, maximum: L.maxIntervalMs, description });
const position = (description: string) => Type.Number({ minimum: 0, maximum: L.maxPositionMs, description });
const count = (description: string) => Type.Integer({ minimum: 0, maximum: 1_000_000_000, description });
const pixels = (description: string) => Type.Integer({ minimum: 0, maximum: L.maxPixels, description });
const bitrate = (description: string) => Type.Number({ minimum: 0, maximum: L.maxBitrateBps, description });
const bytes = (description: string) =>
  Type.Number({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

/** Fields every sample and every event carries. */
const envelopeFields = {
  viewId: id('Unique id of the view (UUID recommended)'),
  sequenceNumber: Type.Integer({
    minimum: 0,
    maximum: L.maxSequenceNumber,
    description: 'Per view, from 0, shared by samples and events; (viewId, sequenceNumber) is unique',
  }),
  viewerTime: epochMs('Device clock when the sample/event was created, epoch ms'),
  state: union(PLAYER_STATES),
};

const custom = (i: number) => text(`Custom dimension ${i}`, L.shortTextMaxLength);
/** Written out so the TypeScript type names each field. */
const customData = {
  customData1: custom(1),
  customData2: custom(2),
  customData3: custom(3),
  customData4: custom(4),
  customData5: custom(5),
  customData6: custom(6),
  customData7: custom(7),
  customData8: custom(8),
  customData9: custom(9),
  customData10: custom(10),
};

export const SampleSchema = Type.Object(
  {
    ...envelopeFields,
    viewerId: optionalId('Stable per browser unless disabled; "" when disabled'),
    sessionId: optionalId('Browsing session (25 min sliding); "" when disabled'),
    playerInstanceId: optionalId('Player instance on the page'),

    timestamp: epochMs('Interval start, device clock, epoch ms'),
    durationMs: durationMs('Interval length'),
    playedMs: durationMs('Time spent playing in this interval'),
    pausedMs: durationMs('Time spent paused in this interval'),
    bufferedMs: durationMs('Time spent rebuffering in this interval'),
    seekedMs: durationMs('Time spent seeking in this interval'),
    startupMs: durationMs('Time spent starting up in this interval'),
    videoTimeStartMs: position('Playhead at interval start'),
    videoTimeEndMs: position('Playhead at interval end'),
    // Optional, unlike the rest: added after version 1, so beacons without it stay valid (docs/beacon-format.md).
    videoDurationMs: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: L.maxContentDurationMs,
        description:
          'Content duration (VOD), ms; omitted or 0 when unknown or live. Gives completion (docs/metrics.md)',
      }),
    ),

    videoBitrateBps: bitrate('Indicated bitrate of the video rendition playing'),
    videoWidth: pixels('Rendition width'),
    videoHeight: pixels('Rendition height'),
    videoCodec: text('Video codec', L.shortTextMaxLength),
    audioBitrateBps: bitrate('Indicated audio bitrate'),
    audioCodec: text('Audio codec', L.shortTextMaxLength),
    playerWidth: pixels('Player element width in CSS pixels × devicePixelRatio'),
    playerHeight: pixels('Player element height in CSS pixels × devicePixelRatio'),

    pageLoadTimeMs: durationMs('Navigation start → player initialised (first view on a page only)'),
    playerStartupTimeMs: durationMs('Player initialised → ready'),
    videoStartupTimeMs: durationMs('Play requested → first frame (startup samples only)'),

    videoId: optionalId('Your id of the video'),
    videoTitle: text('Title of the video'),
    assetId: optionalId('Asset id'),
    playbackId: optionalId('Playback id'),
    liveStreamId: optionalId('Live stream id'),
    streamType: union(STREAM_TYPES),
    streamFormat: union(STREAM_FORMATS),
    cdnHost: text('CDN host serving the media (from response headers)', L.shortTextMaxLength),
    cdnProvider: text('CDN provider name set by the site', L.shortTextMaxLength),
    playerName: text('Name given to the player by the site', L.shortTextMaxLength),
    playerSoftware: text(
      'Player software (html5, hls.js, dash.js, shaka, video.js, webrtc)',
      L.shortTextMaxLength,
    ),
    playerVersion: text('Player software version', L.shortTextMaxLength),
    pageUrl: text('Page URL', L.urlMaxLength),
    subPropertyId: optionalId('Sub property (site section, app)'),
    experimentName: text('A/B experiment name', L.shortTextMaxLength),
    viewerUserId: optionalId('Your id of the viewer; avoid PII'),
    sdkName: text('Collector name', L.shortTextMaxLength),
    sdkVersion: text('Collector version', L.shortTextMaxLength),
    ...customData,

    requestCount: count('Media requests completed in this interval'),
    requestFailedCount: count('Media requests failed in this interval'),
    requestBytes: bytes('Bytes received by media requests in this interval'),
    requestTtfbTotalMs: durationMs('Sum of time to first byte of the requests'),
    requestTtfbCount: Type.Optional(
      count(
        'Requests in requestTtfbTotalMs: the completed ones whose first byte is known (a cross-origin response without Timing-Allow-Origin has none); all of requestCount when absent',
      ),
    ),
    requestTransferTotalMs: durationMs('Sum of transfer durations of the requests'),
    droppedFrames: count('Frames dropped in this interval (getVideoPlaybackQuality)'),
    liveLatencyMs: durationMs('Wall clock − program date time of the playhead; 0 if unknown'),
    // WebRTC receive statistics (RTCPeerConnection.getStats) as of the interval's last poll; 0 for other sources.
    framesPerSecond: Type.Number({
      minimum: 0,
      maximum: 1000,
      description: 'WebRTC: frames per second decoded (inbound video); 0 if unknown or not WebRTC',
    }),
    jitterMs: Type.Number({
      minimum: 0,
      maximum: L.maxIntervalMs,
      description:
        'WebRTC: inbound RTP jitter, ms (the larger of audio and video); 0 if unknown or not WebRTC',
    }),
    packetsLost: count(
      'WebRTC: packets lost since the connection began (audio + video), as of the last stats; 0 if unknown or not WebRTC',
    ),
    packetLossRatio: Type.Number({
      minimum: 0,
      maximum: 1,
      description:
        'WebRTC: packets lost ÷ (lost + received) between the last two stats polls, 0–1; 0 if unknown or not WebRTC',
    }),
    roundTripTimeMs: Type.Number({
      minimum: 0,
      maximum: L.maxIntervalMs,
      description:
        'WebRTC: current round-trip time of the selected candidate pair, ms; 0 if unknown or not WebRTC',
    }),
  },
  { additionalProperties: false, $id: 'Sample', description: 'One closed interval of one player state' },
);

export const PlayerEventSchema = Type.Object(
  {
    ...envelopeFields,
    type: union(EVENT_TYPES),
    playheadMs: position('Playhead when the event happened'),
    errorCode: text(
      'Error code (player-specific or QOE_REBUFFER_TIMEOUT); "" if not an error',
      L.shortTextMaxLength,
    ),
    errorMessage: text('Error message; "" if not an error'),
    errorFatal: Type.Boolean({ description: 'A fatal error ends playback' }),
    errorBusiness: Type.Boolean({
      description: 'Business exception (geo block, entitlement): counted apart',
    }),
    videoBitrateBps: bitrate('For qualitychange: the new rendition bitrate; else 0'),
    videoWidth: pixels('For qualitychange: the new rendition width; else 0'),
    videoHeight: pixels('For qualitychange: the new rendition height; else 0'),
    detail: text('Free-form context, e.g. the player error detail'),
  },
  { additionalProperties: false, $id: 'PlayerEvent', description: 'A discrete player event' },
);

export const BeaconSchema = Type.Object(
  {
    envKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Environment key; or ?env_key= in the URL' }),
    ),
    schemaVersion: Type.Literal(SCHEMA_VERSION),
    sentAt: epochMs('Device clock at transmission, epoch ms; gives the clock offset'),
    samples: Type.Array(SampleSchema, { maxItems: L.maxSamples }),
    events: Type.Array(PlayerEventSchema, { maxItems: L.maxEvents }),
  },
  { additionalProperties: false, $id: 'Beacon', description: 'A batch of samples and events' },
);

export type Sample = Static<typeof SampleSchema>;
export type PlayerEvent = Static<typeof PlayerEventSchema>;
export type Beacon = Static<typeof BeaconSchema>;
